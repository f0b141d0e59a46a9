"""Follow-up schedules, rescheduling and visit outcomes: pure rules, no I/O."""

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from case_service.domain.disclosure import SECTIONS, Section, redact
from case_service.domain.errors import FollowUpDateInvalid, FollowUpVisitClosed
from case_service.domain.follow_ups import (
    FollowUpVisit,
    PlannedVisit,
    Schedule,
    ScheduleFacts,
    VisitOutcome,
    VisitStatus,
    add_months,
    ends_follow_up,
    extra_visit,
    new_visit,
    overdue_cutoff,
    phase_of,
    plan_visits,
    reschedule,
    schedule_of,
    twice_as_often,
)
from case_service.domain.stages import Stage
from case_service.schemas.follow_ups import FollowUpRead, RecordVisitOutcome
from casebridge_common.access import DataCategory as C
from casebridge_common.events.contracts.case import FollowUpPhase, Programme, VisitKind

RETURN, RESETTLEMENT = Programme.RETURN_REINTEGRATION, Programme.RESETTLEMENT_INTEGRATION
FOLLOW_UP, POST_CLOSURE = FollowUpPhase.FOLLOW_UP, FollowUpPhase.POST_CLOSURE
ANCHOR = date(2026, 1, 31)
NOW = datetime(2026, 12, 1, 10, tzinfo=UTC)
STANDARD_MONTHS = (3, 6, 9, 12, 15, 18)


def facts(
    programme: Programme = RETURN, phase: FollowUpPhase = FOLLOW_UP, codes: tuple[str, ...] = (), child: bool = False
) -> ScheduleFacts:
    return ScheduleFacts(programme=programme, phase=phase, vulnerability_categories=frozenset(codes), is_child=child)


@pytest.mark.parametrize(
    ("case", "schedule", "months"),
    [
        (facts(), Schedule.STANDARD, STANDARD_MONTHS),
        (facts(codes=("single_parent",)), Schedule.VULNERABLE, twice_as_often(STANDARD_MONTHS)),
        (facts(codes=("victim_of_trafficking",)), Schedule.VICTIM_OF_TRAFFICKING, (1, 2, 3, 5, 7, 12)),
        (
            facts(codes=("victim_of_trafficking", "disability")),
            Schedule.VICTIM_OF_TRAFFICKING,
            (1, 2, 3, 5, 7, 12),
        ),
        (facts(child=True), Schedule.CHILD, (1, 2, 3, 4, 5, 6, 9, 12, 15, 18, 21, 24)),
        (facts(codes=("uasc",)), Schedule.CHILD, (1, 2, 3, 4, 5, 6, 9, 12, 15, 18, 21, 24)),
        (
            facts(codes=("victim_of_trafficking",), child=True),
            Schedule.CHILD,
            (1, 2, 3, 4, 5, 6, 9, 12, 15, 18, 21, 24),
        ),
        (facts(RESETTLEMENT), Schedule.RESETTLEMENT, (1, 3, 6, 9, 12)),
        (facts(RESETTLEMENT, codes=("pregnant",)), Schedule.RESETTLEMENT_VULNERABLE, twice_as_often((1, 3, 6, 9, 12))),
        (facts(phase=POST_CLOSURE, child=True), Schedule.POST_CLOSURE_CHILD, (1, 2, 3)),
        (facts(RESETTLEMENT, POST_CLOSURE, codes=("uasc",)), Schedule.POST_CLOSURE_CHILD, (1, 2, 3)),
        (facts(phase=POST_CLOSURE, codes=("victim_of_trafficking",)), Schedule.POST_CLOSURE, (3,)),
    ],
)
def test_the_most_protective_schedule_applies(
    case: ScheduleFacts, schedule: Schedule, months: tuple[float, ...]
) -> None:
    assert schedule_of(case) == (schedule, tuple(months))


def test_the_trafficking_cadence_is_monthly_then_two_contacts_to_month_nine_then_month_twelve() -> None:
    visits = plan_visits(facts(codes=("victim_of_trafficking",)), date(2026, 1, 15))
    assert [v.planned_on for v in visits] == [
        date(2026, 2, 15),
        date(2026, 3, 15),
        date(2026, 4, 15),
        date(2026, 6, 15),
        date(2026, 8, 15),
        date(2027, 1, 15),
    ]
    assert sum(date(2026, 4, 15) < v.planned_on <= date(2026, 10, 15) for v in visits) == 2
    assert [v.kind for v in visits][:2] == [VisitKind.HOME_VISIT, VisitKind.PHONE]  # face to face, then by phone


