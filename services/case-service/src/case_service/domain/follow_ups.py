"""Follow-up and monitoring visits (reintegration.md §3.1 S6-S7, S10, §3.3 timers, §10 schedules; resettlement.md
§2.1 step 19).

Pure: which visits a case gets is decided from its programme, the phase it is in and its latest vulnerability
screening, anchored on the day the phase started. The service layer stores the visits; nothing here reads the
clock or the database.

The schedules, in months after the anchor (the handbook values; CB-DEFAULT where the handbook only says "more"):

- standard return case: every 3 months through the 12-18-month window (mid-year report at 6, final at 18);
- vulnerable returnee: the standard schedule at twice the frequency (CB-DEFAULT multiplier 2, R20);
- victim of trafficking: monthly in months 1-3, two contacts between months 3 and 9, one at month 12 (R20);
- child case (a minor, or UASC): monthly for 6 months, then quarterly to the 24-month horizon;
- resettlement follow-up: months 1, 3, 6, 9 and 12 after follow-up starts, twice as often when vulnerable;
- post-closure monitoring: monthly for at least 3 months for a child case; one final contact at 3 months else.

Where several apply, the most protective wins: child, then trafficking, then vulnerable, then standard.
"""

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import Column, DateTime, Index, LargeBinary, text
from sqlmodel import Field, SQLModel

from case_service.domain.assessments import VulnerabilityCategory
from case_service.domain.errors import FollowUpDateInvalid, FollowUpVisitClosed
from case_service.domain.stages import Stage, is_active
from casebridge_common.db import enum_type
from casebridge_common.events.contracts.case import FollowUpPhase, Programme, VisitKind


class VisitStatus(StrEnum):
    PLANNED = "planned"
    COMPLETED = "completed"
    MISSED = "missed"
    CANCELLED = "cancelled"


class Schedule(StrEnum):
    """Which rule planned a visit; `extra` for one a case worker added."""

    STANDARD = "standard"
    VULNERABLE = "vulnerable"
    VICTIM_OF_TRAFFICKING = "victim_of_trafficking"
    CHILD = "child"
    RESETTLEMENT = "resettlement"
    RESETTLEMENT_VULNERABLE = "resettlement_vulnerable"
    POST_CLOSURE_CHILD = "post_closure_child"
    POST_CLOSURE = "post_closure"
    EXTRA = "extra"


class VisitOutcome(StrEnum):
    """The structured result of a visit (the FollowUpContact and MonitoringVisit records of reintegration.md §9)."""

    PLAN_ON_TRACK = "plan_on_track"
    PLAN_NEEDS_REVIEW = "plan_needs_review"
    NEW_NEEDS_IDENTIFIED = "new_needs_identified"
    SAFEGUARDING_CONCERN = "safeguarding_concern"
    NOT_REACHED = "not_reached"
    DECLINED_VISIT = "declined_visit"


RECORDABLE: frozenset[VisitStatus] = frozenset({VisitStatus.COMPLETED, VisitStatus.MISSED})
# a missed visit says why; a completed one says how the plan stands
MISSED_OUTCOMES: frozenset[VisitOutcome] = frozenset({VisitOutcome.NOT_REACHED, VisitOutcome.DECLINED_VISIT})
# an extra visit further out than this is a typing mistake rather than a plan (the child horizon is 24 months)
LONGEST_PLANNING_HORIZON = timedelta(days=3 * 366)

# Months after the anchor; 1.5 is a month and a half (fifteen days).
_STANDARD: tuple[float, ...] = (3, 6, 9, 12, 15, 18)
_TRAFFICKING: tuple[float, ...] = (1, 2, 3, 5, 7, 12)
_CHILD: tuple[float, ...] = (1, 2, 3, 4, 5, 6, 9, 12, 15, 18, 21, 24)
_RESETTLEMENT: tuple[float, ...] = (1, 3, 6, 9, 12)
_POST_CLOSURE_CHILD: tuple[float, ...] = (1, 2, 3)
_POST_CLOSURE: tuple[float, ...] = (3,)
# contacts face to face where the handbook prefers it (L1261), by phone in between
_FACE_TO_FACE_EVERY = 2


def twice_as_often(months: Sequence[float]) -> tuple[float, ...]:
    """A visit half-way before each one: the frequency multiplier 2 of reintegration.md §10."""
    out: list[float] = []
    previous = 0.0
    for m in months:
        out += [previous + (m - previous) / 2, m]
        previous = m
    return tuple(out)


