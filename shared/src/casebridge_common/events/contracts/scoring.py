"""Events of scoring-service: topic ``casebridge.survey.events.v1``."""

from datetime import date
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from casebridge_common.events.envelope import Event


class Administration(StrEnum):
    """When the Reintegration Sustainability Survey is administered (baseline, intermediary, final)."""

    BASELINE = "baseline"
    INTERMEDIARY = "intermediary"
    FINAL = "final"


class SurveyDue(Event):
    type: ClassVar[str] = "casebridge.survey.due.v1"
    topic: ClassVar[str] = "casebridge.survey.events.v1"
    survey_schedule_id: UUID
    case_id: UUID
    owner_office_id: str
    administration: Administration
    instrument: str
    due_on: date

    def aggregate_id(self) -> UUID:
        return self.case_id
