from sqlalchemy.ext.asyncio import AsyncSession

from casebridge_common.db import UnitOfWork
from scoring_service.repositories import (
    Cases,
    Erasures,
    Exclusions,
    IndicatorFacts,
    Instruments,
    MonitoringProfiles,
    Receipts,
    Scores,
    Surveys,
    SurveySchedules,
)


class ScoringUnitOfWork(UnitOfWork):
    source = "/casebridge/scoring-service"

    def bind(self, session: AsyncSession) -> None:
        self.surveys = SurveySchedules(session)
        self.cases = Cases(session)
        self.instruments = Instruments(session)
        self.administrations = Surveys(session)
        self.scores = Scores(session)
        self.indicators = IndicatorFacts(session)
        self.exclusions = Exclusions(session)
        self.receipts = Receipts(session)
        self.erasures = Erasures(session)
        self.profiles = MonitoringProfiles(session)
