"""Suspended returns (reintegration.md R46) on real PostgreSQL: while an organisation's returns to a country are
suspended, its offices open no return case in pre-departure counselling there; the opening writes nothing and
keeps its Idempotency-Key unused. Other organisations, returns opened on arrival and resettlement go on."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from case_people import PERSON

from casebridge_common.testing.plugin import TokenFor, bearer

ADMIN = "cases:read cases:write cases:admin"
WRITE = "cases:read cases:write"


def plain(url: str) -> str:
    return url.replace("postgresql+asyncpg:", "postgresql:")


@pytest.fixture(autouse=True)
async def lifted_afterwards(test_db_url: str) -> AsyncIterator[None]:
    """The session's database is shared: no suspension of these tests outlives them."""
    yield
    conn = await asyncpg.connect(plain(test_db_url))
    try:
        await conn.execute("UPDATE return_suspensions SET lifted_at = now() WHERE lifted_at IS NULL")
    finally:
        await conn.close()


async def returnee(
    client: httpx.AsyncClient, h: dict[str, str], country: str, *, returning_to: str | None = None
) -> str:
    registered = await client.post(
        "/v1/beneficiaries",
        json={**PERSON, "country_of_origin": country, "country_of_return": returning_to},
        headers=h,
    )
    assert registered.status_code == 201, registered.text
    return str(registered.json()["id"])


async def suspend(client: httpx.AsyncClient, h: dict[str, str], country: str) -> dict[str, Any]:
    suspended = await client.post(
        "/v1/return-suspensions", json={"country": country, "reason": "Armed clashes on the return routes"}, headers=h
    )
    assert suspended.status_code == 201, suspended.text
    return dict(suspended.json())


async def events_of(test_db_url: str, suspension_id: str) -> list[tuple[str, str]]:
    conn = await asyncpg.connect(plain(test_db_url))
    try:
        rows = await conn.fetch(
            "SELECT event ->> 'type' AS type, event -> 'data' ->> 'country' AS country FROM outbox_messages"
            " WHERE key = $1 ORDER BY seq",
            suspension_id,
        )
    finally:
        await conn.close()
    return [(row["type"], row["country"]) for row in rows]


async def written_for(test_db_url: str, beneficiary: str) -> tuple[int, int]:
    """The cases of the beneficiary and the idempotency keys stored: what a refused opening must not add to."""
    conn = await asyncpg.connect(plain(test_db_url))
    try:
        cases = await conn.fetchval("SELECT count(*) FROM cases WHERE beneficiary_id = $1", uuid.UUID(beneficiary))
        keys = await conn.fetchval("SELECT count(*) FROM idempotency_keys")
    finally:
        await conn.close()
    return int(cases), int(keys)


