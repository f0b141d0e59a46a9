"""The transfer job on real PostgreSQL, time driven by `now`: reminders, expiry, consent loss, two workers."""

import asyncio
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from case_service.domain.consent import ConsentMethod, ConsentRecord
from case_service.domain.models import Beneficiary, Sex, open_case_for
from case_service.domain.transfers import CaseTransfer, TransferStatus
from case_service.schemas.transfers import ProposeTransfer
from case_service.service_layer import transfers
from case_service.settings import Settings
from case_service.unit_of_work import CaseUnitOfWork
from case_service.worker import JOBS
from casebridge_common.access import ConsentStatus, GivenBy
from casebridge_common.audit import AuditEntry
from casebridge_common.auth import Principal
from casebridge_common.events.contracts.case import Programme
from casebridge_common.outbox import OutboxMessage

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
TIMERS = transfers.TransferTimers(respond_within=timedelta(days=7), remind_after=timedelta(days=4))
BERLIN = Principal(
    subject="anna.schmidt",
    client_id="de-berlin-system",
    organisation_id="iom-germany",
    office_id="de-berlin",
    country="DE",
    scopes=frozenset({"cases:read", "cases:write", "cases.sensitive:read"}),
    roles=frozenset({"case_manager"}),
)
HANDOVER: dict[str, object] = {
    "data_categories": ["identity_biodata", "reintegration_plan"],
    "purposes": ["cross_border_handover"],
    "offices": ["sn-dakar"],
}


def new_uow(sessions: async_sessionmaker[AsyncSession]) -> CaseUnitOfWork:
    return CaseUnitOfWork(sessions)


async def sweep(sessions: async_sessionmaker[AsyncSession], *, now: datetime) -> dict[str, int]:
    """One round of the worker's transfer jobs at `now`, each in its own transaction as the job loop runs them."""
    settings = Settings(database_url="postgresql+asyncpg://unused/db", oidc_issuer="http://unused")
    changed = {}
    for name in ("transfer-deadlines", "transfer-consent-check"):
        async with new_uow(sessions) as uow:
            changed[name] = await JOBS[name](uow, settings, now)
            await uow.commit()
    return changed


async def proposed(sessions: async_sessionmaker[AsyncSession]) -> tuple[CaseTransfer, UUID]:
    """A Berlin case with a handover consent, proposed to Dakar at NOW; returns the transfer and the consent."""
    async with new_uow(sessions) as uow:
        beneficiary = Beneficiary(
            given_name="Awa",
            family_name="Ndiaye",
            sex=Sex.FEMALE,
            born_on=date(1994, 3, 17),
            nationality="SN",
            registering_office_id="de-berlin",
            registered_at=NOW - timedelta(days=30),
        )
        case = open_case_for(
            beneficiary.id,
            programme=Programme.RETURN_REINTEGRATION,
            office_id="de-berlin",
            organisation_id="iom-germany",
            assigned_worker=None,
            now=NOW - timedelta(days=30),
        )
        consent = ConsentRecord(
            beneficiary_id=beneficiary.id,
            status=ConsentStatus.GIVEN,
            given_by=GivenBy.SELF,
            method=ConsentMethod.WRITTEN,
            notice_version="handover-notice-v1",
            scopes=[HANDOVER],
            valid_from=NOW - timedelta(days=1),
            recorded_by="anna.schmidt",
            recorded_by_office_id="de-berlin",
            recorded_at=NOW - timedelta(days=1),
        )
        for row in (beneficiary, case, consent):  # no ORM relationships: parents are flushed first by hand
            uow.session.add(row)
            await uow.session.flush()
        command = ProposeTransfer(to_office_id="sn-dakar", to_organisation_id="iom-senegal", to_country="SN")
        transfer = await transfers.propose_transfer(uow, case.id, command, actor=BERLIN, timers=TIMERS, now=NOW)
        await uow.commit()
    return transfer, consent.id


async def current(sessions: async_sessionmaker[AsyncSession], transfer_id: UUID) -> CaseTransfer:
    async with sessions() as session:
        transfer = await session.get(CaseTransfer, transfer_id)
        assert transfer is not None
        return transfer


