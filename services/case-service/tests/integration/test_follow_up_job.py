"""The overdue follow-up job on real PostgreSQL, time driven by `now`: once per visit, two workers, closure."""

import asyncio
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from case_service.domain.follow_ups import FollowUpVisit, Schedule, VisitOutcome, VisitStatus
from case_service.domain.models import Beneficiary, Case, Sex, open_case_for
from case_service.domain.stages import Stage
from case_service.service_layer import follow_ups
from case_service.settings import Settings
from case_service.unit_of_work import CaseUnitOfWork
from case_service.worker import JOBS
from casebridge_common.audit import AuditEntry
from casebridge_common.auth import Principal
from casebridge_common.events.contracts.case import Programme
from casebridge_common.outbox import OutboxMessage

STARTED = datetime(2026, 9, 1, 10, 0, tzinfo=UTC)  # the plan was signed: follow-up starts
FIRST_VISIT = date(2026, 12, 1)  # standard schedule: 3 months later
DUE = "casebridge.case.follow_up_due.v1"
DAKAR = Principal(
    subject="fatou.diop",
    client_id="sn-dakar-system",
    organisation_id="iom-senegal",
    office_id="sn-dakar",
    country="SN",
    scopes=frozenset({"cases:read", "cases:write", "cases.sensitive:read"}),
    roles=frozenset({"case_manager"}),
)
SETTINGS = Settings(database_url="postgresql+asyncpg://unused/db", oidc_issuer="http://unused")


def at(day: date, hour: int = 2) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


async def run_job(sessions: async_sessionmaker[AsyncSession], *, now: datetime) -> int:
    """One round of the worker's follow-up job at `now`, in its own transaction as the job loop runs it."""
    async with CaseUnitOfWork(sessions) as uow:
        changed = await JOBS["follow-up-overdue"](uow, SETTINGS, now)
        await uow.commit()
    return changed


async def implementing_case(sessions: async_sessionmaker[AsyncSession]) -> UUID:
    """A Dakar return case that entered implementation at STARTED, with its schedule generated then."""
    async with CaseUnitOfWork(sessions) as uow:
        beneficiary = Beneficiary(
            given_name="Moussa",
            family_name="Ndiaye",
            sex=Sex.MALE,
            born_on=date(1990, 5, 2),
            nationality="SN",
            registering_office_id="sn-dakar",
            registered_at=STARTED - timedelta(days=90),
        )
        case = open_case_for(
            beneficiary.id,
            programme=Programme.RETURN_REINTEGRATION,
            office_id="sn-dakar",
            organisation_id="iom-senegal",
            assigned_worker="fatou.diop",
            now=STARTED - timedelta(days=90),
        )
        for row in (beneficiary, case):  # no ORM relationships: parents are flushed first by hand
            uow.session.add(row)
            await uow.session.flush()
        case.stage = Stage.IMPLEMENTATION
        await follow_ups.on_stage_entered(uow, case, actor=DAKAR, now=STARTED)
        await uow.commit()
    return case.id


async def visits(sessions: async_sessionmaker[AsyncSession], case_id: UUID) -> list[FollowUpVisit]:
    async with sessions() as session:
        query = select(FollowUpVisit).where(col(FollowUpVisit.case_id) == case_id).order_by(FollowUpVisit.planned_on)
        return list((await session.scalars(query)).all())


async def due_events(sessions: async_sessionmaker[AsyncSession], case_id: UUID) -> list[dict[str, object]]:
    async with sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(col(OutboxMessage.key) == str(case_id)).order_by(col(OutboxMessage.seq))
        )
        return [dict(r.event["data"]) for r in rows if r.event["type"] == DUE]


async def test_entering_implementation_plans_the_standard_schedule_from_that_day(
    committed_sessions: async_sessionmaker[AsyncSession],
) -> None:
    case_id = await implementing_case(committed_sessions)
    planned = await visits(committed_sessions, case_id)
    assert [v.planned_on for v in planned] == [
        FIRST_VISIT,
        date(2027, 3, 1),
        date(2027, 6, 1),
        date(2027, 9, 1),
        date(2027, 12, 1),
        date(2028, 3, 1),
    ]
    assert {(v.schedule, v.status, v.anchor_on) for v in planned} == {
        (Schedule.STANDARD, VisitStatus.PLANNED, STARTED.date())
    }


