"""The case API over HTTP: real tokens, real PostgreSQL, problem+json for every refusal."""

import base64
import json
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from casebridge_common.audit import AuditEntry
from casebridge_common.outbox import OutboxMessage
from casebridge_common.testing.plugin import TokenFor, bearer

RW = "cases:read cases:write"
AWA = {
    "given_name": "Awa",
    "family_name": "Ndiaye",
    "sex": "female",
    "born_on": "1994-03-17",
    "nationality": "SN",
    "confirm_not_duplicate": True,
}


def office(token: TokenFor, client_id: str = "de-berlin-system", scope: str = RW) -> dict[str, str]:
    return bearer(token(client_id, "case-api", scope))


async def register_and_open(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    beneficiary = await client.post("/v1/beneficiaries", json=AWA, headers=headers)
    assert beneficiary.status_code == 201, beneficiary.text
    case = await client.post(
        "/v1/cases",
        json={"beneficiary_id": beneficiary.json()["id"], "programme": "return_reintegration"},
        headers=headers,
    )
    assert case.status_code == 201, case.text
    return dict(case.json())


async def count(test_db_url: str, model: type, **where: object) -> int:
    engine = create_async_engine(test_db_url)
    async with engine.connect() as conn:
        query = select(func.count()).select_from(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        result = int(await conn.scalar(query) or 0)
    await engine.dispose()
    return result


async def test_opening_a_case_commits_the_case_and_its_event_together(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    case = await register_and_open(client, office(token))
    assert (case["stage"], case["owner_office_id"], case["owner_organisation_id"]) == (
        "pre_departure_counselling",
        "de-berlin",
        "iom-germany",
    )
    assert await count(test_db_url, OutboxMessage, key=case["id"], topic="casebridge.case.events.v1") == 1
    # its first monitoring profile waits for the weekly publication (tests/api/test_case_opening_api.py)
    assert await count(test_db_url, OutboxMessage, key=case["id"], topic="casebridge.case.monitoring.v1") == 0
    fetched = await client.get(f"/v1/cases/{case['id']}", headers=office(token))
    assert fetched.status_code == 200
    assert fetched.headers["etag"] == '"1"'
    assert await count(test_db_url, AuditEntry, resource_id=case["id"], action="view") == 1


async def test_unrelated_office_gets_404_for_a_german_case(client: httpx.AsyncClient, token: TokenFor) -> None:
    case = await register_and_open(client, office(token))
    for path in (f"/v1/cases/{case['id']}", f"/v1/beneficiaries/{case['beneficiary_id']}"):
        response = await client.get(path, headers=office(token, "iq-erbil-system"))
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] in {"case-not-found", "beneficiary-not-found"}
    listed = await client.get("/v1/cases?limit=200", headers=office(token, "iq-erbil-system"))
    assert case["id"] not in {c["id"] for c in listed.json()["items"]}


async def test_a_case_of_an_unknown_id_is_the_same_404(client: httpx.AsyncClient, token: TokenFor) -> None:
    response = await client.get(f"/v1/cases/{uuid.uuid4()}", headers=office(token))
    assert (response.status_code, response.json()["code"]) == (404, "case-not-found")


async def test_opening_a_case_for_another_offices_beneficiary_is_404_and_changes_nothing(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    beneficiary = (await client.post("/v1/beneficiaries", json=AWA, headers=office(token))).json()
    before = await count(test_db_url, OutboxMessage)
    response = await client.post(
        "/v1/cases",
        json={"beneficiary_id": beneficiary["id"], "programme": "return_reintegration"},
        headers=office(token, "sn-dakar-system"),
    )
    assert (response.status_code, response.json()["code"]) == (404, "beneficiary-not-found")
    assert await count(test_db_url, OutboxMessage) == before


async def test_missing_token_is_401_with_www_authenticate(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/cases")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["code"] == "token-required"


async def test_token_for_another_api_is_401(client: httpx.AsyncClient, token: TokenFor) -> None:
    response = await client.get("/v1/cases", headers=bearer(token("de-berlin-system", "scoring-api", "surveys:read")))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.json()["code"] == "invalid-token"


async def test_missing_scope_is_403(client: httpx.AsyncClient, token: TokenFor) -> None:
    response = await client.post("/v1/beneficiaries", json=AWA, headers=office(token, scope="cases:read"))
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient-scope"
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


@pytest.mark.parametrize(
    ("body", "pointers"),
    [
        ({**AWA, "sex": "alien", "nationality": "Senegal"}, {"#/sex", "#/nationality"}),
        ({**AWA, "born_on": "not-a-date", "nickname": "x"}, {"#/born_on", "#/nickname"}),
        ({"given_name": "Awa"}, {"#/family_name", "#/sex", "#/born_on", "#/nationality"}),
    ],
)
async def test_invalid_registration_names_the_fields_and_stores_nothing(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str, body: dict[str, object], pointers: set[str]
) -> None:
    before = await count(test_db_url, OutboxMessage)
    response = await client.post("/v1/beneficiaries", json=body, headers=office(token))
    assert response.status_code == 422
    assert {e["pointer"] for e in response.json()["errors"]} == pointers
    assert await count(test_db_url, OutboxMessage) == before


async def test_a_future_date_of_birth_is_refused(client: httpx.AsyncClient, token: TokenFor) -> None:
    response = await client.post("/v1/beneficiaries", json={**AWA, "born_on": "2999-01-01"}, headers=office(token))
    assert (response.status_code, response.json()["code"]) == (422, "birth-date-in-future")


async def test_a_retry_with_the_same_idempotency_key_replays_the_first_answer(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    key = {"Idempotency-Key": f"retry-{uuid.uuid4()}"}
    first = await client.post("/v1/beneficiaries", json=AWA, headers={**office(token), **key})
    again = await client.post("/v1/beneficiaries", json=AWA, headers={**office(token), **key})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert await count(test_db_url, OutboxMessage, key=first.json()["id"]) == 1
    reused = await client.post(
        "/v1/beneficiaries", json={**AWA, "given_name": "Other"}, headers={**office(token), **key}
    )
    assert (reused.status_code, reused.json()["code"]) == (422, "idempotency-key-reused")


async def test_partner_token_without_an_office_is_403(client: httpx.AsyncClient, oidc_issuer: str) -> None:
    from casebridge_common.testing.tokens import authorization_code_token

    partner_user = authorization_code_token(
        oidc_issuer, "moussa.ndiaye", resource="urn:casebridge:case-api", scope="cases:read"
    )
    response = await client.get("/v1/cases", headers=bearer(partner_user))
    assert (response.status_code, response.json()["code"]) == (403, "office-claim-required")


async def test_cases_page_with_a_stable_cursor(client: httpx.AsyncClient, token: TokenFor) -> None:
    headers = office(token, "sn-dakar-system")
    opened = {(await register_and_open(client, headers))["id"] for _ in range(5)}
    seen: list[str] = []
    url: str | None = "/v1/cases?limit=2&programme=return_reintegration"
    while url:
        page = (await client.get(url, headers=headers)).json()
        seen += [c["id"] for c in page["items"]]
        url = (
            f"/v1/cases?limit=2&programme=return_reintegration&cursor={page['next_cursor']}"
            if page["next_cursor"]
            else None
        )
    assert opened <= set(seen)
    assert len(seen) == len(set(seen))
    bad = await client.get("/v1/cases?cursor=garbage", headers=headers)
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid-cursor")
    first = (await client.get("/v1/cases?limit=2&programme=return_reintegration", headers=headers)).json()
    replayed = await client.get(
        f"/v1/cases?limit=2&stage=referral_submission&cursor={first['next_cursor']}", headers=headers
    )
    assert (replayed.status_code, replayed.json()["code"]) == (400, "invalid-cursor")


async def test_a_cursor_with_a_forged_position_is_400(client: httpx.AsyncClient, token: TokenFor) -> None:
    headers = office(token, "sn-dakar-system")
    for _ in range(2):
        await register_and_open(client, headers)
    issued = (await client.get("/v1/cases?limit=1", headers=headers)).json()["next_cursor"]
    document = json.loads(base64.urlsafe_b64decode(issued + "=" * (-len(issued) % 4)))
    row = document["a"][1]
    for position in (
        ["0001-01-01T00:00:00+14:00", row],
        ["2026-01-01T00:00:00", row],
        ["2026-01-01T00:00:00+00:00", "not-an-id"],
        [True, row],
    ):
        forged = base64.urlsafe_b64encode(json.dumps({"a": position, "q": document["q"]}).encode()).decode()
        response = await client.get("/v1/cases", params={"limit": 1, "cursor": forged}, headers=headers)
        assert (response.status_code, response.json()["code"]) == (400, "invalid-cursor"), position
