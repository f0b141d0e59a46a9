from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from scoring_service.domain.models import SurveySchedule


class SurveySchedules:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, schedule: SurveySchedule) -> None:
        self._session.add(schedule)

    async def for_case(self, case_id: UUID, *, office_id: str | None = None) -> list[SurveySchedule]:
        query = select(SurveySchedule).where(col(SurveySchedule.case_id) == case_id)
        if office_id is not None:
            query = query.where(col(SurveySchedule.owner_office_id) == office_id)
        return list(
            (await self._session.scalars(query.order_by(col(SurveySchedule.due_on), col(SurveySchedule.id)))).all()
        )
