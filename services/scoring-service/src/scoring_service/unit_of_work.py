from sqlalchemy.ext.asyncio import AsyncSession

from casebridge_common.db import UnitOfWork
from scoring_service.repositories import SurveySchedules


class ScoringUnitOfWork(UnitOfWork):
    source = "/casebridge/scoring-service"

    def bind(self, session: AsyncSession) -> None:
        self.surveys = SurveySchedules(session)