async def event_types(sessions: async_sessionmaker[AsyncSession], key: UUID) -> list[str]:
    async with sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(col(OutboxMessage.key) == str(key)).order_by(col(OutboxMessage.seq))
        )
        return [str(r.event["type"]) for r in rows]


async def test_the_reminder_is_sent_once_at_its_time(committed_sessions: async_sessionmaker[AsyncSession]) -> None:
    transfer, _ = await proposed(committed_sessions)
    early = await sweep(committed_sessions, now=transfer.remind_at - timedelta(seconds=1))
    assert early["transfer-deadlines"] == 0
    for _ in range(2):  # the job runs again: nothing new
        await sweep(committed_sessions, now=transfer.remind_at + timedelta(minutes=1))
    types = await event_types(committed_sessions, transfer.case_id)
    assert types.count("casebridge.case.transfer_reminder_due.v1") == 1
    after = await current(committed_sessions, transfer.id)
    assert (after.status, after.reminded_at) == (TransferStatus.PROPOSED, transfer.remind_at + timedelta(minutes=1))


async def test_an_unanswered_transfer_expires_at_its_deadline(
    committed_sessions: async_sessionmaker[AsyncSession],
) -> None:
    transfer, _ = await proposed(committed_sessions)
    swept = await sweep(committed_sessions, now=transfer.respond_by)
    assert swept["transfer-deadlines"] == 1
    assert (await current(committed_sessions, transfer.id)).status is TransferStatus.EXPIRED
    types = await event_types(committed_sessions, transfer.case_id)
    # the worker was away at the reminder time: past the deadline only the expiry is announced
    assert types[-1] == "casebridge.case.transfer_ended.v1"
    assert "casebridge.case.transfer_reminder_due.v1" not in types
    async with committed_sessions() as session:
        ended = (
            await session.scalars(select(OutboxMessage).where(col(OutboxMessage.key) == str(transfer.case_id)))
        ).all()[-1]
        audited = (
            await session.scalars(
                select(AuditEntry).where(
                    col(AuditEntry.resource_id) == str(transfer.id), col(AuditEntry.action) == "update"
                )
            )
        ).all()
    assert ended.event["data"]["outcome"] == "expired"
    assert [a.actor_subject for a in audited] == [transfers.WORKER.subject]
    again = await sweep(committed_sessions, now=transfer.respond_by + timedelta(days=1))
    assert again["transfer-deadlines"] == 0


async def test_a_withdrawn_consent_cancels_the_pending_transfer(
    committed_sessions: async_sessionmaker[AsyncSession],
) -> None:
    transfer, consent_id = await proposed(committed_sessions)
    later = NOW + timedelta(hours=2)
    unchanged = await sweep(committed_sessions, now=later)
    assert unchanged["transfer-consent-check"] == 0
    async with committed_sessions() as session, session.begin():
        await session.execute(
            update(ConsentRecord).where(col(ConsentRecord.id) == consent_id).values(status=ConsentStatus.WITHDRAWN)
        )
    swept = await sweep(committed_sessions, now=later)
    assert swept["transfer-consent-check"] == 1
    after = await current(committed_sessions, transfer.id)
    assert (after.status, after.reason) == (TransferStatus.CANCELLED, "consent_withdrawn")
    types = await event_types(committed_sessions, transfer.case_id)
    assert types[-1] == "casebridge.case.transfer_ended.v1"
    assert (await sweep(committed_sessions, now=later))["transfer-consent-check"] == 0


async def test_two_workers_at_once_send_each_reminder_once(
    committed_sessions: async_sessionmaker[AsyncSession],
) -> None:
    made = [await proposed(committed_sessions) for _ in range(3)]
    at = made[0][0].remind_at + timedelta(minutes=5)
    await asyncio.gather(sweep(committed_sessions, now=at), sweep(committed_sessions, now=at))
    for transfer, _ in made:
        types = await event_types(committed_sessions, transfer.case_id)
        assert types.count("casebridge.case.transfer_reminder_due.v1") == 1
