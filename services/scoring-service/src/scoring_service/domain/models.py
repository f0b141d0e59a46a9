"""Survey schedules: which administration of which instrument is due for a case, and by when."""

from datetime import date, datetime, timedelta
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel

from casebridge_common.db import enum_type
from casebridge_common.events.contracts.case import Programme
from casebridge_common.events.contracts.scoring import Administration


class Instrument(StrEnum):
    RSS = "rss"  # IOM Reintegration Sustainability Survey (return & reintegration)
    INTEGRATION = "integration"  # Indicators of Integration instrument (resettlement & integration)


class ScheduleStatus(StrEnum):
    DUE = "due"
    COMPLETED = "completed"


BASELINE_INSTRUMENT: dict[Programme, Instrument] = {
    Programme.RETURN_REINTEGRATION: Instrument.RSS,
    Programme.RESETTLEMENT_INTEGRATION: Instrument.INTEGRATION,
}


class SurveySchedule(SQLModel, table=True):
    __tablename__ = "survey_schedules"
    # One baseline per case, whatever the number of deliveries of case.opened.
    __table_args__ = (UniqueConstraint("case_id", "administration", name="uq_survey_schedules_case_administration"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    case_id: UUID = Field(index=True)
    owner_office_id: str = Field(index=True)
    programme: Programme = Field(sa_type=enum_type(Programme))
    administration: Administration = Field(sa_type=enum_type(Administration))
    instrument: Instrument = Field(sa_type=enum_type(Instrument))
    status: ScheduleStatus = Field(default=ScheduleStatus.DUE, sa_type=enum_type(ScheduleStatus))
    due_on: date
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


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
