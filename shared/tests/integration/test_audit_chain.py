"""The audit hash chain on real PostgreSQL: entries committed unsealed, chained by the sealer in order and kept
whole under concurrent commits and sealers, denied decisions kept through a rollback, the table append-only but
for the seal, and tampering found by every verification path."""

import asyncio
import itertools
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from mechanism_probes import Effect, TestUnitOfWork
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from casebridge_common.access import Decision, Reason
from casebridge_common.app import create_service_app
from casebridge_common.audit import GENESIS_HASH, AuditAction, AuditEntry, entry_hash, seal_pending, verify_chain
from casebridge_common.auth import Principal
from casebridge_common.settings import ServiceSettings
from casebridge_common.testing.plugin import TokenFor, bearer
from casebridge_common.worker import _seal_audit

Sessions = async_sessionmaker[AsyncSession]
CASE_ID = uuid.UUID("7f3c2a1e-0000-4000-8000-000000000001")


def a_principal(office: str = "de-berlin") -> Principal:
    return Principal(
        subject=f"{office}-worker",
        client_id=f"{office}-system",
        organisation_id="iom-germany",
        office_id=office,
        country="DE",
        scopes=frozenset(),
        roles=frozenset(),
    )


async def record_and_commit(sessions: Sessions, n: int, *, tag: str = "x") -> None:
    async with TestUnitOfWork(sessions) as uow:
        uow.session.add(Effect(subject=tag, n=n))
        for i in range(n):
            uow.audit.record(a_principal(), AuditAction.VIEW, resource_type="case", resource_id=f"{tag}-{i}")
        await uow.commit()


async def entries(sessions: Sessions) -> list[AuditEntry]:
    """Every entry: the sealed ones in chain order, then the unsealed ones in the order the sealer takes them."""
    async with sessions() as session:
        query = select(AuditEntry).order_by(col(AuditEntry.seq).nulls_last(), col(AuditEntry.at), col(AuditEntry.id))
        return list((await session.scalars(query)).all())


async def tamper(sessions: Sessions, sql: str) -> None:
    """As the superuser the tests connect as: switch the append-only trigger off, change the table, switch it on."""
    async with sessions() as session, session.begin():
        await session.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_no_update_or_delete"))
        await session.execute(text(sql))
        await session.execute(text("ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_no_update_or_delete"))


async def test_committed_entries_wait_unsealed_for_the_sealer(committed_sessions: Sessions) -> None:
    await record_and_commit(committed_sessions, 3)
    written = await entries(committed_sessions)
    assert [(e.seq, e.prev_hash, e.entry_hash) for e in written] == [(None, None, None)] * 3
    assert [e.resource_id for e in written] == ["x-0", "x-1", "x-2"]  # (at, id) keeps the record order


async def test_the_sealer_chains_entries_in_commit_and_record_order(sessions: Sessions) -> None:
    before = await verify_chain(sessions)
    await record_and_commit(sessions, 2, tag="first")
    await record_and_commit(sessions, 3, tag="second")

    assert await seal_pending(sessions, batch=2) == 5
    assert await seal_pending(sessions) == 0
    chained = [e for e in await entries(sessions) if (e.seq or 0) > (before.last_seq or 0)]
    assert [e.seq for e in chained] == list(range((before.last_seq or 0) + 1, (before.last_seq or 0) + 6))
    assert [e.resource_id for e in chained] == ["first-0", "first-1", "second-0", "second-1", "second-2"]
    for previous, entry in itertools.pairwise(chained):
        assert entry.prev_hash == previous.entry_hash
    assert all(e.entry_hash == entry_hash(e.model_dump()) for e in chained)
    result = await verify_chain(sessions)
    assert (result.ok, result.entries_checked, result.sealed_before_check) == (True, before.entries_checked + 5, 0)


async def test_the_first_entry_links_to_the_genesis_hash(committed_sessions: Sessions) -> None:
    await record_and_commit(committed_sessions, 1)
    assert await seal_pending(committed_sessions) == 1
    [first] = await entries(committed_sessions)
    assert (first.seq, first.prev_hash) == (1, GENESIS_HASH)