async def test_an_unrecorded_visit_is_reported_once_after_the_allowed_days(
    committed_sessions: async_sessionmaker[AsyncSession],
) -> None:
    case_id = await implementing_case(committed_sessions)
    assert await run_job(committed_sessions, now=at(FIRST_VISIT + timedelta(days=7))) == 0  # still within 7 days
    late = at(FIRST_VISIT + timedelta(days=8))
    for _ in range(3):  # the job runs every minute: nothing new after the first report
        await run_job(committed_sessions, now=late)
    [event] = await due_events(committed_sessions, case_id)
    first = (await visits(committed_sessions, case_id))[0]
    assert event == {
        "case_id": str(case_id),
        "visit_id": str(first.id),
        "owner_office_id": "sn-dakar",
        "phase": "follow_up",
        "kind": "home_visit",
        "planned_on": FIRST_VISIT.isoformat(),
        "overdue_at": late.isoformat().replace("+00:00", "Z"),
    }
    assert (first.overdue_at, first.is_overdue, first.version) == (late, True, 2)
    async with committed_sessions() as session:
        audited = await session.scalars(
            select(AuditEntry).where(col(AuditEntry.resource_id) == str(first.id), col(AuditEntry.action) == "update")
        )
        assert [e.actor_subject for e in audited] == ["case-service.follow-up-overdue"]


async def test_a_recorded_visit_or_a_closed_case_is_never_reported(
    committed_sessions: async_sessionmaker[AsyncSession],
) -> None:
    recorded, closed = await implementing_case(committed_sessions), await implementing_case(committed_sessions)
    async with CaseUnitOfWork(committed_sessions) as uow:
        visit = (await uow.follow_ups.of_phase(recorded, (await visits(committed_sessions, recorded))[0].phase))[0]
        visit.record(
            VisitStatus.COMPLETED,
            held_on=FIRST_VISIT,
            outcome=VisitOutcome.PLAN_ON_TRACK,
            by="fatou.diop",
            now=at(FIRST_VISIT, 15),
        )
        case = await uow.cases.get(closed, for_update=True)
        assert case is not None
        case.stage = Stage.CLOSED
        await follow_ups.on_stage_entered(uow, case, actor=DAKAR, now=at(FIRST_VISIT - timedelta(days=1)))
        await uow.commit()
    await run_job(committed_sessions, now=at(FIRST_VISIT + timedelta(days=30)))
    assert await due_events(committed_sessions, recorded) == []
    assert await due_events(committed_sessions, closed) == []
    assert {v.status for v in await visits(committed_sessions, closed)} == {VisitStatus.CANCELLED}


async def test_two_workers_at_once_report_each_visit_once(
    committed_sessions: async_sessionmaker[AsyncSession],
) -> None:
    cases = [await implementing_case(committed_sessions) for _ in range(3)]
    late = at(FIRST_VISIT + timedelta(days=10))
    counts = await asyncio.gather(run_job(committed_sessions, now=late), run_job(committed_sessions, now=late))
    assert sum(counts) == 3
    for case_id in cases:
        assert len(await due_events(committed_sessions, case_id)) == 1


async def test_the_overdue_filter_finds_only_cases_with_a_reported_planned_visit(
    committed_sessions: async_sessionmaker[AsyncSession],
) -> None:
    overdue, on_time = await implementing_case(committed_sessions), await implementing_case(committed_sessions)
    async with CaseUnitOfWork(committed_sessions) as uow:
        first = (await uow.follow_ups.page(on_time, status=None, after=None, limit=1))[0]
        first.record(
            VisitStatus.MISSED, held_on=None, outcome=VisitOutcome.NOT_REACHED, by="fatou.diop", now=at(FIRST_VISIT)
        )
        await uow.commit()
    now = at(FIRST_VISIT + timedelta(days=9))
    await run_job(committed_sessions, now=now)
    async with CaseUnitOfWork(committed_sessions) as uow:
        found: list[Case] = await uow.cases.page_related(
            who=DAKAR, now=now, programme=None, stage=None, after=None, limit=10, overdue_follow_ups=True
        )
    assert [c.id for c in found] == [overdue]
