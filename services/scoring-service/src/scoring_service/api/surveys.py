from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from casebridge_common.problems import problems
from scoring_service.api.dependencies import SurveysRead, UoW
from scoring_service.schemas import SurveyScheduleRead
from scoring_service.service_layer import surveys

router = APIRouter(prefix="/v1/surveys", tags=["surveys"])


@router.get("/schedules", responses=problems(401, 403, 422))
async def list_schedules(
    uow: UoW, who: SurveysRead, case_id: Annotated[UUID, Query(description="the case whose surveys are scheduled")]
) -> list[SurveyScheduleRead]:
    """Which surveys (baseline, intermediary, final) are due for a case the caller's office owns."""
    async with uow:
        return [SurveyScheduleRead.model_validate(s) for s in await surveys.schedules_for_case(uow, case_id, actor=who)]
