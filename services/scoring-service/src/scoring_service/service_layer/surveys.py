from datetime import datetime
from uuid import UUID

from casebridge_common.auth import Principal
from casebridge_common.events.contracts.case import CaseOpened
from casebridge_common.events.contracts.scoring import SurveyDue
from scoring_service.domain.models import SurveySchedule, baseline_for
from scoring_service.unit_of_work import ScoringUnitOfWork


def schedule_baseline(uow: ScoringUnitOfWork, opened: CaseOpened, *, window_days: int, now: datetime) -> SurveySchedule:
    """Record the baseline survey as due. Emits `survey.due`."""
    schedule = baseline_for(
        case_id=opened.case_id,
        owner_office_id=opened.owner_office_id,
        programme=opened.programme,
        opened_at=opened.opened_at,
        window_days=window_days,
        now=now,
    )
    uow.surveys.add(schedule)
    uow.outbox.emit(
        SurveyDue(
            survey_schedule_id=schedule.id,
            case_id=schedule.case_id,
            owner_office_id=schedule.owner_office_id,
            administration=schedule.administration,
            instrument=schedule.instrument,
            due_on=schedule.due_on,
        )
    )
    return schedule


async def schedules_for_case(uow: ScoringUnitOfWork, case_id: UUID, *, actor: Principal) -> list[SurveySchedule]:
    """Only the office that owns the case sees its schedules; for any other office the list is empty."""
    return await uow.surveys.for_case(case_id, office_id=actor.office_id)