async def test_an_entry_keeps_the_decision_case_and_request_it_came_from(committed_sessions: Sessions) -> None:
    share_id = uuid.uuid4()
    tracer = TracerProvider().get_tracer("audit-test")
    with tracer.start_as_current_span("request") as span:
        async with TestUnitOfWork(committed_sessions) as uow:
            uow.audit.record(
                a_principal("sn-dakar"),
                AuditAction.VIEW,
                resource_type="case",
                resource_id=CASE_ID,
                case_id=CASE_ID,
                categories=["contact", "identity_biodata"],
                decision=Decision(True, Reason.SHARE_AND_CONSENT, share_id),
            )
            await uow.commit()
    [entry] = await entries(committed_sessions)
    assert (entry.outcome, entry.reason, entry.basis) == ("allowed", "share-and-consent", str(share_id))
    assert entry.case_id == CASE_ID
    assert entry.request_id == f"{span.get_span_context().trace_id:032x}"
    assert entry.categories == ["contact", "identity_biodata"]


async def test_an_uncommitted_allowed_entry_is_not_written(committed_sessions: Sessions) -> None:
    async with TestUnitOfWork(committed_sessions) as uow:
        uow.audit.record(a_principal(), AuditAction.VIEW, resource_type="case", resource_id=CASE_ID)
    assert await entries(committed_sessions) == []


async def test_concurrent_commits_and_sealers_keep_one_unbroken_chain(committed_sessions: Sessions) -> None:
    writers, rounds, per_commit, sealers = 8, 3, 3, 3
    sealed = 0
    for r in range(rounds):
        done = await asyncio.gather(
            *(record_and_commit(committed_sessions, per_commit, tag=f"w{w}-r{r}") for w in range(writers)),
            *(seal_pending(committed_sessions, batch=4) for _ in range(sealers)),
        )
        sealed += sum(n for n in done if n is not None)
    sealed += sum(await asyncio.gather(*(seal_pending(committed_sessions, batch=4) for _ in range(sealers))))

    written = await entries(committed_sessions)
    assert sealed == len(written) == writers * rounds * per_commit  # each entry sealed once, by one sealer
    assert [e.seq for e in written] == list(range(1, len(written) + 1))
    result = await verify_chain(committed_sessions)
    assert (result.ok, result.entries_checked, result.first_broken_seq) == (True, len(written), None)


async def test_the_worker_job_seals_what_requests_commit(committed_sessions: Sessions) -> None:
    job = asyncio.create_task(_seal_audit(committed_sessions, every_s=0.05))
    try:
        await record_and_commit(committed_sessions, 2)
        for _ in range(200):  # a 10 s deadline
            if all(e.seq is not None for e in await entries(committed_sessions)):
                break
            await asyncio.sleep(0.05)
    finally:
        job.cancel()
    assert [e.seq for e in await entries(committed_sessions)] == [1, 2]


async def test_denied_decisions_are_written_although_the_request_rolls_back(committed_sessions: Sessions) -> None:
    class CaseHidden(Exception):
        pass

    async def a_denied_request() -> None:
        async with TestUnitOfWork(committed_sessions) as uow:
            uow.session.add(Effect(subject="denied", n=1))
            uow.audit.record(a_principal(), AuditAction.VIEW, resource_type="case", resource_id="allowed-part")
            uow.audit.record(
                a_principal("iq-erbil"),
                AuditAction.VIEW,
                resource_type="case",
                resource_id=CASE_ID,
                case_id=CASE_ID,
                decision=Decision(False, Reason.NO_RELATION),
            )
            raise CaseHidden  # the router answers 404; the unit of work rolls back

    with pytest.raises(CaseHidden):
        await a_denied_request()

    [denied] = await entries(committed_sessions)
    assert (denied.outcome, denied.reason, denied.actor_office_id, denied.seq) == (
        "denied",
        "no-relation",
        "iq-erbil",
        None,
    )
    async with committed_sessions() as session:
        assert (await session.scalars(select(Effect).where(col(Effect.subject) == "denied"))).all() == []
    result = await verify_chain(committed_sessions)
    assert (result.ok, result.entries_checked, result.sealed_before_check) == (True, 1, 1)


