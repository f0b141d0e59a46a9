import uuid
from datetime import UTC, datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casebridge_common.events.contracts.case import CaseOpened, Programme
from casebridge_common.events.envelope import CloudEvent
from casebridge_common.testing.plugin import TokenFor, bearer
from notification_service.consumers.events import on_event
from notification_service.unit_of_work import NotificationUnitOfWork

Sessions = async_sessionmaker[AsyncSession]
RW = "subscriptions:read subscriptions:write"
BODY = {"event_types": [CaseOpened.type], "url": "https://berlin.example/hooks", "description": "Berlin CMS"}


def who(token: TokenFor, client_id: str = "de-berlin-system", scope: str = RW) -> dict[str, str]:
    return bearer(token(client_id, "notification-api", scope))


async def case_opened(seeded: Sessions) -> str:
    event = CloudEvent.wrap(
        CaseOpened(
            case_id=uuid.uuid4(),
            case_version=1,
            beneficiary_id=uuid.uuid4(),
            programme=Programme.RETURN_REINTEGRATION,
            owner_office_id="de-berlin",
            owner_organisation_id="iom-germany",
            opened_at=datetime.now(UTC),
        ),
        source="/casebridge/case-service",
    )
    await on_event(event, NotificationUnitOfWork(seeded))
    return event.id


async def test_the_secret_is_returned_once_and_never_listed(client: httpx.AsyncClient, token: TokenFor) -> None:
    created = await client.post("/v1/subscriptions", json=BODY, headers=who(token))
    assert created.status_code == 201, created.text
    assert created.json()["secret"].startswith("whsec_")
    assert created.json()["status"] == "active"
    one = await client.get(f"/v1/subscriptions/{created.json()['id']}", headers=who(token))
    assert one.status_code == 200
    assert "secret" not in one.json()
    assert one.headers["ETag"] == '"1"'
    listed = await client.get("/v1/subscriptions", headers=who(token))
    assert [s["id"] for s in listed.json()["items"]] == [created.json()["id"]]
    assert "secret" not in listed.json()["items"][0]


async def test_an_idempotency_key_replays_the_first_answer(client: httpx.AsyncClient, token: TokenFor) -> None:
    headers = {**who(token), "Idempotency-Key": f"sub-{uuid.uuid4()}"}
    first = await client.post("/v1/subscriptions", json=BODY, headers=headers)
    again = await client.post("/v1/subscriptions", json=BODY, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert len((await client.get("/v1/subscriptions", headers=who(token))).json()["items"]) == 1


async def test_bad_subscriptions_are_refused_and_store_nothing(client: httpx.AsyncClient, token: TokenFor) -> None:
    cases = [
        ({**BODY, "event_types": ["casebridge.case.exploded.v1"]}, "unknown-event-type"),
        ({**BODY, "url": "http://berlin.example/hooks"}, "webhook-url-not-allowed"),
        ({**BODY, "url": "not a url"}, "validation-error"),
        ({**BODY, "event_types": []}, "validation-error"),
        ({**BODY, "filter": {"Bad Key": "x"}}, "validation-error"),
        ({**BODY, "colour": "blue"}, "validation-error"),
    ]
    for body, code in cases:
        response = await client.post("/v1/subscriptions", json=body, headers=who(token))
        assert (response.status_code, response.json()["code"]) == (422, code), body
        assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get("/v1/subscriptions", headers=who(token))).json()["items"] == []


async def test_loopback_http_is_allowed_in_the_test_environment(client: httpx.AsyncClient, token: TokenFor) -> None:
    response = await client.post(
        "/v1/subscriptions", json={**BODY, "url": "http://127.0.0.1:9/hooks"}, headers=who(token)
    )
    assert response.status_code == 201, response.text


async def test_another_offices_subscription_is_404_everywhere(client: httpx.AsyncClient, token: TokenFor) -> None:
    created = (await client.post("/v1/subscriptions", json=BODY, headers=who(token))).json()
    erbil = who(token, "iq-erbil-system")
    base = f"/v1/subscriptions/{created['id']}"
    for response in (
        await client.get(base, headers=erbil),
        await client.get(f"{base}/deliveries", headers=erbil),
        await client.patch(base, json={"status": "paused"}, headers={**erbil, "If-Match": '"1"'}),
        await client.delete(base, headers=erbil),
    ):
        assert (response.status_code, response.json()["code"]) == (404, "subscription-not-found")
    assert (await client.get("/v1/subscriptions", headers=erbil)).json()["items"] == []
    assert (await client.get(base, headers=who(token))).status_code == 200


async def test_writing_needs_the_write_scope(client: httpx.AsyncClient, token: TokenFor) -> None:
    response = await client.post("/v1/subscriptions", json=BODY, headers=who(token, scope="subscriptions:read"))
    assert (response.status_code, response.json()["code"]) == (403, "insufficient-scope")


async def test_an_organisation_bound_partner_manages_its_own_subscriptions(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    partner = who(token, "cfp-dakar-partner")
    created = await client.post("/v1/subscriptions", json=BODY, headers=partner)
    assert created.status_code == 201, created.text
    assert [s["id"] for s in (await client.get("/v1/subscriptions", headers=partner)).json()["items"]] == [
        created.json()["id"]
    ]
    assert (await client.get("/v1/subscriptions", headers=who(token))).json()["items"] == []


async def test_pause_resume_and_delete(client: httpx.AsyncClient, token: TokenFor) -> None:
    created = (await client.post("/v1/subscriptions", json=BODY, headers=who(token))).json()
    url = f"/v1/subscriptions/{created['id']}"
    assert (await client.patch(url, json={"status": "paused"}, headers=who(token))).status_code == 428
    paused = await client.patch(url, json={"status": "paused"}, headers={**who(token), "If-Match": '"1"'})
    assert (paused.json()["status"], paused.headers["ETag"]) == ("paused", '"2"')
    resumed = await client.patch(url, json={"status": "active"}, headers={**who(token), "If-Match": '"2"'})
    assert (resumed.json()["status"], resumed.json()["paused_at"]) == ("active", None)
    assert (await client.delete(url, headers=who(token))).status_code == 204
    assert (await client.get(url, headers=who(token))).status_code == 404


async def test_deliveries_are_listed_and_a_pending_one_cannot_be_replayed(
    client: httpx.AsyncClient, seeded: Sessions, token: TokenFor
) -> None:
    created = (await client.post("/v1/subscriptions", json=BODY, headers=who(token))).json()
    event_id = await case_opened(seeded)
    url = f"/v1/subscriptions/{created['id']}/deliveries"
    [delivery] = (await client.get(url, headers=who(token))).json()["items"]
    assert (delivery["event_id"], delivery["status"], delivery["attempts"]) == (event_id, "pending", 0)
    assert delivery["event"]["type"] == CaseOpened.type
    one = await client.get(f"{url}/{delivery['id']}", headers=who(token))
    assert one.json()["id"] == delivery["id"]
    replay = await client.post(f"{url}/{delivery['id']}/replay", headers=who(token))
    assert (replay.status_code, replay.json()["code"]) == (409, "delivery-not-replayable")
    assert (await client.get(url, params={"status": "succeeded"}, headers=who(token))).json()["items"] == []
    missing = await client.get(f"{url}/{uuid.uuid4()}", headers=who(token))
    assert (missing.status_code, missing.json()["code"]) == (404, "delivery-not-found")
