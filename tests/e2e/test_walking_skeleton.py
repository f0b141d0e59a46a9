"""One case opened in Berlin reaches scoring-service and notification-service over Kafka."""

import asyncio
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from scenario import eventually, inbox_items_for, office_headers, open_return_case

from casebridge_common.testing.plugin import bearer
from casebridge_common.testing.tokens import authorization_code_token

CASE_TOPIC = "casebridge.case.events.v1"


def test_case_opened_reaches_scoring_and_notification_only_for_the_owning_office(
    api: httpx.Client, oidc_issuer: str
) -> None:
    case = open_return_case(api, office_headers(oidc_issuer, "de-berlin-system", "case-api"))
    scoring = office_headers(oidc_issuer, "de-berlin-system", "scoring-api")
    inbox = office_headers(oidc_issuer, "de-berlin-system", "notification-api")

    def baseline() -> list[dict[str, Any]]:
        response = api.get("/v1/surveys/schedules", params={"case_id": case["id"]}, headers=scoring)
        assert response.status_code == 200, response.text
        return list(response.json())

    schedules = eventually(baseline, what="the baseline survey to be scheduled")
    assert [(s["administration"], s["instrument"], s["status"]) for s in schedules] == [("baseline", "rss", "due")]

    def case_opened_items() -> list[dict[str, Any]]:
        return [i for i in inbox_items_for(api, inbox, case["id"]) if i["kind"] == "case_opened"]

    items = eventually(case_opened_items, what="the case-opened inbox item")
    assert [i["office_id"] for i in items] == ["de-berlin"]

    erbil_inbox = office_headers(oidc_issuer, "iq-erbil-system", "notification-api")
    erbil_scoring = office_headers(oidc_issuer, "iq-erbil-system", "scoring-api")
    assert inbox_items_for(api, erbil_inbox, case["id"]) == []
    assert api.get("/v1/surveys/schedules", params={"case_id": case["id"]}, headers=erbil_scoring).json() == []
    erbil_case = api.get(f"/v1/cases/{case['id']}", headers=office_headers(oidc_issuer, "iq-erbil-system", "case-api"))
    assert (erbil_case.status_code, erbil_case.json()["code"]) == (404, "case-not-found")


async def _partitions(kafka_bootstrap: str, topic: str) -> list[int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        (description,) = await admin.describe_topics([topic])
        return [int(p["partition"]) for p in description["partitions"]]
    finally:
        await admin.close()


async def _open_case_and_read_its_events(kafka_bootstrap: str, open_case: Callable[[], dict[str, Any]]) -> list[Any]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka_bootstrap, group_id=f"e2e-{uuid.uuid4().hex[:8]}", enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(CASE_TOPIC, p) for p in await _partitions(kafka_bootstrap, CASE_TOPIC)]
        assert partitions, f"{CASE_TOPIC} has no partitions: were the topics created?"
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        for partition in partitions:
            await consumer.position(partition)  # resolve "end" now, before the case exists
        case = await asyncio.to_thread(open_case)
        found: list[Any] = []
        async with asyncio.timeout(60):
            while not found:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    found += [r for r in records if r.key == str(case["id"]).encode()]
        return [case, found]
    finally:
        await consumer.stop()


def test_case_opened_is_a_cloudevent_keyed_by_the_case_id(
    api: httpx.Client, oidc_issuer: str, kafka_bootstrap: str
) -> None:
    headers = office_headers(oidc_issuer, "de-berlin-system", "case-api")
    case, records = asyncio.run(_open_case_and_read_its_events(kafka_bootstrap, lambda: open_return_case(api, headers)))
    assert len(records) == 1
    envelope = json.loads(records[0].value)
    assert dict(records[0].headers)["content-type"] == b"application/cloudevents+json"
    assert (envelope["specversion"], envelope["type"], envelope["source"], envelope["subject"]) == (
        "1.0",
        "casebridge.case.opened.v1",
        "/casebridge/case-service",
        case["id"],
    )
    assert envelope["data"]["owner_office_id"] == "de-berlin"
    assert "Mamadou" not in records[0].value.decode()  # events carry identifiers, not personal data
    assert uuid.UUID(envelope["id"])


def test_a_field_worker_signs_in_on_mobile_with_pkce_and_sees_the_office_caseload(
    api: httpx.Client, oidc_issuer: str
) -> None:
    case = open_return_case(api, office_headers(oidc_issuer, "de-berlin-system", "case-api"))
    user_token = authorization_code_token(
        oidc_issuer, "anna.schmidt", resource="urn:casebridge:case-api", scope="cases:read"
    )
    response = api.get(f"/v1/cases/{case['id']}", headers=bearer(user_token))
    assert response.status_code == 200, response.text
    assert response.json()["owner_office_id"] == "de-berlin"


def test_the_gateway_routes_by_prefix_and_answers_unknown_paths_with_problem_json(
    api: httpx.Client, oidc_issuer: str
) -> None:
    offices = api.get(
        "/v1/directory/offices",
        params={"country": "DE"},
        headers=office_headers(oidc_issuer, "de-berlin-system", "referral-api"),
    )
    assert offices.status_code == 200, offices.text
    assert [o["id"] for o in offices.json()["items"]] == ["de-berlin"]
    unknown = api.get("/v2/anything")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    assert unknown.json()["code"] == "route-not-found"


Answer = tuple[int, dict[str, str], bytes]


async def _burst(gateway_url: str, token: str, n: int, connections: int = 10) -> list[Answer]:
    """`n` requests for one client, pipelined over a few keep-alive connections: they reach the gateway as fast as
    it reads them, so the flood does not depend on how fast this machine's HTTP client is."""
    url = httpx.URL(gateway_url)
    port = url.port or 80
    request = f"GET /v1/cases HTTP/1.1\r\nHost: {url.host}:{port}\r\nAuthorization: Bearer {token}\r\n\r\n".encode()

    async def pipelined(count: int) -> list[Answer]:
        reader, writer = await asyncio.open_connection(url.host, port)
        writer.write(request * count)
        await writer.drain()
        answers = []
        for _ in range(count):
            status = int((await reader.readline()).split()[1])
            headers: dict[str, str] = {}
            while (line := await reader.readline()) not in {b"\r\n", b""}:
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            answers.append((status, headers, await reader.readexactly(int(headers.get("content-length", "0")))))
        writer.close()
        await writer.wait_closed()
        return answers

    batches = await asyncio.gather(*(pipelined(n // connections) for _ in range(connections)))
    return [answer for batch in batches for answer in batch]


def test_a_client_that_floods_the_gateway_is_rate_limited_with_problem_json(gateway_url: str) -> None:
    responses = asyncio.run(_burst(gateway_url, f"flood-{uuid.uuid4()}", 1000))
    statuses = {status for status, _, _ in responses}
    limited = [(headers, body) for status, headers, body in responses if status == 429]
    assert limited, f"no 429 among {sorted(statuses)}"
    headers, body = limited[0]
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["code"] == "rate-limited"
    assert headers["retry-after"] == "1"
    assert statuses <= {401, 429}
