"""Escalation of missing withdrawal receipts on real PostgreSQL, time driven by `now`: once per holder, two
workers at once, the compliance view."""

import asyncio
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from case_service.consumers import HANDLERS
from case_service.domain.consent import ConsentMethod, ConsentRecord, ConsentWithdrawal, HolderState
from case_service.domain.models import Beneficiary, Sex
from case_service.service_layer.consent import read_withdrawal
from case_service.settings import Settings
from case_service.unit_of_work import CaseUnitOfWork
from case_service.worker import JOBS
from casebridge_common.access import ConsentStatus, GivenBy
from casebridge_common.auth import Principal
from casebridge_common.events.contracts.consent import (
    ConsentWithdrawalAcknowledged,
    ConsentWithdrawalReceiptOverdue,
    ScopeTerms,
    WithdrawalKind,
)
from casebridge_common.events.envelope import CloudEvent
from casebridge_common.outbox import OutboxMessage

HOLDERS = ["referral-service", "scoring-service", "notification-service"]
SCOPE = ScopeTerms(data_categories=["contact"], purposes=["referral_service_delivery"], organisations=["cfp-dakar"])
DEADLINE = datetime(2026, 12, 11, 9, 0, tzinfo=UTC)
SETTINGS = Settings(database_url="postgresql+asyncpg://unused/db", oidc_issuer="http://unused")
OFFICE = "de-berlin"


async def run_job(sessions: async_sessionmaker[AsyncSession], *, now: datetime) -> int:
    """One round of the worker's escalation job at `now`, in its own transaction as the job loop runs it."""
    async with CaseUnitOfWork(sessions) as uow:
        changed = await JOBS["withdrawal-receipts-overdue"](uow, SETTINGS, now)
        await uow.commit()
    return changed


async def a_withdrawal(sessions: async_sessionmaker[AsyncSession]) -> ConsentWithdrawal:
    """A Berlin beneficiary's withdrawn consent that the three internal holders must acknowledge by DEADLINE."""
    withdrawn_at = DEADLINE - timedelta(hours=24)
    beneficiary = Beneficiary(
        given_name="Awa",
        family_name="Ndiaye",
        sex=Sex.FEMALE,
        born_on=date(1994, 3, 17),
        nationality="SN",
        registering_office_id=OFFICE,
        registering_organisation_id="iom-germany",
        registered_at=withdrawn_at - timedelta(days=30),
    )
    record = ConsentRecord(
        beneficiary_id=beneficiary.id,
        status=ConsentStatus.WITHDRAWN,
        given_by=GivenBy.SELF,
        method=ConsentMethod.WRITTEN,
        notice_version="notice-2026-01",
        scopes=[SCOPE.model_dump(mode="json")],
        valid_from=withdrawn_at - timedelta(days=30),
        recorded_by="anna.schmidt",
        recorded_by_office_id=OFFICE,
        recorded_at=withdrawn_at - timedelta(days=30),
        withdrawn_at=withdrawn_at,
    )
    withdrawal = ConsentWithdrawal(
        consent_id=record.id,
        beneficiary_id=beneficiary.id,
        owner_office_id=OFFICE,
        kind=WithdrawalKind.WITHDRAWN,
        withdrawn_scopes=[SCOPE.model_dump(mode="json")],
        expected_holders=HOLDERS,
        withdrawn_at=withdrawn_at,
        acknowledge_by=DEADLINE,
    )
    async with CaseUnitOfWork(sessions) as uow:
        for row in (beneficiary, record, withdrawal):  # no ORM relationships: parents are flushed first by hand
            uow.session.add(row)
            await uow.session.flush()
        await uow.commit()
    return withdrawal


async def acknowledge(sessions: async_sessionmaker[AsyncSession], withdrawal: ConsentWithdrawal, holder: str) -> None:
    event = CloudEvent.wrap(
        ConsentWithdrawalAcknowledged(
            withdrawal_id=withdrawal.id,
            consent_id=withdrawal.consent_id,
            beneficiary_id=withdrawal.beneficiary_id,
            holder=holder,
            purged=0,
            redacted=1,
            acknowledged_at=DEADLINE - timedelta(hours=2),
        ),
        source=f"/casebridge/{holder}",
    )
    await HANDLERS[ConsentWithdrawalAcknowledged.type](event, CaseUnitOfWork(sessions))


