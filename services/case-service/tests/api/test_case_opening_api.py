"""Opening a case (`POST /v1/cases`) on real PostgreSQL: one read and one guarded write statement
(repositories/openings.py). The write lands whole or not at all, a consent changing meanwhile is never missed by
the case's first monitoring profile, and an Idempotency-Key replays the first answer even when two requests race."""

import asyncio
import json
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from case_people import BERLIN_SYSTEM, M_AND_E, PERSON
from fastapi.responses import JSONResponse

from case_service.domain.errors import OpeningRaced
from case_service.domain.models import Sex, open_case_for
from case_service.repositories.openings import OpeningBeneficiary
from case_service.unit_of_work import CaseOpeningWork
from casebridge_common.audit import AuditAction
from casebridge_common.db import create_engine, utc_now
from casebridge_common.events.contracts.case import CaseOpened, Programme
from casebridge_common.testing.plugin import TokenFor, bearer

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
                      (SELECT count(*) FROM audit_entries WHERE resource_id = $1::text) AS audit""",
            uuid.UUID(case_id),
        )
    finally:
        await conn.close()
    assert row is not None
    return dict(row)


async def opening_profile(test_db_url: str, case_id: str) -> dict[str, Any]:
    conn = await asyncpg.connect(plain(test_db_url))
    try:
        events = await conn.fetch("SELECT event::text FROM outbox_messages WHERE key = $1 ORDER BY seq", case_id)
    finally:
        await conn.close()
    profiles = [json.loads(e["event"])["data"] for e in events if json.loads(e["event"])["type"] == PROFILE]
    assert len(profiles) == 1
    return dict(profiles[0])


async def register(client: httpx.AsyncClient, headers: dict[str, str], *, consent: bool) -> str:
    beneficiary = await client.post("/v1/beneficiaries", json=PERSON, headers=headers)
    assert beneficiary.status_code == 201, beneficiary.text
    if consent:
        given = await client.post(
            f"/v1/beneficiaries/{beneficiary.json()['id']}/consents", json=M_AND_E, headers=headers
        )
        assert given.status_code == 201, given.text
    return str(beneficiary.json()["id"])


async def test_an_opening_writes_the_case_its_journal_row_events_and_audit_entry_together(
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
    assert await rows_about(test_db_url, case["id"]) == {"cases": 1, "journal": 1, "events": 2, "audit": 1}
    profile = await opening_profile(test_db_url, case["id"])
    assert (profile["profile_version"], profile["sex"], profile["age_group"]) == (0, "female", "25-34")
    read = await client.get(f"/v1/cases/{case['id']}", headers=h)
    assert read.status_code == 200
    assert read.json()["opened_at"] == case["opened_at"]


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


async def test_a_consent_withdrawn_while_the_case_opens_is_in_its_first_profile(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    """The opening reads the consent in force, then waits on the beneficiary's row, which a withdrawal holds;
    when the withdrawal commits, the write finds the profile revision changed, writes nothing, and the opening
    reads again: the first profile carries no personal fact. Without the revision check it would carry them."""
    h = bearer(token("de-berlin-system", "case-api", ALL))
    beneficiary = uuid.UUID(await register(client, h, consent=True))
    withdrawal = await asyncpg.connect(plain(test_db_url))
    try:
        transaction = withdrawal.transaction()
        await transaction.start()
        # what the consent withdrawal's transaction does to what an opening reads (service_layer/consent.py)
        await withdrawal.execute(
            "UPDATE beneficiaries SET profile_revision = profile_revision + 1 WHERE id = $1", beneficiary
        )
        await withdrawal.execute(
            "UPDATE consent_records SET status = 'withdrawn', withdrawn_at = now(), version = version + 1"
            " WHERE beneficiary_id = $1",
            beneficiary,
        )
        opening = asyncio.create_task(
            client.post(
                "/v1/cases", json={"beneficiary_id": str(beneficiary), "programme": "return_reintegration"}, headers=h
            )
        )
        await asyncio.sleep(0.5)
        assert not opening.done()  # it read the consent in force and now waits for the row lock
        await transaction.commit()
        opened = await opening
    finally:
        await withdrawal.close()
    assert opened.status_code == 201, opened.text
    profile = await opening_profile(test_db_url, opened.json()["id"])
    assert (profile["sex"], profile["age_group"], profile["country_of_origin"], profile["country_of_return"]) == (
        None,
        None,
        None,
        None,
    )


async def test_a_write_that_lost_the_race_writes_nothing(
    test_db_url: str, client: httpx.AsyncClient, token: TokenFor
) -> None:
    h = bearer(token("de-berlin-system", "case-api", ALL))
    beneficiary = uuid.UUID(await register(client, h, consent=False))
    engine = create_engine(test_db_url, pool_size=1)
    actor = BERLIN_SYSTEM
    try:
        async with CaseOpeningWork(engine) as work:
            found = await work.openings.read(beneficiary, office_id="de-berlin", claim=None)
            assert isinstance(found.beneficiary, OpeningBeneficiary)
            case = open_case_for(
                found.beneficiary,
                programme=Programme.RETURN_REINTEGRATION,
                office_id="de-berlin",
                organisation_id="iom-germany",
                assigned_worker=None,
                now=utc_now(),
            )
            work.openings.add(case, read_as=found.beneficiary, office_id="de-berlin")
            work.outbox.emit(
                CaseOpened(
                    case_id=case.id,
                    case_version=1,
                    beneficiary_id=beneficiary,
                    programme=case.programme,
                    owner_office_id="de-berlin",
                    owner_organisation_id="iom-germany",
                    opened_at=case.opened_at,
                    subject_is_minor=False,
                )
            )
            work.audit.record(actor, AuditAction.CREATE, resource_type="case", resource_id=case.id)
            changed = await asyncpg.connect(plain(test_db_url))
            try:  # a personal fact changed and committed in between
                await changed.execute("UPDATE beneficiaries SET version = version + 1 WHERE id = $1", beneficiary)
            finally:
                await changed.close()
            with pytest.raises(OpeningRaced):
                await work.commit()
    finally:
        await engine.dispose()
    assert await rows_about(test_db_url, str(case.id)) == {"cases": 0, "journal": 0, "events": 0, "audit": 0}
    assert found.beneficiary.sex is Sex.FEMALE


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
    assert await rows_about(test_db_url, first.json()["id"]) == {"cases": 1, "journal": 1, "events": 2, "audit": 1}
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


async def test_consent_changes_and_personal_facts_bump_the_profile_revision_an_opening_checks(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    h = bearer(token("de-berlin-system", "case-api", ALL))
    beneficiary = await register(client, h, consent=False)
    await client.post("/v1/cases", json={"beneficiary_id": beneficiary, "programme": "return_reintegration"}, headers=h)

    async def revision() -> tuple[int, int]:
        conn = await asyncpg.connect(plain(test_db_url))
        try:
            row = await conn.fetchrow(
                "SELECT version, profile_revision FROM beneficiaries WHERE id = $1", uuid.UUID(beneficiary)
            )
        finally:
            await conn.close()
        assert row is not None
        return int(row["version"]), int(row["profile_revision"])

    assert await revision() == (1, 0)
    given = await client.post(f"/v1/beneficiaries/{beneficiary}/consents", json=M_AND_E, headers=h)
    assert given.status_code == 201, given.text
    after_given = await revision()
    assert after_given[0] == 1
    assert after_given[1] > 0
    withdrawn = await client.post(
        f"/v1/consents/{given.json()['id']}/withdrawal", json={"channel": "staff"}, headers={**h, "If-Match": '"1"'}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert (await revision())[1] > after_given[1]
    patched = await client.patch(
        f"/v1/beneficiaries/{beneficiary}", json={"country_of_origin": "GM"}, headers={**h, "If-Match": '"1"'}
    )
    assert patched.status_code == 200, patched.text
    assert (await revision())[0] == 2  # a personal fact: the version an opening checks too


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
    the same case, journal row, pending mark, events and audit entry, a return profile and date given included."""
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
    assert api_rows["pending"][0]["published_returned_on"] is None
    assert [e[1] for e in api_rows["events"]] == ["casebridge.case.opened.v1", PROFILE]
    assert api_rows["events"][1][2]["mode_of_return"] == "avrr_voluntary"


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
                await work.openings.read(beneficiary, office_id="de-berlin", claim=None)
        async with CaseOpeningWork(engine) as work:
            found = await work.openings.read(beneficiary, office_id="de-berlin", claim=None)
        assert found.beneficiary is not None
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
            found = await work.openings.read(beneficiary, office_id="de-berlin", claim=None)
            assert not work.openings._connection.is_in_transaction()
        assert found.beneficiary is not None
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