@dataclass(frozen=True, slots=True)
class ScheduleFacts:
    programme: Programme
    phase: FollowUpPhase
    vulnerability_categories: frozenset[str]
    is_child: bool


@dataclass(frozen=True, slots=True)
class PlannedVisit:
    planned_on: date
    kind: VisitKind
    schedule: Schedule


def phase_of(programme: Programme, stage: Stage) -> FollowUpPhase | None:
    """The follow-up phase a case in `stage` is in: return cases from plan signature (implementation and
    monitoring share the schedule), resettlement cases in follow-up, both in post-closure monitoring."""
    if stage is Stage.POST_CLOSURE_MONITORING:
        return FollowUpPhase.POST_CLOSURE
    if programme is Programme.RETURN_REINTEGRATION and stage in {
        Stage.IMPLEMENTATION,
        Stage.MONITORING,
        Stage.CLOSURE_PREPARATION,
    }:
        return FollowUpPhase.FOLLOW_UP
    if programme is Programme.RESETTLEMENT_INTEGRATION and stage is Stage.FOLLOW_UP:
        return FollowUpPhase.FOLLOW_UP
    return None


def ends_follow_up(stage: Stage) -> bool:
    """A stage that ends the case's follow-up: any stage where the case is no longer worked on, except a hold
    (a case on hold comes back to where it was, with its visits)."""
    return not is_active(stage) and stage is not Stage.ON_HOLD and stage is not Stage.POST_CLOSURE_MONITORING


def schedule_of(facts: ScheduleFacts) -> tuple[Schedule, tuple[float, ...]]:
    """The rule that applies and its visit months."""
    codes = facts.vulnerability_categories
    child = facts.is_child or VulnerabilityCategory.UASC in codes
    if facts.phase is FollowUpPhase.POST_CLOSURE:
        return (Schedule.POST_CLOSURE_CHILD, _POST_CLOSURE_CHILD) if child else (Schedule.POST_CLOSURE, _POST_CLOSURE)
    if facts.programme is Programme.RESETTLEMENT_INTEGRATION:
        if child or codes:
            return Schedule.RESETTLEMENT_VULNERABLE, twice_as_often(_RESETTLEMENT)
        return Schedule.RESETTLEMENT, _RESETTLEMENT
    if child:
        return Schedule.CHILD, _CHILD
    if VulnerabilityCategory.VICTIM_OF_TRAFFICKING in codes:
        return Schedule.VICTIM_OF_TRAFFICKING, _TRAFFICKING
    if codes:
        return Schedule.VULNERABLE, twice_as_often(_STANDARD)
    return Schedule.STANDARD, _STANDARD


def add_months(anchor: date, months: float) -> date:
    """`anchor` plus whole months (clamped to the month's last day) plus fifteen days for a half month."""
    whole = int(months)
    month_index = anchor.month - 1 + whole
    year, month = anchor.year + month_index // 12, month_index % 12 + 1
    day = min(anchor.day, calendar.monthrange(year, month)[1])
    return date(year, month, day) + timedelta(days=15 if months - whole else 0)


def plan_visits(facts: ScheduleFacts, anchor: date) -> list[PlannedVisit]:
    """Every visit of the applicable schedule, anchored on the day the phase started."""
    schedule, months = schedule_of(facts)
    home = VisitKind.HOME_VISIT
    return [
        PlannedVisit(
            planned_on=add_months(anchor, m),
            # child and post-closure visits are home visits (L4358, L4842); otherwise alternate with phone calls
            kind=home
            if schedule in {Schedule.CHILD, Schedule.POST_CLOSURE_CHILD} or i % _FACE_TO_FACE_EVERY == 0
            else VisitKind.PHONE,
            schedule=schedule,
        )
        for i, m in enumerate(months)
    ]


@dataclass(frozen=True, slots=True)
class Rescheduling:
    cancel: list[UUID]
    add: list[PlannedVisit]


