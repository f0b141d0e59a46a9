"""Events of scoring-service: topics ``casebridge.survey.events.v1`` and ``casebridge.score.events.v1``."""

from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import ConfigDict

from casebridge_common.events.envelope import Event


class Administration(StrEnum):
    """When a survey is administered: baseline, repeat (every few months), intermediary, final or ad hoc."""

    BASELINE = "baseline"
    INTERMEDIARY = "intermediary"
    FINAL = "final"
    REPEAT = "repeat"
    AD_HOC = "ad_hoc"


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


class SurveyOverdue(Event):
    """A scheduled survey was not administered by its due date; notification-service turns it into a reminder."""

    type: ClassVar[str] = "casebridge.survey.overdue.v1"
    topic: ClassVar[str] = "casebridge.survey.events.v1"
    survey_schedule_id: UUID
    case_id: UUID
    owner_office_id: str
    administration: Administration
    instrument: str
    due_on: date

    def aggregate_id(self) -> UUID:
        return self.case_id


class ScoreKind(StrEnum):
    PRIMARY = "primary"
    WHAT_IF = "what_if"


class ScoreComputed(Event):
    """A survey was scored. Ids and scores only: never the answers."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "score_id": "5d0c8f7e-2b1a-4c3d-9e8f-7a6b5c4d3e2f",
                    "survey_id": "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d",
                    "case_id": "7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11",
                    "owner_office_id": "de-berlin",
                    "administration": "baseline",
                    "instrument": "rss",
                    "instrument_version": "rss-default-v0",
                    "kind": "primary",
                    "composite": 0.4546875,
                    "dimensions": {"economic": 0.15, "social": 0.6181818181818182, "psychosocial": 0.5681818181818182},
                    "dk_dwa_count": 0,
                    "low_accuracy_flag": False,
                    "computed_at": "2026-12-01T10:00:00Z",
                }
            ]
        }
    )
    type: ClassVar[str] = "casebridge.score.computed.v1"
    topic: ClassVar[str] = "casebridge.score.events.v1"
    score_id: UUID
    survey_id: UUID
    case_id: UUID
    owner_office_id: str
    administration: Administration
    instrument: str
    instrument_version: str
    kind: ScoreKind
    composite: float | None
    dimensions: dict[str, float | None]
    dk_dwa_count: int
    low_accuracy_flag: bool
    computed_at: datetime

    def aggregate_id(self) -> UUID:
        return self.case_id


class ScoreThresholdCrossed(Event):
    """A score entered another band (e.g. a dimension fell below 0.33), or a first score starts in a need band."""

    type: ClassVar[str] = "casebridge.score.threshold_crossed.v1"
    topic: ClassVar[str] = "casebridge.score.events.v1"
    score_id: UUID
    survey_id: UUID
    case_id: UUID
    owner_office_id: str
    instrument: str
    instrument_version: str
    scope: str  # a dimension code, or "composite"
    previous_band: str | None
    band: str
    previous_score: float | None
    score: float

    def aggregate_id(self) -> UUID:
        return self.case_id