def test_a_child_is_visited_at_home_and_monitored_at_least_three_months_after_closure() -> None:
    assert {v.kind for v in plan_visits(facts(child=True), ANCHOR)} == {VisitKind.HOME_VISIT}
    after_closure = plan_visits(facts(phase=POST_CLOSURE, child=True), date(2026, 3, 1))
    assert after_closure[-1].planned_on - date(2026, 3, 1) >= timedelta(days=89)
    assert {v.kind for v in after_closure} == {VisitKind.HOME_VISIT}


def test_a_vulnerable_returnee_is_followed_twice_as_often_within_the_same_window() -> None:
    standard, vulnerable = plan_visits(facts(), ANCHOR), plan_visits(facts(codes=("disability",)), ANCHOR)
    assert len(vulnerable) == 2 * len(standard)
    assert standard[-1].planned_on == vulnerable[-1].planned_on == date(2027, 7, 31)  # the 18-month final report


@pytest.mark.parametrize(
    ("anchor", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2026, 1, 31), 1.5, date(2026, 3, 15)),
        (date(2026, 11, 15), 3, date(2027, 2, 15)),
        (date(2026, 3, 10), 24, date(2028, 3, 10)),
    ],
)
def test_months_are_added_on_the_calendar(anchor: date, months: float, expected: date) -> None:
    assert add_months(anchor, months) == expected


@pytest.mark.parametrize(
    ("programme", "stage", "phase"),
    [
        (RETURN, Stage.PLANNING, None),
        (RETURN, Stage.IMPLEMENTATION, FOLLOW_UP),  # follow-up runs from plan signature
        (RETURN, Stage.MONITORING, FOLLOW_UP),
        (RETURN, Stage.CLOSURE_PREPARATION, FOLLOW_UP),
        (RETURN, Stage.CLOSED, None),
        (RETURN, Stage.POST_CLOSURE_MONITORING, POST_CLOSURE),
        (RESETTLEMENT, Stage.INTEGRATION_SUPPORT, None),
        (RESETTLEMENT, Stage.FOLLOW_UP, FOLLOW_UP),
        (RESETTLEMENT, Stage.POST_CLOSURE_MONITORING, POST_CLOSURE),
    ],
)
def test_follow_up_starts_where_the_handbooks_say(
    programme: Programme, stage: Stage, phase: FollowUpPhase | None
) -> None:
    assert phase_of(programme, stage) is phase


@pytest.mark.parametrize(
    ("stage", "ends"),
    [
        (Stage.CLOSED, True),
        (Stage.WITHDRAWN, True),
        (Stage.DECEASED, True),
        (Stage.TRANSITIONED, True),
        (Stage.ON_HOLD, False),
        (Stage.POST_CLOSURE_MONITORING, False),
        (Stage.MONITORING, False),
    ],
)
def test_a_case_that_ends_ends_its_follow_up_but_a_hold_does_not(stage: Stage, ends: bool) -> None:
    assert ends_follow_up(stage) is ends


def _visits(planned: list[PlannedVisit], anchor: date = ANCHOR) -> list[FollowUpVisit]:
    return [new_visit(uuid4(), FOLLOW_UP, anchor, p, by="fatou.diop", now=NOW) for p in planned]


def test_a_new_screening_replaces_the_upcoming_visits_and_keeps_the_past() -> None:
    anchor = date(2026, 10, 1)
    current = _visits(plan_visits(facts(), anchor), anchor)  # standard: 2027-01-01 ... 2028-04-01
    current[0].record(VisitStatus.COMPLETED, held_on=date(2026, 11, 30), outcome=None, by="fatou.diop", now=NOW)
    extra = extra_visit(uuid4(), FOLLOW_UP, date(2026, 12, 20), VisitKind.OFFICE, by="fatou.diop", now=NOW)
    target = plan_visits(facts(codes=("victim_of_trafficking",)), anchor)
    change = reschedule([*current, extra], target, date(2026, 12, 1))
    assert sorted(change.cancel) == sorted(v.id for v in current[1:])  # the recorded and the extra visit stay
    assert [p.planned_on for p in change.add] == [
        date(2026, 12, 1),
        date(2027, 1, 1),
        date(2027, 3, 1),
        date(2027, 5, 1),
        date(2027, 10, 1),
    ]
    assert all(p.schedule is Schedule.VICTIM_OF_TRAFFICKING for p in change.add)


