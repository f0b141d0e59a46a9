"""Notification-service through the gateway: the inbox of a newly opened case, and a signed webhook delivery
made by the running worker to a receiver this test starts on 127.0.0.1."""

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from scenario import eventually, office_headers, open_return_case
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from casebridge_common.testing.plugin import RESOURCES, bearer
from casebridge_common.testing.tokens import client_credentials_token, demo_client_secret

BERLIN = "de-berlin-system"


def notification_headers(issuer: str, scope: str) -> dict[str, str]:
    return bearer(
        client_credentials_token(
            issuer, BERLIN, demo_client_secret(BERLIN), resource=RESOURCES["notification-api"], scope=scope
        )
    )


def test_a_new_case_reaches_the_inbox_and_marking_it_read_lowers_the_unread_count(
    api: httpx.Client, oidc_issuer: str
) -> None:
    inbox = notification_headers(oidc_issuer, "inbox:read inbox:write")
    case = open_return_case(api, office_headers(oidc_issuer, BERLIN, "case-api"))

    def case_item() -> list[dict[str, Any]]:
        response = api.get("/v1/inbox", params={"case_id": case["id"], "kind": "case_opened"}, headers=inbox)
        assert response.status_code == 200, response.text
        return list(response.json()["items"])

    [item] = eventually(case_item, what="the case_opened inbox item")
    assert (item["office_id"], item["read_at"]) == ("de-berlin", None)
    before, cursor = _quiet_snapshot(api, inbox)

    etag = api.get(f"/v1/inbox/{item['id']}", headers=inbox).headers["ETag"]
    read = api.patch(f"/v1/inbox/{item['id']}", json={"read": True}, headers={**inbox, "If-Match": etag})
    assert read.status_code == 200, read.text
    # Other tests and jobs may add Berlin items meanwhile: the delta feed says exactly which arrived, as long as
    # nothing arrives between reading it and reading the counts (else read both again).
    changed, cursor = _drain(api, inbox, cursor)
    while True:
        after = api.get("/v1/inbox/unread-counts", headers=inbox).json()
        more, cursor = _drain(api, inbox, cursor)
        if not more:
            break
        changed += more
    latest = {c["id"]: c for c in changed}  # an item changed twice is in both reads
    arrived = [
        c for c in latest.values() if c["id"] != item["id"] and c["read_at"] is None and c["archived_at"] is None
    ]
    assert after["total"] == before["total"] - 1 + len(arrived)
    assert any(c["id"] == item["id"] and c["read_at"] is not None for c in changed)


def _quiet_snapshot(api: httpx.Client, headers: dict[str, str]) -> tuple[dict[str, Any], str]:
    """The unread counts with a delta cursor that matches them: nothing changed between the two reads."""
    _, cursor = _drain(api, headers, None)
    while True:
        counts = api.get("/v1/inbox/unread-counts", headers=headers).json()
        changed, after = _drain(api, headers, cursor)
        if not changed:
            return counts, after
        cursor = after


def _drain(api: httpx.Client, headers: dict[str, str], cursor: str | None) -> tuple[list[dict[str, Any]], str]:
    items: list[dict[str, Any]] = []
    while True:
        params: dict[str, str | int] = {"limit": 200} | ({"since": cursor} if cursor else {})
        page = api.get("/v1/inbox/changes", params=params, headers=headers).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return items, cursor


class Receiver:
    def __init__(self) -> None:
        self.bodies: list[tuple[dict[str, str], bytes]] = []

    async def endpoint(self, request: Request) -> Response:
        self.bodies.append((dict(request.headers), await request.body()))
        return Response(status_code=204)


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    hook = Receiver()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    app = Starlette(routes=[Route("/hooks", hook.endpoint, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    yield hook, f"http://127.0.0.1:{sock.getsockname()[1]}/hooks"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


def test_the_worker_delivers_a_signed_webhook_for_a_new_case(
    api: httpx.Client, oidc_issuer: str, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    subscriptions = notification_headers(oidc_issuer, "subscriptions:read subscriptions:write")
    created = api.post(
        "/v1/subscriptions",
        json={"event_types": ["casebridge.case.opened.v1"], "url": url, "description": "e2e receiver"},
        headers=subscriptions,
    )
    assert created.status_code == 201, created.text
    subscription, secret = created.json(), created.json()["secret"]
    try:
        case = open_return_case(api, office_headers(oidc_issuer, BERLIN, "case-api"))

        def delivered() -> list[tuple[dict[str, str], bytes]]:
            return [(h, b) for h, b in hook.bodies if json.loads(b)["data"]["case_id"] == case["id"]]

        [(headers, body)] = eventually(delivered, what="the webhook delivery")
        timestamp, signature = (p.split("=", 1)[1] for p in headers["casebridge-signature"].split(","))
        expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(signature, expected)
        assert abs(time.time() - int(timestamp)) < 300
        assert headers["idempotency-key"] == json.loads(body)["id"]

        def succeeded() -> list[dict[str, Any]]:
            page = api.get(
                f"/v1/subscriptions/{subscription['id']}/deliveries",
                params={"status": "succeeded"},
                headers=subscriptions,
            )
            return [d for d in page.json()["items"] if d["event_id"] == headers["idempotency-key"]]

        assert eventually(succeeded, what="the delivery to be recorded")[0]["attempts"] == 1
    finally:
        api.delete(f"/v1/subscriptions/{subscription['id']}", headers=subscriptions)


def test_templates_are_reachable_through_the_gateway_and_a_broken_one_is_refused(
    api: httpx.Client, oidc_issuer: str
) -> None:
    headers = notification_headers(oidc_issuer, "inbox:read inbox:write")
    url = "/v1/inbox/templates/survey_due/ar"
    before = api.get(url, headers=headers)
    assert before.status_code == 200, before.text
    assert "due_on" in before.json()["placeholders"]
    broken = api.put(
        url,
        json={"subject": "{{ due_on", "text": "ok"},
        headers={**headers, "If-Match": before.headers["ETag"]},
    )
    assert (broken.status_code, broken.json()["code"]) == (422, "template-syntax-error")
    assert api.get(url, headers=headers).headers["ETag"] == before.headers["ETag"]