async def test_a_suspension_refuses_a_new_return_there_and_writes_nothing_until_it_is_lifted(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    h = bearer(token("de-berlin-system", "case-api", ADMIN))
    suspension = await suspend(client, h, "YE")
    assert (suspension["organisation_id"], suspension["country"], suspension["in_force"]) == ("iom-germany", "YE", True)
    person = await returnee(client, h, "YE")  # no country of return recorded: the country of origin counts
    before = await written_for(test_db_url, person)
    body = {"beneficiary_id": person, "programme": "return_reintegration"}
    key = {"Idempotency-Key": f"open-{uuid.uuid4()}"}

    refused = await client.post("/v1/cases", json=body, headers={**h, **key})
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert (problem["code"], problem["guard"], problem["country"], problem["suspension_id"]) == (
        "stage-guard-failed",
        "returns_not_suspended",
        "YE",
        suspension["id"],
    )
    assert problem["to_stage"] == "pre_departure_counselling"
    assert await written_for(test_db_url, person) == before  # no case, and the key is not used up

    lifted = await client.post(f"/v1/return-suspensions/{suspension['id']}/lifting", headers=h)
    assert lifted.status_code == 200, lifted.text
    assert (lifted.json()["in_force"], lifted.json()["lifted_by"]) == (False, suspension["suspended_by"])
    again = await client.post(f"/v1/return-suspensions/{suspension['id']}/lifting", headers=h)
    assert (again.status_code, again.json()["lifted_at"]) == (200, lifted.json()["lifted_at"])  # changes nothing
    opened = await client.post("/v1/cases", json=body, headers={**h, **key})
    assert opened.status_code == 201, opened.text
    assert "idempotent-replayed" not in opened.headers
    assert await events_of(test_db_url, suspension["id"]) == [
        ("casebridge.case.returns_suspended.v1", "YE"),
        ("casebridge.case.returns_resumed.v1", "YE"),  # once: the second lifting changed nothing
    ]


async def test_the_country_of_return_counts_before_the_country_of_origin(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    h = bearer(token("de-berlin-system", "case-api", ADMIN))
    await suspend(client, h, "SO")
    for origin, returning_to, status in (("ET", "SO", 409), ("SO", "ET", 201)):
        person = await returnee(client, h, origin, returning_to=returning_to)
        opened = await client.post(
            "/v1/cases", json={"beneficiary_id": person, "programme": "return_reintegration"}, headers=h
        )
        assert opened.status_code == status, (origin, returning_to, opened.text)


async def test_returns_opened_on_arrival_resettlement_and_other_organisations_go_on(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    berlin = bearer(token("de-berlin-system", "case-api", ADMIN))
    await suspend(client, berlin, "ER")
    person = await returnee(client, berlin, "ER")
    for body in (
        {"programme": "return_reintegration", "mode_of_return": "forced_deported"},  # opens in `arrived`
        {"programme": "return_reintegration", "mode_of_return": "spontaneous"},
        {"programme": "resettlement_integration"},
    ):
        opened = await client.post("/v1/cases", json={"beneficiary_id": person, **body}, headers=berlin)
        assert opened.status_code == 201, (body, opened.text)
        assert opened.json()["stage"] != "pre_departure_counselling"

    dakar = bearer(token("sn-dakar-system", "case-api", WRITE))  # iom-senegal suspended nothing
    opened = await client.post(
        "/v1/cases",
        json={"beneficiary_id": await returnee(client, dakar, "ER"), "programme": "return_reintegration"},
        headers=dakar,
    )
    assert (opened.status_code, opened.json()["stage"]) == (201, "pre_departure_counselling")


async def test_one_suspension_in_force_per_country_listed_for_the_organisation_only(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    h = bearer(token("de-berlin-system", "case-api", ADMIN))
    first = await suspend(client, h, "LY")
    twice = await client.post("/v1/return-suspensions", json={"country": "LY", "reason": "again"}, headers=h)
    assert (twice.status_code, twice.json()["code"], twice.json()["suspension_id"]) == (
        409,
        "return-suspension-exists",
        first["id"],
    )
    await client.post(f"/v1/return-suspensions/{first['id']}/lifting", headers=h)
    second = await suspend(client, h, "LY")  # lifted: returns may be suspended again

    listed = await client.get("/v1/return-suspensions", params={"country": "LY", "limit": 1}, headers=h)
    assert listed.status_code == 200, listed.text
    assert [s["id"] for s in listed.json()["items"]] == [second["id"]]  # newest first
    rest = await client.get(
        "/v1/return-suspensions",
        params={"country": "LY", "limit": 1, "cursor": listed.json()["next_cursor"]},
        headers=h,
    )
    assert [s["id"] for s in rest.json()["items"]] == [first["id"]]
    in_force = await client.get("/v1/return-suspensions", params={"country": "LY", "in_force": "true"}, headers=h)
    assert [s["id"] for s in in_force.json()["items"]] == [second["id"]]

    dakar = bearer(token("sn-dakar-system", "case-api", ADMIN))
    theirs = await client.get("/v1/return-suspensions", params={"country": "LY"}, headers=dakar)
    assert theirs.json()["items"] == []
    foreign = await client.post(f"/v1/return-suspensions/{second['id']}/lifting", headers=dakar)
    assert (foreign.status_code, foreign.json()["code"]) == (404, "return-suspension-not-found")


async def test_only_a_supervisor_with_the_admin_scope_suspends_or_lifts(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    body = {"country": "SD", "reason": "Airport closed"}
    without_scope = await client.post(
        "/v1/return-suspensions", json=body, headers=bearer(token("de-berlin-system", "case-api", WRITE))
    )
    assert (without_scope.status_code, without_scope.json()["code"]) == (403, "insufficient-scope")
    controller = bearer(token("de-berlin-dpo", "case-api", ADMIN))  # a data controller, not a supervisor
    refused = await client.post("/v1/return-suspensions", json=body, headers=controller)
    assert (refused.status_code, refused.json()["code"]) == (403, "return-suspension-role-required")
    suspension = await suspend(client, bearer(token("de-berlin-system", "case-api", ADMIN)), "SD")
    not_lifted = await client.post(f"/v1/return-suspensions/{suspension['id']}/lifting", headers=controller)
    assert (not_lifted.status_code, not_lifted.json()["code"]) == (403, "return-suspension-role-required")
    conn = await asyncpg.connect(plain(test_db_url))
    try:
        lifted_at = await conn.fetchval(
            "SELECT lifted_at FROM return_suspensions WHERE id = $1", uuid.UUID(suspension["id"])
        )
    finally:
        await conn.close()
    assert lifted_at is None


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"country": "ye", "reason": "x"}, "#/country"),
        ({"country": "YEM", "reason": "x"}, "#/country"),
        ({"country": "YE", "reason": ""}, "#/reason"),
        ({"country": "YE"}, "#/reason"),
        ({"country": "YE", "reason": "x", "region": "Aden"}, "#/region"),
    ],
)
async def test_bad_input_is_422_and_suspends_nothing(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str, body: dict[str, Any], pointer: str
) -> None:
    refused = await client.post(
        "/v1/return-suspensions", json=body, headers=bearer(token("de-berlin-system", "case-api", ADMIN))
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert pointer in [e["pointer"] for e in refused.json()["errors"]]
    conn = await asyncpg.connect(plain(test_db_url))
    try:
        in_force = await conn.fetchval("SELECT count(*) FROM return_suspensions WHERE lifted_at IS NULL")
    finally:
        await conn.close()
    assert in_force == 0


async def test_an_idempotency_key_replays_the_suspension(client: httpx.AsyncClient, token: TokenFor) -> None:
    h = {**bearer(token("de-berlin-system", "case-api", ADMIN)), "Idempotency-Key": f"suspend-{uuid.uuid4()}"}
    body = {"country": "SS", "reason": "Flooding cut the roads from the airport"}
    first = await client.post("/v1/return-suspensions", json=body, headers=h)
    again = await client.post("/v1/return-suspensions", json=body, headers=h)
    assert (first.status_code, again.status_code, again.headers["idempotent-replayed"]) == (201, 201, "true")
    assert again.json() == first.json()
