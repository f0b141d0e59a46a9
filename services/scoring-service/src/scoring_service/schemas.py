from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from casebridge_common.events.contracts.case import Programme
from casebridge_common.events.contracts.scoring import Administration, ScoreKind
from casebridge_common.http import IsoDate, IsoDateTime
from scoring_service.domain.indicators import CaseGroupBy, GroupBy
from scoring_service.domain.models import ConsentForm, Instrument, InterviewMode, ScheduleStatus, SurveyStatus

Answer = str | list[str]


class SurveyScheduleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    case_id: UUID
    programme: Programme
    administration: Administration
    instrument: Instrument
    status: ScheduleStatus
    opens_on: IsoDate | None = None
    due_on: IsoDate
    created_at: IsoDateTime
    survey_id: UUID | None = None
    completed_at: IsoDateTime | None = None
    overdue_at: IsoDateTime | None = None


class InstrumentSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    version: str
    kind: str
    title: str
    status: str = Field(description="`casebridge-default` is this project's default, not an official rule")
    loaded_by_organisation_id: str | None
    loaded_at: IsoDateTime


class InstrumentRead(InstrumentSummary):
    document: dict[str, object]


class SubmitSurvey(BaseModel):
    """A completed (or interrupted) administration. Answers map question ids to an option code, or a list of codes
    for a "select all applicable" question. Free-text explanations are case-management notes and never scored."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "case_id": "7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11",
                    "instrument": "rss",
                    "instrument_version": "rss-default-v0",
                    "administration": "baseline",
                    "interviewed_on": "2026-12-01",
                    "mode": "in_person",
                    "consent_form": "written",
                    "interviewer_independent_of_case": True,
                    "answers": {"Q1": "ok", "Q8": ["land", "animals"], "Q9": "no"},
                }
            ]
        },
    )

    case_id: UUID
    instrument: Instrument
    instrument_version: str = Field(min_length=1, max_length=64)
    administration: Administration
    interviewed_on: IsoDate
    mode: InterviewMode
    consent_form: ConsentForm = Field(description="written when in person; explicit verbal consent by phone")
    interviewer_independent_of_case: bool
    interrupted: bool = Field(default=False, description="an interrupted survey is discarded: no answers, no score")
    answers: dict[str, Answer] = Field(default_factory=dict, max_length=500)


class DimensionScoreRead(BaseModel):
    dimension: str
    score: float | None
    band: str | None


class ContributionRead(BaseModel):
    question: str
    dimension: str
    indicator: str | None
    value: float | None
    weight: float
    contribution: float | None = Field(description="weight * value / answered weight of the dimension")


class ScoreRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    survey_id: UUID
    case_id: UUID
    kind: ScoreKind = Field(description="`what_if`: a re-score under another version, for comparison only")
    instrument_code: str
    instrument_version: str
    composite: float | None
    composite_band: str | None
    composite_dimension_mean: float | None
    vulnerability_index: float | None = Field(
        description="screening instruments (DoMV) only: V in [-1, 1], risk minus protective factors; else null"
    )
    vulnerability_band: str | None = Field(description="screening instruments only: low, medium or high; else null")
    dimensions: list[DimensionScoreRead]
    contributions: list[ContributionRead]
    dk_dwa_count: int
    low_accuracy_flag: bool = Field(description="too many \"I don't know / I don't wish to answer\" answers")
    target_reached: bool | None = Field(description="composite ≥ the instrument's target (0.5 for the RSS)")
    red_flags: list[str]
    previous_score_id: UUID | None
    change: dict[str, float | None] | None = Field(description="this score minus the previous administration's")
    computed_at: IsoDateTime


class SurveyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    case_id: UUID
    administration: Administration
    instrument_code: str
    instrument_version: str
    routing_version: str | None
    status: SurveyStatus
    interviewed_on: IsoDate
    mode: InterviewMode
    consent_form: ConsentForm
    interviewer_independent_of_case: bool
    schedule_id: UUID | None
    created_at: IsoDateTime
    score: ScoreRead | None = Field(default=None, description="the score under the submitted version")
    what_if_scores: list[ScoreRead] = Field(default_factory=list)


class SurveyDetail(SurveyRead):
    answers: dict[str, Answer] | None


class RescoreSurvey(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"instrument_version": "iom-2027"}]})

    instrument_version: str = Field(min_length=1, max_length=64)


MAX_BATCH = 5000


class SubmitSurveyBatch(BaseModel):
    """Historical administrations to import; each item is accepted or refused on its own."""

    model_config = ConfigDict(extra="forbid")

    items: list[SubmitSurvey] = Field(min_length=1, max_length=MAX_BATCH)


class BatchProblem(BaseModel):
    status: int
    code: str
    detail: str
    errors: list[dict[str, object]] | None = None


class BatchItemResult(BaseModel):
    index: int = Field(description="position of the item in the request")
    status: int = Field(description="201 when stored, otherwise the status a single submission would get")
    survey_id: UUID | None = None
    score_id: UUID | None = None
    composite: float | None = None
    problem: BatchProblem | None = None


class BatchResult(BaseModel):
    accepted: int
    refused: int
    items: list[BatchItemResult]


class IndicatorCell(BaseModel):
    group: dict[str, str]
    suppressed: bool = Field(
        description="fewer distinct cases with a scored survey than the minimum count (before or after the "
        "perturbation of that count), in the cell or in any of its non-empty slices by programme and quarter of "
        "interview, or the next-smallest cell beside a lone suppressed one (secondary suppression): no figures "
        "are shown"
    )
    administrations: int | None = Field(
        description="administrations (surveys), possibly several per case; perturbed by up to ±2"
    )
    discarded: int | None = Field(description="interrupted surveys; perturbed by up to ±2")
    share_target_reached: float | None = Field(
        description="perturbed by up to ±0.5/n (n cases with a value), 3 decimals; null below the minimum count"
    )
    mean_composite: float | None = Field(description="perturbed like the shares, over the score's range")
    mean_by_dimension: dict[str, float | None] = Field(
        description="perturbed like the shares; null when fewer cases than the minimum have a score for it"
    )
    share_by_band: dict[str, dict[str, float] | None] = Field(
        description="per dimension the share of each band, each perturbed like the shares (so they need not sum "
        "to 1); null when fewer cases than the minimum have a band for it"
    )
    share_low_accuracy: float | None = Field(description="perturbed like the shares")


class IndicatorReport(BaseModel):
    instrument: Instrument
    group_by: list[GroupBy]
    minimum_count: int
    cells: list[IndicatorCell]


class TimelineCell(BaseModel):
    group: dict[str, str]
    suppressed: bool = Field(description="as for the score indicators, sliced by programme and quarter of return")
    cases: int | None = Field(
        description="cases with a disclosed quarter of return and days to the first plan; perturbed by up to ±2"
    )
    median_days_return_to_plan: float | None = Field(
        description="median days from the return to the first plan approval (negative: approved before return); "
        "perturbed by up to ±30/n days (n cases), 1 decimal"
    )


class TimelineReport(BaseModel):
    group_by: list[CaseGroupBy]
    minimum_count: int
    cells: list[TimelineCell]
