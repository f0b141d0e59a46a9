"""Opening a case (`POST /v1/cases`) on real PostgreSQL: one statement (repositories/openings.py). It lands whole
or not at all, tells whether the person is a minor from the row it locks, leaves the case's first monitoring
profile to the weekly publication, and an Idempotency-Key replays the first answer even when two requests race."""

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from case_people import BERLIN_SYSTEM, M_AND_E, PERSON
from fastapi.responses import JSONResponse

from case_service.schemas import OpenCase
from case_service.unit_of_work import CaseOpeningWork
from casebridge_common.db import create_engine, utc_now
from casebridge_common.http import REQUEST_TARGET, idempotency_request_hash
from casebridge_common.testing.plugin import TokenFor, bearer

PublishProfiles = Callable[[datetime], Awaitable[int]]  # the `publish_profiles` fixture: the weekly job at a time

ALL = "cases:read cases:write consents:write"
PROFILE = "casebridge.case.monitoring_profile.v1"


def plain(url: str) -> str:
    return url.replace("postgresql+asyncpg:", "postgresql:")


async def rows_about(test_db_url: str, case_id: str) -> dict[str, int]:
    """How many rows the opening of `case_id` left in each table it writes."""
    conn = await asyncpg.connect(plain(test_db_url))
    try:
        row = await conn.fetchrow(
            """SELECT (SELECT count(*) FROM cases WHERE id = $1) AS cases,
                      (SELECT count(*) FROM sync_changes WHERE entity_id = $1) AS journal,
                      (SELECT count(*) FROM outbox_messages WHERE key = $1::text) AS events,
                      (SELECT count(*) FROM audit_entries WHERE resource_id = $1::text) AS audit,
                      (SELECT count(*) FROM monitoring_profile_pending WHERE case_id = $1) AS pending""",
            uuid.UUID(case_id),
        )
    finally:
        await conn.close()
    assert row is not None
    return dict(row)


async def events_of(test_db_url: str, case_id: str) -> list[dict[str, Any]]:
    """The CloudEvents the outbox holds for the case, oldest first."""
    conn = await asyncpg.connect(plain(test_db_url))
    try:
        events = await conn.fetch("SELECT event::text FROM outbox_messages WHERE key = $1 ORDER BY seq", case_id)
    finally:
        await conn.close()
    return [json.loads(e["event"]) for e in events]


async def register(client: httpx.AsyncClient, headers: dict[str, str], *, consent: bool) -> str:
    beneficiary = await client.post("/v1/beneficiaries", json=PERSON, headers=headers)
    assert beneficiary.status_code == 201, beneficiary.text
    if consent:
        given = await client.post(
            f"/v1/beneficiaries/{beneficiary.json()['id']}/consents", json=M_AND_E, headers=headers
        )
        assert given.status_code == 201, given.text
    return str(beneficiary.json()["id"])