class FollowUpVisit(SQLModel, table=True):
    """One planned follow-up or monitoring contact and, once held or missed, its outcome."""

    __tablename__ = "follow_up_visits"
    __table_args__ = (
        Index("ix_follow_up_visits_case_planned", "case_id", "planned_on", "id"),
        # the overdue job's scan: planned visits not yet reported
        Index(
            "ix_follow_up_visits_due",
            "planned_on",
            postgresql_where=text("status = 'planned' AND overdue_at IS NULL"),
        ),
        # the case list's `overdue_follow_ups` filter
        Index(
            "ix_follow_up_visits_overdue_case",
            "case_id",
            postgresql_where=text("status = 'planned' AND overdue_at IS NOT NULL"),
        ),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    case_id: UUID = Field(foreign_key="cases.id")
    phase: FollowUpPhase = Field(sa_type=enum_type(FollowUpPhase))
    schedule: Schedule = Field(sa_type=enum_type(Schedule))
    anchor_on: date  # the day the phase started: rescheduling keeps the cadence on it
    planned_on: date
    kind: VisitKind = Field(sa_type=enum_type(VisitKind))
    status: VisitStatus = Field(sa_type=enum_type(VisitStatus))
    held_on: date | None = None
    outcome: VisitOutcome | None = Field(default=None, sa_type=enum_type(VisitOutcome))
    # free text, sealed under the beneficiary's key (case notes and psychosocial notes are encrypted at rest)
    sealed_notes: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    sealed_psychosocial_notes: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    overdue_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    created_by: str
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    recorded_by: str | None = None
    recorded_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    version: int = 1

    @property
    def is_overdue(self) -> bool:
        return self.status is VisitStatus.PLANNED and self.overdue_at is not None

    def mark_overdue(self, now: datetime) -> None:
        """Reported once: a visit already reported, recorded or cancelled is not reported again."""
        if self.status is not VisitStatus.PLANNED or self.overdue_at is not None:
            raise FollowUpVisitClosed(visit_id=self.id, status=self.status)
        self.overdue_at = now
        self.version += 1

    def record(
        self, status: VisitStatus, *, held_on: date | None, outcome: VisitOutcome | None, by: str, now: datetime
    ) -> None:
        """Completed (held on a day not in the future) or missed; a visit is recorded once."""
        if self.status is not VisitStatus.PLANNED:
            raise FollowUpVisitClosed(visit_id=self.id, status=self.status)
        if status not in RECORDABLE:
            raise ValueError("only completed or missed is recorded")
        if held_on is not None and held_on > now.date():
            raise FollowUpDateInvalid("A visit cannot be held in the future.", pointer="#/held_on")
        self.status, self.held_on, self.outcome = status, held_on, outcome
        self.recorded_by, self.recorded_at = by, now
        self.version += 1

    def cancel(self) -> None:
        self.status = VisitStatus.CANCELLED
        self.version += 1


def overdue_cutoff(today: date, overdue_after: timedelta) -> date:
    """Visits planned before this day and still planned are overdue: `overdue_after` has passed since their day."""
    return today - overdue_after


def reschedule(current: Iterable[FollowUpVisit], target: Sequence[PlannedVisit], today: date) -> Rescheduling:
    """Bring the planned visits of one phase in line with a (re)computed schedule from `today` on: upcoming
    visits the new schedule keeps stay as they are, the others are cancelled, and the new schedule's missing
    upcoming visits are added. What is past (held, missed, overdue) and extra visits are left alone."""
    upcoming = [
        v
        for v in current
        if v.status is VisitStatus.PLANNED and v.schedule is not Schedule.EXTRA and v.planned_on >= today
    ]
    wanted = {(p.planned_on, p.kind, p.schedule) for p in target if p.planned_on >= today}
    kept = {(v.planned_on, v.kind, v.schedule) for v in upcoming if (v.planned_on, v.kind, v.schedule) in wanted}
    return Rescheduling(
        cancel=[v.id for v in upcoming if (v.planned_on, v.kind, v.schedule) not in wanted],
        add=[p for p in target if p.planned_on >= today and (p.planned_on, p.kind, p.schedule) not in kept],
    )


def new_visit(
    case_id: UUID, phase: FollowUpPhase, anchor_on: date, planned: PlannedVisit, *, by: str, now: datetime
) -> FollowUpVisit:
    return FollowUpVisit(
        case_id=case_id,
        phase=phase,
        schedule=planned.schedule,
        anchor_on=anchor_on,
        planned_on=planned.planned_on,
        kind=planned.kind,
        status=VisitStatus.PLANNED,
        created_by=by,
        created_at=now,
    )


def extra_visit(
    case_id: UUID, phase: FollowUpPhase, planned_on: date, kind: VisitKind, *, by: str, now: datetime
) -> FollowUpVisit:
    """A visit the case worker adds to the schedule: from today up to three years ahead."""
    if not now.date() <= planned_on <= now.date() + LONGEST_PLANNING_HORIZON:
        raise FollowUpDateInvalid(
            pointer="#/planned_on", earliest=now.date(), latest=now.date() + LONGEST_PLANNING_HORIZON
        )
    return new_visit(case_id, phase, now.date(), PlannedVisit(planned_on, kind, Schedule.EXTRA), by=by, now=now)