def test_rescheduling_to_the_same_schedule_changes_nothing() -> None:
    planned = plan_visits(facts(), ANCHOR)
    change = reschedule(_visits(planned), planned, ANCHOR)
    assert (change.cancel, change.add) == ([], [])


def _visit() -> FollowUpVisit:
    return _visits([PlannedVisit(date(2026, 11, 1), VisitKind.HOME_VISIT, Schedule.STANDARD)])[0]


def test_a_visit_is_recorded_once_and_never_as_held_in_the_future() -> None:
    visit = _visit()
    with pytest.raises(FollowUpDateInvalid):
        visit.record(VisitStatus.COMPLETED, held_on=date(2026, 12, 2), outcome=None, by="fatou.diop", now=NOW)
    visit.record(VisitStatus.MISSED, held_on=None, outcome=VisitOutcome.NOT_REACHED, by="fatou.diop", now=NOW)
    assert (visit.status, visit.version, visit.recorded_at) == (VisitStatus.MISSED, 2, NOW)
    with pytest.raises(FollowUpVisitClosed):
        visit.record(VisitStatus.COMPLETED, held_on=date(2026, 12, 1), outcome=None, by="fatou.diop", now=NOW)


def test_a_visit_is_reported_overdue_once_and_only_while_planned() -> None:
    visit = _visit()
    visit.mark_overdue(NOW)
    assert visit.is_overdue
    with pytest.raises(FollowUpVisitClosed):
        visit.mark_overdue(NOW)
    visit.record(VisitStatus.COMPLETED, held_on=date(2026, 11, 2), outcome=None, by="fatou.diop", now=NOW)
    assert not visit.is_overdue


def test_overdue_starts_the_configured_days_after_the_planned_day() -> None:
    cutoff = overdue_cutoff(date(2026, 12, 9), timedelta(days=7))
    assert cutoff == date(2026, 12, 2)
    assert date(2026, 12, 1) < cutoff  # planned on the 1st: overdue on the 9th
    assert not date(2026, 12, 2) < cutoff  # planned on the 2nd: still within its 7 days


@pytest.mark.parametrize("planned_on", [date(2026, 11, 30), date(2029, 12, 31)])
def test_an_extra_visit_is_planned_from_today_up_to_three_years_ahead(planned_on: date) -> None:
    with pytest.raises(FollowUpDateInvalid):
        extra_visit(uuid4(), FOLLOW_UP, planned_on, VisitKind.PHONE, by="fatou.diop", now=NOW)


@pytest.mark.parametrize(
    "body",
    [
        {"status": "completed", "outcome": "plan_on_track"},  # no held_on
        {"status": "completed", "held_on": "2026-12-01", "outcome": "not_reached"},
        {"status": "missed", "held_on": "2026-12-01", "outcome": "not_reached"},
        {"status": "missed", "outcome": "plan_on_track"},
        {"status": "planned", "outcome": "plan_on_track"},
        {"status": "completed", "held_on": "2026-12-01", "outcome": "plan_on_track", "notes": ""},
    ],
)
def test_an_inconsistent_outcome_is_refused(body: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="validation error"):
        RecordVisitOutcome.model_validate(body)


def test_every_visit_field_is_classified_and_notes_need_their_categories() -> None:
    mapping = SECTIONS[Section.FOLLOW_UP]
    names = set(FollowUpRead.model_fields) - {"withheld"}
    assert sorted(n for n in names if n not in mapping.fields and n not in mapping.structure) == []
    visit = {"id": "v", "planned_on": "2026-12-01", "outcome": "plan_on_track", "notes": "a", "psychosocial_notes": "b"}
    only_notes = redact(Section.FOLLOW_UP, visit, {C.CASE_NOTES})
    assert only_notes.data == {"id": "v", "planned_on": "2026-12-01", "outcome": "plan_on_track", "notes": "a"}
    assert only_notes.withheld == {C.PSYCHOSOCIAL_NOTES}
    assert redact(Section.FOLLOW_UP, visit, set()).data == {"id": "v", "planned_on": "2026-12-01"}
