import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casebridge_common.events.contracts.case import CaseOpened, Programme
from casebridge_common.events.envelope import CloudEvent
from casebridge_common.outbox import OutboxMessage
from scoring_service.consumers import handlers
from scoring_service.unit_of_work import ScoringUnitOfWork


def a_case_opened(office: str = "de-berlin") -> CloudEvent:
    opened = CaseOpened(
        case_id=uuid.uuid4(),
        case_version=1,
        beneficiary_id=uuid.uuid4(),
        programme=Programme.RETURN_REINTEGRATION,
        owner_office_id=office,
        owner_organisation_id="iom-germany",
        opened_at=datetime.now(UTC),
    )
    return CloudEvent.wrap(opened, source="/casebridge/case-service")


async def test_same_case_opened_twice_schedules_one_baseline_and_emits_one_survey_due(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    event = a_case_opened()
    on_case_opened = handlers(baseline_window_days=30)[CaseOpened.type]
    for _ in range(2):  # Kafka redelivers: at-least-once
        await on_case_opened(event, ScoringUnitOfWork(sessions))
    async with ScoringUnitOfWork(sessions) as uow:
        schedules = await uow.surveys.for_case(uuid.UUID(event.subject))
        emitted = (await uow.session.scalars(select(OutboxMessage).where(OutboxMessage.key == event.subject))).all()  # type: ignore[arg-type]
        assert [(s.administration, s.instrument, s.owner_office_id) for s in schedules] == [
            ("baseline", "rss", "de-berlin")
        ]
        assert [m.event["type"] for m in emitted] == ["casebridge.survey.due.v1"]


async def test_another_office_sees_no_schedule_of_the_case(sessions: async_sessionmaker[AsyncSession]) -> None:
    event = a_case_opened()
    await handlers(baseline_window_days=30)[CaseOpened.type](event, ScoringUnitOfWork(sessions))
    async with ScoringUnitOfWork(sessions) as uow:
        assert await uow.surveys.for_case(uuid.UUID(event.subject), office_id="iq-erbil") == []
        assert len(await uow.surveys.for_case(uuid.UUID(event.subject), office_id="de-berlin")) == 1