async def test_denied_decisions_are_written_once_when_the_unit_of_work_commits(committed_sessions: Sessions) -> None:
    async with TestUnitOfWork(committed_sessions) as uow:
        uow.audit.record(a_principal(), AuditAction.VIEW, resource_type="case", resource_id=CASE_ID, outcome="denied")
        await uow.commit()
    assert [e.outcome for e in await entries(committed_sessions)] == ["denied"]


async def test_a_denial_recorded_in_the_rollback_suites_transaction_is_kept(sessions: Sessions) -> None:
    marker = f"probe-{uuid.uuid4()}"
    async with TestUnitOfWork(sessions) as uow:
        uow.audit.record(a_principal(), AuditAction.VIEW, resource_type="case", resource_id=marker, outcome="denied")
    async with sessions() as session:
        kept = (await session.scalars(select(AuditEntry).where(col(AuditEntry.resource_id) == marker))).all()
    assert [e.outcome for e in kept] == ["denied"]


SEAL_X0 = (
    "UPDATE audit_entries SET seq = 3, prev_hash = repeat('0', 64), entry_hash = repeat('e', 64){also}"
    " WHERE resource_id = 'x-0'"
)


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param("UPDATE audit_entries SET purpose = 'research' WHERE seq IS NOT NULL", id="update-sealed"),
        pytest.param("UPDATE audit_entries SET purpose = 'research' WHERE seq IS NULL", id="update-unsealed"),
        pytest.param(SEAL_X0.format(also=", outcome = 'denied'"), id="seal-and-edit"),
        pytest.param(SEAL_X0.format(also=", at = at + interval '1 second'"), id="seal-and-move"),
        pytest.param("UPDATE audit_entries SET seq = 3 WHERE resource_id = 'x-0'", id="seal-without-hashes"),
        pytest.param("UPDATE audit_entries SET entry_hash = repeat('e', 64) WHERE seq = 1", id="reseal"),
        pytest.param("UPDATE audit_entries SET seq = NULL WHERE seq = 2", id="unseal"),
        pytest.param("DELETE FROM audit_entries WHERE seq IS NULL", id="delete-unsealed"),
        pytest.param("DELETE FROM audit_entries", id="delete"),
        pytest.param("TRUNCATE audit_entries", id="truncate"),
    ],
)
async def test_the_audit_table_refuses_changes(committed_sessions: Sessions, statement: str) -> None:
    await record_and_commit(committed_sessions, 2, tag="sealed")
    await seal_pending(committed_sessions)
    await record_and_commit(committed_sessions, 1)
    before = [e.model_dump() for e in await entries(committed_sessions)]
    async with committed_sessions() as session:
        with pytest.raises(DBAPIError, match="append-only"):
            await session.execute(text(statement))
    assert [e.model_dump() for e in await entries(committed_sessions)] == before


async def test_the_audit_table_lets_the_seal_of_an_unsealed_entry_through(committed_sessions: Sessions) -> None:
    await record_and_commit(committed_sessions, 1)
    async with committed_sessions() as session, session.begin():
        await session.execute(text(SEAL_X0.format(also="")))
    [entry] = await entries(committed_sessions)
    assert (entry.seq, entry.prev_hash, entry.entry_hash) == (3, "0" * 64, "e" * 64)


@pytest.mark.parametrize(
    ("sql", "broken_seq", "problem", "intact"),
    [
        pytest.param(
            "UPDATE audit_entries SET categories = ARRAY['health_clinical'] WHERE seq = 3",
            3,
            "hash-mismatch",
            2,
            id="edited-field",
        ),
        pytest.param(
            "UPDATE audit_entries SET prev_hash = repeat('a', 64) WHERE seq = 4",
            4,
            "link-mismatch",
            3,
            id="relinked-entry",
        ),
        pytest.param("DELETE FROM audit_entries WHERE seq = 2", 2, "sequence-gap", 1, id="deleted-entry"),
        pytest.param(
            "INSERT INTO audit_entries (id, seq, at, actor_subject, actor_client_id, action, resource_type,"
            " categories, purpose, outcome, prev_hash, entry_hash)"
            " SELECT gen_random_uuid(), 6, now(), 'forger', 'forger', 'view', 'case', '{}', 'audit', 'allowed',"
            " entry_hash, repeat('f', 64) FROM audit_entries WHERE seq = 5",
            6,
            "hash-mismatch",
            5,
            id="forged-entry",
        ),
    ],
)
async def test_verification_reports_the_first_tampered_entry(
    committed_sessions: Sessions, sql: str, broken_seq: int, problem: str, intact: int
) -> None:
    await record_and_commit(committed_sessions, 5)
    await seal_pending(committed_sessions)
    await tamper(committed_sessions, sql)
    result = await verify_chain(committed_sessions, batch=2)
    assert (result.ok, result.first_broken_seq, result.problem, result.entries_checked) == (
        False,
        broken_seq,
        problem,
        intact,
    )


