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
    # Other tests and jobs add Berlin items meanwhile. The delta feed tells every item's state, so the counts
    # must equal the unread items it shows, at a moment nothing changed between reading the two.
    state: dict[str, dict[str, Any]] = {}
    cursor = _quiet_counts(api, inbox, state, None)
    assert _is_unread(state[item["id"]])

    etag = api.get(f"/v1/inbox/{item['id']}", headers=inbox).headers["ETag"]
    read = api.patch(f"/v1/inbox/{item['id']}", json={"read": True}, headers={**inbox, "If-Match": etag})
    assert read.status_code == 200, read.text
    _quiet_counts(api, inbox, state, cursor)
    assert state[item["id"]]["read_at"] is not None  # and the counts no longer count it


def _is_unread(item: dict[str, Any]) -> bool:
    return item["read_at"] is None and item["archived_at"] is None


def _quiet_counts(
    api: httpx.Client, headers: dict[str, str], state: dict[str, dict[str, Any]], cursor: str | None
) -> str:
    """Bring `state` (item id → the item as the delta feed last showed it) up to date from `cursor`, and check
    the unread counts against it: read both again until nothing changed between them. Returns the new cursor."""
    for _ in range(30):
        changed, cursor = _drain(api, headers, cursor)
        state.update((c["id"], c) for c in changed)
        counts = api.get("/v1/inbox/unread-counts", headers=headers).json()
        changed, cursor = _drain(api, headers, cursor)
        state.update((c["id"], c) for c in changed)
        if not changed:
            unread = [c for c in state.values() if _is_unread(c)]
            assert counts["total"] == len(unread)
            assert counts["by_kind"].get("case_opened", 0) == sum(c["kind"] == "case_opened" for c in unread)
            return cursor
        time.sleep(0.2)  # let a busy worker finish what it is writing
    raise AssertionError("the inbox kept changing between reading its counts and its delta feed")


def _drain(api: httpx.Client, headers: dict[str, str], cursor: str | None) -> tuple[list[dict[str, Any]], str]:
    items: list[dict[str, Any]] = []
    for _ in range(1000):  # a cap of 200 000 items: far more than a test stack's inbox holds
        params: dict[str, str | int] = {"limit": 200} | ({"since": cursor} if cursor else {})
        page = api.get("/v1/inbox/changes", params=params, headers=headers).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return items, cursor
    raise AssertionError("the inbox's delta feed did not end")


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