async def test_an_opening_writes_the_case_its_journal_row_event_audit_entry_and_mark_together(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    h = bearer(token("de-berlin-system", "case-api", ALL))
    beneficiary = await register(client, h, consent=True)
    opened = await client.post(
        "/v1/cases", json={"beneficiary_id": beneficiary, "programme": "return_reintegration"}, headers=h
    )
    assert opened.status_code == 201, opened.text
    assert opened.headers["etag"] == '"1"'
    case = opened.json()
    assert (case["stage"], case["owner_office_id"], case["version"]) == ("pre_departure_counselling", "de-berlin", 1)
    written = {"cases": 1, "journal": 1, "events": 1, "audit": 1, "pending": 1}
    assert await rows_about(test_db_url, case["id"]) == written
    [event] = await events_of(test_db_url, case["id"])
    assert (event["type"], event["data"]["subject_is_minor"]) == ("casebridge.case.opened.v1", False)
    read = await client.get(f"/v1/cases/{case['id']}", headers=h)
    assert read.status_code == 200
    assert read.json()["opened_at"] == case["opened_at"]


async def test_the_opening_tells_a_minor_from_the_row_it_locks(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    h = bearer(token("de-berlin-system", "case-api", ALL))
    today = datetime.now(UTC).date()
    for born_on, minor in ((today.replace(year=today.year - 12), True), (today.replace(year=today.year - 18), False)):
        registered = await client.post(
            "/v1/beneficiaries",
            json={**PERSON, "born_on": born_on.isoformat(), "confirm_not_duplicate": True},
            headers=h,
        )
        assert registered.status_code == 201, registered.text
        opened = await client.post(
            "/v1/cases",
            json={"beneficiary_id": registered.json()["id"], "programme": "resettlement_integration"},
            headers=h,
        )
        assert opened.status_code == 201, opened.text
        [event] = await events_of(test_db_url, opened.json()["id"])
        assert event["data"]["subject_is_minor"] is minor, born_on


async def test_the_opening_answers_the_bytes_a_json_response_would(client: httpx.AsyncClient, token: TokenFor) -> None:
    h = bearer(token("de-berlin-system", "case-api", ALL))
    beneficiary = await register(client, h, consent=True)
    body = {"beneficiary_id": beneficiary, "programme": "return_reintegration", "assigned_worker": "Amaré Ṣọlá 👩"}
    opened = await client.post("/v1/cases", json=body, headers=h)
    assert opened.status_code == 201, opened.text
    assert opened.headers["content-type"] == "application/json"
    assert opened.content == JSONResponse(opened.json()).body  # compact, and UTF-8 rather than \u escapes
    assert opened.headers["content-length"] == str(len(opened.content))
    assert opened.json()["assigned_worker"] == "Amaré Ṣọlá 👩"


async def test_the_first_profile_leaves_with_the_weekly_publication_under_the_consents_then_in_force(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str, publish_profiles: PublishProfiles
) -> None:
    """Published at once, the first profile would date the opening (a case opened on arrival: the day of
    return); it waits for the week after, and a consent withdrawn meanwhile is already applied to it."""
    h = bearer(token("de-berlin-system", "case-api", ALL))
    beneficiary = await register(client, h, consent=True)
    body = {"beneficiary_id": beneficiary, "programme": "return_reintegration", "mode_of_return": "avrr_voluntary"}
    opened = await client.post("/v1/cases", json=body, headers=h)
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["id"]
    await publish_profiles(datetime.now(UTC))  # the week of the opening is not over
    assert [e["type"] for e in await events_of(test_db_url, case_id)] == ["casebridge.case.opened.v1"]

    consents = await client.get(f"/v1/beneficiaries/{beneficiary}/consents", headers=h)
    assert consents.status_code == 200, consents.text
    [consent] = consents.json()["items"]
    withdrawn = await client.post(
        f"/v1/consents/{consent['id']}/withdrawal", json={"channel": "staff"}, headers={**h, "If-Match": '"1"'}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    meanwhile = [e["data"] for e in await events_of(test_db_url, case_id) if e["type"] == PROFILE]
    assert [p["mode_of_return"] for p in meanwhile] == [None]  # nothing of its return profile is published yet

    await publish_profiles(datetime.now(UTC) + timedelta(days=7))
    first = [e["data"] for e in await events_of(test_db_url, case_id) if e["type"] == PROFILE][-1]
    assert (first["sex"], first["age_group"], first["country_of_origin"], first["mode_of_return"]) == (
        None,
        None,
        None,
        None,
    )
    assert first["programme"] == "return_reintegration"
    assert await rows_about(test_db_url, case_id) == {"cases": 1, "journal": 1, "events": 3, "audit": 1, "pending": 0}


async def test_an_opening_that_raced_a_request_with_its_key_answers_with_that_requests_answer(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    """The other request's key is inserted but not committed when the opening's statement starts: the statement
    waits on the key, inserts nothing once it commits, and the opening, run again, replays its answer."""
    h = bearer(token("de-berlin-system", "case-api", ALL))
    earlier = f"open-{uuid.uuid4()}"
    learnt = await client.post(
        "/v1/cases",
        json={"beneficiary_id": await register(client, h, consent=False), "programme": "return_reintegration"},
        headers={**h, "Idempotency-Key": earlier},
    )
    assert learnt.status_code == 201, learnt.text
    beneficiary = await register(client, h, consent=False)
    body = {"beneficiary_id": beneficiary, "programme": "return_reintegration"}
    key = f"open-{uuid.uuid4()}"
    target = REQUEST_TARGET.set("POST /v1/cases")  # as the middleware sets it for the request
    request_hash = idempotency_request_hash(OpenCase.model_validate(body))
    REQUEST_TARGET.reset(target)
    other = await asyncpg.connect(plain(test_db_url))
    try:
        principal = await other.fetchval("SELECT principal FROM idempotency_keys WHERE key = $1", earlier)
        transaction = other.transaction()
        await transaction.start()
        await other.execute(
            "INSERT INTO idempotency_keys (principal, key, request_hash, status, body, created_at)"
            " VALUES ($1, $2, $3, 201, $4::jsonb, now())",
            principal,
            key,
            request_hash,
            json.dumps({"answer": "the other request's"}),
        )
        opening = asyncio.create_task(client.post("/v1/cases", json=body, headers={**h, "Idempotency-Key": key}))
        await asyncio.sleep(0.5)
        assert not opening.done()  # waiting on the key the other request holds
        await transaction.commit()
        replayed = await opening
    finally:
        await other.close()
    assert replayed.status_code == 201, replayed.text
    assert (replayed.json(), replayed.headers["idempotent-replayed"]) == ({"answer": "the other request's"}, "true")
    conn = await asyncpg.connect(plain(test_db_url))
    try:
        cases = await conn.fetchval("SELECT count(*) FROM cases WHERE beneficiary_id = $1", uuid.UUID(beneficiary))
    finally:
        await conn.close()
    assert cases == 0


async def test_an_idempotency_key_replays_the_first_opening_even_when_two_race(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    h = bearer(token("de-berlin-system", "case-api", ALL))
    beneficiary = await register(client, h, consent=False)
    body = {"beneficiary_id": beneficiary, "programme": "return_reintegration"}
    key = {"Idempotency-Key": f"open-{uuid.uuid4()}"}
    first, second = await asyncio.gather(
        client.post("/v1/cases", json=body, headers={**h, **key}),
        client.post("/v1/cases", json=body, headers={**h, **key}),
    )
    assert (first.status_code, second.status_code) == (201, 201), (first.text, second.text)
    assert first.json() == second.json()
    assert sorted(r.headers.get("idempotent-replayed", "false") for r in (first, second)) == ["false", "true"]
    again = await client.post("/v1/cases", json=body, headers={**h, **key})
    assert (again.status_code, again.json(), again.headers["idempotent-replayed"]) == (201, first.json(), "true")
    assert await rows_about(test_db_url, first.json()["id"]) == {
        "cases": 1,
        "journal": 1,
        "events": 1,
        "audit": 1,
        "pending": 1,
    }
    reused = await client.post(
        "/v1/cases", json={**body, "programme": "resettlement_integration"}, headers={**h, **key}
    )
    assert (reused.status_code, reused.json()["code"]) == (422, "idempotency-key-reused")
    conn = await asyncpg.connect(plain(test_db_url))
    try:
        cases = await conn.fetchval("SELECT count(*) FROM cases WHERE beneficiary_id = $1", uuid.UUID(beneficiary))
    finally:
        await conn.close()
    assert cases == 1


async def test_a_beneficiary_of_another_office_is_404_and_nothing_is_written(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    beneficiary = await register(client, bearer(token("de-berlin-system", "case-api", ALL)), consent=False)
    dakar = bearer(token("sn-dakar-system", "case-api", ALL))
    conn = await asyncpg.connect(plain(test_db_url))
    try:
        before = await conn.fetchval("SELECT count(*) FROM outbox_messages")
        refused = await client.post(
            "/v1/cases", json={"beneficiary_id": beneficiary, "programme": "return_reintegration"}, headers=dakar
        )
        after = await conn.fetchval("SELECT count(*) FROM outbox_messages")
        cases = await conn.fetchval("SELECT count(*) FROM cases WHERE beneficiary_id = $1", uuid.UUID(beneficiary))
    finally:
        await conn.close()
    assert (refused.status_code, refused.json()["code"]) == (404, "beneficiary-not-found")
    assert (after, cases) == (before, 0)


async def written_by_the_opening(test_db_url: str, case_id: uuid.UUID) -> dict[str, Any]:
    """Every row the opening of `case_id` wrote, without the values that differ from one opening to the next."""
    conn = await asyncpg.connect(plain(test_db_url))
    varying = {
        "id",
        "beneficiary_id",
        "opened_at",
        "stage_changed_at",
        "case_id",
        "entity_id",
        "since",
        "at",
        "resource_id",
    }
    try:
        case = await conn.fetchrow("SELECT * FROM cases WHERE id = $1", case_id)
        journal = await conn.fetch(
            "SELECT case_id, beneficiary_id, entity_type, op FROM sync_changes WHERE entity_id = $1", case_id
        )
        pending = await conn.fetch("SELECT * FROM monitoring_profile_pending WHERE case_id = $1", case_id)
        events = await conn.fetch(
            "SELECT topic, event::text FROM outbox_messages WHERE key = $1 ORDER BY seq", str(case_id)
        )
        audit = await conn.fetch("SELECT * FROM audit_entries WHERE resource_id = $1 ORDER BY at", str(case_id))
    finally:
        await conn.close()
    assert case is not None

    def stable(row: Any) -> dict[str, Any]:
        return {k: v for k, v in dict(row).items() if k not in varying and k != "request_id"}

    def event(topic: str, text: str) -> tuple[str, str, dict[str, Any]]:
        document = json.loads(text)
        data = {k: v for k, v in document["data"].items() if k not in varying | {"opened_at", "as_of"}}
        return topic, document["type"], data

    return {
        "case": stable(case),
        "journal": [(r["case_id"] == case_id, r["beneficiary_id"], r["entity_type"], r["op"]) for r in journal],
        "pending": [stable(r) for r in pending],
        "events": [event(r["topic"], r["event"]) for r in events],
        "audit": [stable(r) for r in audit],
    }


async def test_the_api_and_the_bulk_import_path_write_the_same_rows(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    """Both ways of opening a case (one statement for the API, the ORM inside an import's transaction) write
    the same case, journal row, pending mark, event and audit entry, a return profile and date given included."""
    from case_service.schemas import OpenCase
    from case_service.service_layer.cases import open_case_within
    from case_service.unit_of_work import CaseUnitOfWork
    from casebridge_common.db import session_factory

    h = bearer(token("de-berlin-system", "case-api", ALL))
    profile = {"mode_of_return": "avrr_voluntary", "host_country": "DE", "length_of_absence_years": "3.5"}
    body = {"programme": "return_reintegration", "returned_on": "2026-11-20", **profile}
    through_api = await client.post(
        "/v1/cases", json={"beneficiary_id": await register(client, h, consent=True), **body}, headers=h
    )
    assert through_api.status_code == 201, through_api.text

    other = uuid.UUID(await register(client, h, consent=True))
    engine = create_engine(test_db_url, pool_size=1)
    actor = BERLIN_SYSTEM
    try:
        async with CaseUnitOfWork(session_factory(engine)) as uow:
            command = OpenCase.model_validate({"beneficiary_id": str(other), **body})
            imported = await open_case_within(uow, command, actor=actor, now=utc_now())
            await uow.commit()
    finally:
        await engine.dispose()

    api_rows = await written_by_the_opening(test_db_url, uuid.UUID(through_api.json()["id"]))
    orm_rows = await written_by_the_opening(test_db_url, imported.id)
    assert api_rows == orm_rows
    assert api_rows["journal"] == [(True, None, "case", "upsert")]
    assert len(api_rows["pending"]) == 1
    assert api_rows["pending"][0]["published_mode_of_return"] is None  # nothing published yet
    assert [e[1] for e in api_rows["events"]] == ["casebridge.case.opened.v1"]


async def test_a_connection_that_dies_under_an_opening_is_not_given_to_the_next(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    beneficiary = uuid.UUID(await register(client, bearer(token("de-berlin-system", "case-api", ALL)), consent=False))
    engine = create_engine(test_db_url, pool_size=1)
    killer = await asyncpg.connect(plain(test_db_url))
    try:
        async with CaseOpeningWork(engine) as work:
            pid = await work.openings._connection.fetchval("SELECT pg_backend_pid()")
            await killer.execute("SELECT pg_terminate_backend($1, 5000)", pid)  # ends it, waiting until it is gone
            await asyncio.sleep(0.2)  # and asyncpg has seen the socket end
            with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, ConnectionError)):
                await work.openings._connection.fetchval("SELECT 1")
        async with CaseOpeningWork(engine) as work:
            found = await work.openings._connection.fetchval("SELECT id FROM beneficiaries WHERE id = $1", beneficiary)
        assert found == beneficiary
    finally:
        await killer.close()
        await engine.dispose()


async def test_a_connection_left_inside_a_transaction_is_not_given_to_the_next(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    beneficiary = uuid.UUID(await register(client, bearer(token("de-berlin-system", "case-api", ALL)), consent=False))
    engine = create_engine(test_db_url, pool_size=1)
    try:
        async with CaseOpeningWork(engine) as work:
            connection = work.openings._connection
            left = await connection.fetchval("SELECT pg_backend_pid()")
            await connection.execute("BEGIN")
            await connection.execute("UPDATE beneficiaries SET version = version WHERE id = $1", beneficiary)
        assert connection.is_closed()
        async with CaseOpeningWork(engine) as work:
            assert await work.openings._connection.fetchval("SELECT pg_backend_pid()") != left
            found = await work.openings._connection.fetchval("SELECT id FROM beneficiaries WHERE id = $1", beneficiary)
            assert not work.openings._connection.is_in_transaction()
        assert found == beneficiary
    finally:
        await engine.dispose()


async def test_a_connection_whose_statement_was_cancelled_is_not_given_to_the_next(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    engine = create_engine(test_db_url, pool_size=1)
    try:
        work = CaseOpeningWork(engine)
        await work.__aenter__()
        connection = work.openings._connection
        cut = await connection.fetchval("SELECT pg_backend_pid()")
        with pytest.raises(TimeoutError) as timed_out:
            await asyncio.wait_for(connection.execute("SELECT pg_sleep(5)"), timeout=0.2)
        await work.__aexit__(TimeoutError, timed_out.value, None)  # as `async with` leaves with the timeout
        assert connection.is_closed()
        async with CaseOpeningWork(engine) as work:
            assert await work.openings._connection.fetchval("SELECT pg_backend_pid()") != cut
    finally:
        await engine.dispose()