async def test_verification_seals_pending_entries_first_and_finds_tampering_with_them(
    committed_sessions: Sessions,
) -> None:
    await record_and_commit(committed_sessions, 2, tag="old")
    assert (await verify_chain(committed_sessions)).sealed_before_check == 2
    await record_and_commit(committed_sessions, 2, tag="new")
    await tamper(committed_sessions, "UPDATE audit_entries SET outcome = 'denied' WHERE resource_id = 'old-1'")

    result = await verify_chain(committed_sessions)
    assert (result.ok, result.first_broken_seq, result.problem, result.sealed_before_check) == (
        False,
        2,
        "hash-mismatch",
        2,
    )


def audit_verify(database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "casebridge_common.operations", "audit-verify"],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_the_operator_command_exits_non_zero_on_a_broken_chain(
    fresh_database: str, committed_sessions: Sessions
) -> None:
    await record_and_commit(committed_sessions, 3)
    intact = await asyncio.to_thread(audit_verify, fresh_database)
    assert intact.returncode == 0, intact.stderr
    assert intact.stdout.splitlines()[0].startswith("audit-verify: checking the audit chain of database ")
    assert (
        intact.stdout.splitlines()[-1] == "audit-verify: ok, 3 entries intact (last seq 3; 3 sealed before the check)"
    )

    await tamper(committed_sessions, "UPDATE audit_entries SET actor_office_id = 'sn-dakar' WHERE seq = 2")
    broken = await asyncio.to_thread(audit_verify, fresh_database)
    assert broken.returncode == 1
    assert broken.stdout.splitlines()[-1] == (
        "audit-verify: BROKEN at seq 2 (hash-mismatch); 1 entries before it are intact"
    )


@pytest.fixture
async def any_service(fresh_database: str, oidc_issuer: str) -> AsyncIterator[httpx.AsyncClient]:
    """The application shell alone, as every service builds it (tokens for the case API's audience)."""
    settings = ServiceSettings(
        service_name="audit-test",
        environment="test",
        database_url=fresh_database,  # type: ignore[arg-type]
        oidc_issuer=oidc_issuer,
        oidc_audience="case-api",
    )
    app: FastAPI = create_service_app(settings, title="audit test", description="the shell", routers=[])
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as http:
            yield http


async def test_the_verification_endpoint_reports_an_intact_then_a_broken_chain(
    any_service: httpx.AsyncClient, committed_sessions: Sessions, token: TokenFor
) -> None:
    auditor = bearer(token("de-berlin-system", "case-api", "audit:read"))
    await record_and_commit(committed_sessions, 4)

    intact = await any_service.get("/v1/audit/verification", headers=auditor)
    assert intact.status_code == 200
    assert intact.json() == {
        "ok": True,
        "entries_checked": 4,
        "first_broken_seq": None,
        "problem": None,
        "last_seq": 4,
        "sealed_before_check": 4,
    }

    await tamper(committed_sessions, "UPDATE audit_entries SET outcome = 'denied' WHERE seq = 3")
    broken = await any_service.get("/v1/audit/verification", headers=auditor)
    assert broken.json() == {
        "ok": False,
        "entries_checked": 2,
        "first_broken_seq": 3,
        "problem": "hash-mismatch",
        "last_seq": None,
        "sealed_before_check": 0,
    }


async def test_the_verification_endpoint_needs_the_audit_scope(any_service: httpx.AsyncClient, token: TokenFor) -> None:
    response = await any_service.get(
        "/v1/audit/verification", headers=bearer(token("de-berlin-system", "case-api", "cases:read"))
    )
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient-scope"
    assert (await any_service.get("/v1/audit/verification")).status_code == 401