async def overdue_events(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, object]]:
    async with sessions() as session:
        rows = await session.scalars(select(OutboxMessage).order_by(col(OutboxMessage.seq)))
        return [dict(r.event["data"]) for r in rows if r.event["type"] == ConsentWithdrawalReceiptOverdue.type]


async def test_each_holder_without_a_receipt_is_reported_once_after_the_deadline(
    committed_sessions: async_sessionmaker[AsyncSession],
) -> None:
    withdrawal = await a_withdrawal(committed_sessions)
    await acknowledge(committed_sessions, withdrawal, "referral-service")
    assert await run_job(committed_sessions, now=DEADLINE - timedelta(seconds=1)) == 0  # still in time
    late = DEADLINE + timedelta(minutes=1)
    assert await run_job(committed_sessions, now=late) == 2
    for _ in range(2):  # the job runs every round: nothing new after the first report
        assert await run_job(committed_sessions, now=late + timedelta(hours=1)) == 0
    events = await overdue_events(committed_sessions)
    common = {
        "consent_id": str(withdrawal.consent_id),
        "beneficiary_id": str(withdrawal.beneficiary_id),
        "case_ids": [],
        "owner_office_id": OFFICE,
        "withdrawal_id": str(withdrawal.id),
        "acknowledge_by": "2026-12-11T09:00:00Z",
        "reported_at": "2026-12-11T09:01:00Z",
    }
    assert sorted(events, key=lambda e: str(e["holder"])) == [
        common | {"holder": "notification-service"},
        common | {"holder": "scoring-service"},
    ]


async def test_a_withdrawal_is_escalated_although_the_holders_acknowledged_an_earlier_one(
    committed_sessions: async_sessionmaker[AsyncSession],
) -> None:
    answered = await a_withdrawal(committed_sessions)
    for holder in HOLDERS:  # a normal, fully answered withdrawal
        await acknowledge(committed_sessions, answered, holder)
    unanswered = await a_withdrawal(committed_sessions)
    late = DEADLINE + timedelta(minutes=1)
    assert await run_job(committed_sessions, now=late) == 3  # the receipts of another withdrawal do not count
    reported = [e for e in await overdue_events(committed_sessions) if e["withdrawal_id"] == str(unanswered.id)]
    assert sorted(str(e["holder"]) for e in reported) == sorted(HOLDERS)


async def test_a_late_receipt_is_counted_and_the_report_stays_in_the_compliance_view(
    committed_sessions: async_sessionmaker[AsyncSession],
) -> None:
    withdrawal = await a_withdrawal(committed_sessions)
    late = DEADLINE + timedelta(minutes=1)
    await run_job(committed_sessions, now=late)
    await acknowledge(committed_sessions, withdrawal, "scoring-service")  # after the escalation
    assert await run_job(committed_sessions, now=late + timedelta(hours=1)) == 0
    dpo = Principal(
        subject="dpo",
        client_id="test",
        organisation_id="iom-germany",
        office_id=OFFICE,
        country="DE",
        scopes=frozenset({"audit:read"}),
        roles=frozenset({"data_controller"}),
    )
    async with CaseUnitOfWork(committed_sessions) as uow:
        view = await read_withdrawal(uow, withdrawal.id, actor=dpo, now=late + timedelta(hours=2))
    assert {(h.holder, h.state, h.reported_at) for h in view.holders} == {
        ("referral-service", HolderState.OVERDUE, late),
        ("scoring-service", HolderState.ACKNOWLEDGED, late),
        ("notification-service", HolderState.OVERDUE, late),
    }


async def test_two_workers_at_once_report_every_holder_exactly_once(
    committed_sessions: async_sessionmaker[AsyncSession],
) -> None:
    withdrawals = [await a_withdrawal(committed_sessions) for _ in range(3)]
    late = DEADLINE + timedelta(minutes=1)
    counts = await asyncio.gather(run_job(committed_sessions, now=late), run_job(committed_sessions, now=late))
    assert sum(counts) == 9
    reported = [(e["withdrawal_id"], e["holder"]) for e in await overdue_events(committed_sessions)]
    assert sorted(reported) == sorted((str(w.id), h) for w in withdrawals for h in HOLDERS)
