"""Tables of scoring-service: the cases it has heard of, instruments, schedules, surveys and their scores."""

import calendar
from datetime import date, datetime, timedelta
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import BigInteger, Column, DateTime, Float, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from casebridge_common.db import empty_list, enum_type
from casebridge_common.events.contracts.case import Programme
from casebridge_common.events.contracts.consent import WithdrawalKind
from casebridge_common.events.contracts.scoring import Administration, ScoreKind
from scoring_service.domain.instruments import SchedulePlan


class Instrument(StrEnum):
    RSS = "rss"  # IOM Reintegration Sustainability Survey (return & reintegration)
    INTEGRATION = "integration"  # Indicators of Integration instrument (resettlement & integration)
    DOMV = "domv"  # Determinants of Migrant Vulnerability screening


class ScheduleStatus(StrEnum):
    DUE = "due"
    OVERDUE = "overdue"
    COMPLETED = "completed"


BASELINE_INSTRUMENT: dict[Programme, Instrument] = {
    Programme.RETURN_REINTEGRATION: Instrument.RSS,
    Programme.RESETTLEMENT_INTEGRATION: Instrument.INTEGRATION,
}


class SurveySchedule(SQLModel, table=True):
    __tablename__ = "survey_schedules"
    # One baseline per case, whatever the number of deliveries of case.opened; repeats differ by due date.
    __table_args__ = (
        UniqueConstraint("case_id", "administration", "due_on", name="uq_survey_schedules_case_administration_due"),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    case_id: UUID = Field(index=True)
    owner_office_id: str = Field(index=True)
    programme: Programme = Field(sa_type=enum_type(Programme))
    administration: Administration = Field(sa_type=enum_type(Administration))
    instrument: Instrument = Field(sa_type=enum_type(Instrument))
    status: ScheduleStatus = Field(default=ScheduleStatus.DUE, sa_type=enum_type(ScheduleStatus))
    due_on: date
    opens_on: date | None = None
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    survey_id: UUID | None = None
    completed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    overdue_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


def baseline_for(
    *, case_id: UUID, owner_office_id: str, programme: Programme, opened_at: datetime, window_days: int, now: datetime
) -> SurveySchedule:
    """The baseline is administered in month 0-1 after return (rss-survey.md, timing).

    The return date is not known when the case opens, so the window starts at opening (CB-DEFAULT).
    """
    return SurveySchedule(
        case_id=case_id,
        owner_office_id=owner_office_id,
        programme=programme,
        administration=Administration.BASELINE,
        instrument=BASELINE_INSTRUMENT[programme],
        due_on=opened_at.date() + timedelta(days=window_days),
        created_at=now,
    )


class CaseRecord(SQLModel, table=True):
    """What scoring-service knows of a case, from `case.opened` and `case.transferred`: enough to decide which
    office may see it. An erased beneficiary's case keeps only this row, without the beneficiary id."""

    __tablename__ = "cases"

    case_id: UUID = Field(primary_key=True)
    beneficiary_id: UUID | None = Field(default=None, index=True)
    owner_office_id: str = Field(index=True)
    owner_organisation_id: str | None = None
    programme: Programme = Field(sa_type=enum_type(Programme))
    opened_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    case_version: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))
    erased_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


class InstrumentRecord(SQLModel, table=True):
    """One immutable instrument version; `document` is the validated instrument document."""

    __tablename__ = "instruments"

    code: str = Field(primary_key=True)
    version: str = Field(primary_key=True)
    kind: str
    title: str
    status: str
    document: dict[str, object] = Field(sa_column=Column(JSONB, nullable=False))
    checksum: str
    loaded_by_organisation_id: str | None = None
    loaded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class SurveyStatus(StrEnum):
    SCORED = "scored"
    DISCARDED = "discarded"  # interrupted: the answers are discarded entirely and nothing is scored


class InterviewMode(StrEnum):
    IN_PERSON = "in_person"
    PHONE = "phone"
    VIDEO = "video"
    PARTNER = "partner"


class ConsentForm(StrEnum):
    WRITTEN = "written"
    VERBAL_PHONE = "verbal_phone"


