import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casebridge_common.events.contracts.case import CaseOpened, Programme
from casebridge_common.events.envelope import CloudEvent
from casebridge_common.outbox import OutboxMessage
from scoring_service.consumers import handlers
from scoring_service.service_layer.surveys import mark_overdue
from scoring_service.unit_of_work import ScoringUnitOfWork


async def test_a_baseline_past_its_date_is_marked_overdue_once_with_one_event(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    opened_at = datetime.now(UTC) - timedelta(days=45)
    opened = CaseOpened(
        case_id=uuid.uuid4(),
        case_version=1,
        beneficiary_id=uuid.uuid4(),
        programme=Programme.RETURN_REINTEGRATION,
        owner_office_id="sn-dakar",
        owner_organisation_id="iom-senegal",
        opened_at=opened_at,
    )
    await handlers(baseline_window_days=30)[CaseOpened.type](
        CloudEvent.wrap(opened, source="/casebridge/case-service"), ScoringUnitOfWork(sessions)
    )
    today = datetime.now(UTC).date()
    for _ in range(2):  # the next round finds nothing new
        async with ScoringUnitOfWork(sessions) as uow:
            await mark_overdue(uow, today=today, now=datetime.now(UTC))
            await uow.commit()
    async with ScoringUnitOfWork(sessions) as uow:
        [schedule] = await uow.surveys.for_case(opened.case_id)
        emitted = (
            await uow.session.scalars(select(OutboxMessage).where(OutboxMessage.key == str(opened.case_id)))  # type: ignore[arg-type]
        ).all()
    assert (schedule.status, schedule.overdue_at is not None) == ("overdue", True)
    assert [m.event["type"] for m in emitted] == ["casebridge.survey.due.v1", "casebridge.survey.overdue.v1"]
    assert emitted[1].event["data"]["due_on"] == str(opened_at.date() + timedelta(days=30))


async def test_a_case_opened_event_makes_the_case_known_to_its_office(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    opened = CaseOpened(
        case_id=uuid.uuid4(),
        case_version=1,
        beneficiary_id=uuid.uuid4(),
        programme=Programme.RESETTLEMENT_INTEGRATION,
        owner_office_id="de-berlin",
        owner_organisation_id="iom-germany",
        opened_at=datetime.now(UTC),
    )
    event = CloudEvent.wrap(opened, source="/casebridge/case-service")
    for _ in range(2):
        await handlers(baseline_window_days=30)[CaseOpened.type](event, ScoringUnitOfWork(sessions))
    async with ScoringUnitOfWork(sessions) as uow:
        case = await uow.cases.get(opened.case_id)
    assert case is not None
    assert (case.owner_office_id, case.programme) == ("de-berlin", "resettlement_integration")
