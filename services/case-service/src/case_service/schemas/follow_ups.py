"""Request and response bodies of follow-up and monitoring visits."""

from typing import Literal, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from case_service.domain.follow_ups import MISSED_OUTCOMES, Schedule, VisitOutcome, VisitStatus
from case_service.schemas.access import Withheld
from casebridge_common.events.contracts.case import FollowUpPhase, VisitKind
from casebridge_common.http import IsoDate, IsoDateTime

_VISIT_ID = "4f5a6b7c-8d9e-4f0a-1b2c-3d4e5f6a7b8c"
_CASE_ID = "7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11"
NOTES_MAX = 10_000


class ScheduleVisit(BaseModel):
    """An extra visit on top of the case's schedule."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"planned_on": "2026-12-15", "kind": "home_visit"}]}
    )

    planned_on: IsoDate = Field(description="from today up to three years ahead")
    kind: VisitKind


class RecordVisitOutcome(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "status": "completed",
                    "held_on": "2026-12-01",
                    "outcome": "plan_on_track",
                    "notes": "Shop open six days a week; second tranche used for stock.",
                    "psychosocial_notes": None,
                },
                {"status": "missed", "outcome": "not_reached", "notes": "Phone off three times this week."},
            ]
        },
    )

    status: Literal[VisitStatus.COMPLETED, VisitStatus.MISSED]
    held_on: IsoDate | None = Field(default=None, description="the day the visit took place; required when completed")
    outcome: VisitOutcome = Field(
        description="completed: how the plan stands; missed: `not_reached` or `declined_visit`"
    )
    notes: str | None = Field(default=None, min_length=1, max_length=NOTES_MAX, description="category `case_notes`")
    psychosocial_notes: str | None = Field(
        default=None, min_length=1, max_length=NOTES_MAX, description="category `psychosocial_notes`"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.status is VisitStatus.COMPLETED:
            if self.held_on is None:
                raise ValueError("a completed visit names the day it was held (`held_on`)")
            if self.outcome in MISSED_OUTCOMES:
                raise ValueError(f"`{self.outcome}` is the outcome of a missed visit")
        else:
            if self.held_on is not None:
                raise ValueError("a missed visit was not held: leave out `held_on`")
            if self.outcome not in MISSED_OUTCOMES:
                raise ValueError("a missed visit's outcome is `not_reached` or `declined_visit`")
        return self


class FollowUpRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _VISIT_ID,
                    "case_id": _CASE_ID,
                    "phase": "follow_up",
                    "schedule": "victim_of_trafficking",
                    "anchor_on": "2026-11-01",
                    "planned_on": "2026-12-01",
                    "kind": "home_visit",
                    "status": "completed",
                    "held_on": "2026-12-01",
                    "outcome": "plan_on_track",
                    "notes": "Shop open six days a week.",
                    "psychosocial_notes": None,
                    "is_overdue": False,
                    "overdue_at": None,
                    "erased": False,
                    "created_by": "fatou.diop",
                    "created_at": "2026-11-01T09:00:00Z",
                    "recorded_by": "fatou.diop",
                    "recorded_at": "2026-12-01T15:00:00Z",
                    "version": 2,
                    "withheld": [],
                }
            ]
        }
    )

    id: UUID
    case_id: UUID
    phase: FollowUpPhase
    schedule: Schedule = Field(description="the rule that planned the visit; `extra` for one added by hand")
    anchor_on: IsoDate = Field(description="the day the phase started; the schedule counts from it")
    planned_on: IsoDate
    kind: VisitKind
    status: VisitStatus
    held_on: IsoDate | None = None
    outcome: VisitOutcome | None = Field(default=None, description="null when `case_notes` is withheld")
    notes: str | None = Field(default=None, description="null when `case_notes` is withheld")
    psychosocial_notes: str | None = Field(default=None, description="null when `psychosocial_notes` is withheld")
    is_overdue: bool = Field(description="still planned and reported overdue by the follow-up job")
    overdue_at: IsoDateTime | None = None
    erased: bool = Field(default=False, description="the person's data was erased on request: the notes are gone")
    created_by: str
    created_at: IsoDateTime
    recorded_by: str | None = None
    recorded_at: IsoDateTime | None = None
    version: int
    withheld: list[Withheld] = Field(default_factory=list)


class FollowUpScheduleRead(BaseModel):
    """The case's visits of its current phase after (re)computing the schedule."""

    phase: FollowUpPhase
    schedule: Schedule
    items: list[FollowUpRead]
    cancelled: list[UUID] = Field(description="upcoming visits the new schedule no longer has")