class Survey(SQLModel, table=True):
    """One administration of an instrument for a case. Immutable once stored."""

    __tablename__ = "surveys"
    __table_args__ = (Index("ix_surveys_case_created", "case_id", "created_at", "id"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    case_id: UUID
    owner_office_id: str
    administration: Administration = Field(sa_type=enum_type(Administration))
    instrument_code: str
    instrument_version: str
    routing_version: str | None = None
    status: SurveyStatus = Field(sa_type=enum_type(SurveyStatus))
    answers: dict[str, object] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    interviewed_on: date
    mode: InterviewMode = Field(sa_type=enum_type(InterviewMode))
    consent_form: ConsentForm = Field(sa_type=enum_type(ConsentForm))
    interviewer_independent_of_case: bool
    schedule_id: UUID | None = None
    submitted_by: str
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class Score(SQLModel, table=True):
    """An immutable score of one survey under one instrument version."""

    __tablename__ = "scores"
    __table_args__ = (
        UniqueConstraint("survey_id", "instrument_code", "instrument_version", name="uq_scores_survey_id_version"),
        Index("ix_scores_case_computed", "case_id", "computed_at", "id"),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    survey_id: UUID = Field(index=True)
    case_id: UUID
    owner_office_id: str
    kind: ScoreKind = Field(sa_type=enum_type(ScoreKind))
    instrument_code: str
    instrument_version: str
    composite: float | None = Field(default=None, sa_column=Column(Float(precision=53), nullable=True))
    composite_band: str | None = None
    # A screening (DoMV) labels its result as what it is: V in [-1, 1] (risk minus protection) and its risk band.
    # `composite` carries the same value for readers that compare instruments; surveys leave these empty.
    vulnerability_index: float | None = Field(default=None, sa_column=Column(Float(precision=53), nullable=True))
    vulnerability_band: str | None = None
    composite_dimension_mean: float | None = Field(default=None, sa_column=Column(Float(precision=53), nullable=True))
    dimensions: list[dict[str, object]] = Field(sa_column=Column(JSONB, nullable=False))
    contributions: list[dict[str, object]] = Field(sa_column=Column(JSONB, nullable=False))
    dk_dwa_count: int
    low_accuracy_flag: bool
    target_reached: bool | None = None
    red_flags: list[str] = Field(default_factory=empty_list, sa_column=Column(ARRAY(String), nullable=False))
    previous_score_id: UUID | None = None
    change: dict[str, object] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    computed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class AnalysisExclusion(SQLModel, table=True):
    """A case whose survey data no longer enter programme indicators (data-protection.md §2.4 item 6): keyed by
    the case id alone, so it holds even when the withdrawal is consumed before the case's `case.opened`.
    Aggregates published before `excluded_at` are not recalled."""

    __tablename__ = "analysis_exclusions"

    case_id: UUID = Field(primary_key=True)
    beneficiary_id: UUID
    withdrawal_id: UUID
    consent_id: UUID
    excluded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class WithdrawalReceipt(SQLModel, table=True):
    """What scoring-service did about one consent withdrawal, and the acknowledgement it sent for it."""

    __tablename__ = "withdrawal_receipts"

    withdrawal_id: UUID = Field(primary_key=True)
    consent_id: UUID
    beneficiary_id: UUID = Field(index=True)
    kind: WithdrawalKind = Field(sa_type=enum_type(WithdrawalKind))
    case_ids: list[UUID] = Field(sa_column=Column(ARRAY(Uuid), nullable=False))
    concerned_survey_data: bool  # whether the withdrawn scopes covered the programme's analysis of survey data
    cases_excluded: int  # cases newly excluded from analysis
    surveys_excluded: int  # their administrations held when the withdrawal was processed
    purged: int
    redacted: int
    acknowledged_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class BeneficiaryErasure(SQLModel, table=True):
    """The trace an erasure leaves: which cases, how many rows were purged, when. Ids and counts only."""

    __tablename__ = "beneficiary_erasures"

    beneficiary_id: UUID = Field(primary_key=True)
    case_ids: list[UUID] = Field(sa_column=Column(ARRAY(Uuid), nullable=False))
    surveys_purged: int
    scores_purged: int
    schedules_purged: int
    erased_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    processed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class CaseMonitoringProfileRecord(SQLModel, table=True):
    """The latest pseudonymous monitoring profile of a case (`case.monitoring_profile`): banded facts for the
    indicators' disaggregations, each null unless the beneficiary consented to it for M&E. Purged on erasure."""

    __tablename__ = "case_monitoring_profiles"

    case_id: UUID = Field(primary_key=True)
    beneficiary_id: UUID = Field(index=True)
    profile_version: int = Field(sa_column=Column(BigInteger, nullable=False))
    as_of: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    sex: str | None = None
    age_group: str | None = None
    country_of_origin: str | None = Field(default=None, max_length=2)
    country_of_return: str | None = Field(default=None, max_length=2)
    return_quarter: str | None = Field(default=None, max_length=7)  # `2026-Q4`, never the day
    days_return_to_plan: int | None = None  # negative: the plan was approved before the return
    received_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    mode_of_return: str | None = None
    host_country: str | None = Field(default=None, max_length=2)
    length_of_absence: str | None = None  # the band, never the figure


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it is shorter (31 Jan + 1 month = 28/29 Feb)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def follow_ups(
    plan: SchedulePlan,
    *,
    case: CaseRecord,
    instrument: Instrument,
    administered: Administration,
    administered_on: date,
    existing: set[tuple[Administration, date]],
    open_repeat: bool,
    now: datetime,
) -> list[SurveySchedule]:
    """What becomes due after a scored administration (rss-survey.md, timing).

    A repeat falls due `repeat_every_months` after each administration ("ideally every three months"); the
    intermediary and final windows are counted from return, which scoring-service knows only as the case's
    opening (CB-DEFAULT, as for the baseline), and are scheduled once, after the baseline.
    """
    schedules: list[SurveySchedule] = []

    def due(administration: Administration, opens_on: date | None, due_on: date) -> None:
        if (administration, due_on) in existing:
            return  # two administrations on one day: the next one is already scheduled
        schedules.append(
            SurveySchedule(
                case_id=case.case_id,
                owner_office_id=case.owner_office_id,
                programme=case.programme,
                administration=administration,
                instrument=instrument,
                opens_on=opens_on,
                due_on=due_on,
                created_at=now,
            )
        )

    if plan.repeat_every_months is not None and not open_repeat:
        due(Administration.REPEAT, None, add_months(administered_on, plan.repeat_every_months))
    if administered is Administration.BASELINE:
        returned_on = case.opened_at.date()
        for window in plan.windows:
            if window.administration not in {administration for administration, _ in existing}:
                due(
                    window.administration,
                    add_months(returned_on, window.opens_after_months),
                    add_months(returned_on, window.due_after_months),
                )
    return schedules
