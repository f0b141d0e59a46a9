"""Every legal and illegal transition of both programmes' stage machines and sub-tracks, and every guard."""

import dataclasses
import itertools
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from case_service.domain.errors import GuardFailed, IllegalTransition
from case_service.domain.models import open_case_for
from case_service.domain.stages import (
    FIRST_STAGE,
    Attestation,
    CaseFacts,
    ClosureFacts,
    ClosureStartReason,
    PlanFacts,
    ReassessmentReason,
    Stage,
    Track,
    TrackStage,
    check_track_transition,
    check_transition,
    guards_for,
    opening_stage,
    stages_of,
)
from casebridge_common.events.contracts.case import ModeOfReturn, Programme

S, T = Stage, TrackStage
RETURN, RESETTLEMENT = Programme.RETURN_REINTEGRATION, Programme.RESETTLEMENT_INTEGRATION

# The spec's diagrams written out by hand (reintegration.md §3.2, resettlement.md §2.1), independent of the code.
RETURN_ACTIVE = [
    S.PRE_DEPARTURE_COUNSELLING,
    S.ARRIVED,
    S.FIRST_COUNSELLING,
    S.ASSESSMENT,
    S.PLANNING,
    S.IMPLEMENTATION,
    S.MONITORING,
    S.CLOSURE_PREPARATION,
]
RETURN_EDGES = {
    (S.PRE_DEPARTURE_COUNSELLING, S.ARRIVED),
    (S.PRE_DEPARTURE_COUNSELLING, S.NOT_RETURNED),
    (S.ARRIVED, S.FIRST_COUNSELLING),
    (S.FIRST_COUNSELLING, S.ASSESSMENT),
    (S.FIRST_COUNSELLING, S.PLANNING),
    (S.ASSESSMENT, S.PLANNING),
    (S.PLANNING, S.IMPLEMENTATION),
    (S.PLANNING, S.ASSESSMENT),
    (S.IMPLEMENTATION, S.MONITORING),
    (S.IMPLEMENTATION, S.ASSESSMENT),
    (S.IMPLEMENTATION, S.PLANNING),
    (S.MONITORING, S.CLOSURE_PREPARATION),
    (S.MONITORING, S.ASSESSMENT),
    (S.MONITORING, S.PLANNING),
    (S.CLOSURE_PREPARATION, S.CLOSED),
    (S.CLOSED, S.POST_CLOSURE_MONITORING),
    (S.CLOSED, S.ARCHIVED),
    (S.POST_CLOSURE_MONITORING, S.ARCHIVED),
    (S.WITHDRAWN, S.CLOSURE_PREPARATION),
    (S.WITHDRAWN, S.CLOSED),
} | {(a, b) for a in RETURN_ACTIVE for b in (S.ON_HOLD, S.WITHDRAWN, S.DECEASED)}
RESETTLEMENT_BEFORE_TRAVEL = [
    S.REFERRAL_SUBMISSION,
    S.CASE_PROCESSING,
    S.DEFERRED_PENDING_INFO,
    S.SELECTION_SCHEDULED,
    S.SELECTION_INTERVIEWED,
    S.APPROVED,
    S.PLACEMENT_PLANNING,
    S.TRAVEL_BOOKED,
]
RESETTLEMENT_ACTIVE = [
    *RESETTLEMENT_BEFORE_TRAVEL,
    S.IN_TRANSIT,
    S.ARRIVED,
    S.HANDED_OVER,
    S.RECEPTION,
    S.POST_ARRIVAL_ORIENTATION,
    S.INTEGRATION_SUPPORT,
    S.FOLLOW_UP,
]
RESETTLEMENT_EDGES = (
    {
        (S.REFERRAL_SUBMISSION, S.CASE_PROCESSING),
        (S.CASE_PROCESSING, S.DEFERRED_PENDING_INFO),
        (S.DEFERRED_PENDING_INFO, S.CASE_PROCESSING),
        (S.CASE_PROCESSING, S.SELECTION_SCHEDULED),
        (S.SELECTION_SCHEDULED, S.SELECTION_INTERVIEWED),
        (S.SELECTION_INTERVIEWED, S.APPROVED),
        (S.SELECTION_INTERVIEWED, S.NOT_APPROVED),
        (S.APPROVED, S.PLACEMENT_PLANNING),
        (S.PLACEMENT_PLANNING, S.TRAVEL_BOOKED),
        (S.TRAVEL_BOOKED, S.PLACEMENT_PLANNING),
        (S.TRAVEL_BOOKED, S.IN_TRANSIT),
        (S.IN_TRANSIT, S.ARRIVED),
        (S.ARRIVED, S.HANDED_OVER),
        (S.HANDED_OVER, S.RECEPTION),
        (S.RECEPTION, S.POST_ARRIVAL_ORIENTATION),
        (S.POST_ARRIVAL_ORIENTATION, S.INTEGRATION_SUPPORT),
        (S.INTEGRATION_SUPPORT, S.FOLLOW_UP),
        (S.FOLLOW_UP, S.INTEGRATION_SUPPORT),
        (S.FOLLOW_UP, S.TRANSITIONED),
        (S.WITHDRAWN, S.TRANSITIONED),
    }
    | {(a, b) for a in RESETTLEMENT_ACTIVE for b in (S.ON_HOLD, S.WITHDRAWN, S.DECEASED)}
    | {(a, S.CANCELLED) for a in RESETTLEMENT_BEFORE_TRAVEL}
)
EDGES = {RETURN: RETURN_EDGES, RESETTLEMENT: RESETTLEMENT_EDGES}


def satisfied(programme: Programme, stage: Stage, to: Stage, **overrides: object) -> CaseFacts:
    """Facts under which every guard of this transition holds."""
    facts = CaseFacts(
        programme=programme,
        stage=stage,
        health_not_to_return=to is S.NOT_RETURNED,
        skills_assessment_recorded=True,
        needs_assessment_recorded=True,
        approved_plan=PlanFacts(True, True, True, True),
        health_track=T.PEC_PASSED if stage is S.TRAVEL_BOOKED else T.CLEARED,
        pec_passed_ago=timedelta(hours=30) if stage is S.TRAVEL_BOOKED else None,
        documents_track=T.ISSUED,
        attestations=frozenset(Attestation),
        reassessment_reason=ReassessmentReason.HOUSING_CHANGE,
        closure_start_reason=ClosureStartReason.EXIT_STRATEGY_MET,
        closure=ClosureFacts(True, True, True, True),
        hold_reason=True,
    )
    return dataclasses.replace(facts, **overrides)  # type: ignore[arg-type]


ALL_PAIRS = [
    (programme, a, b)
    for programme in Programme
    for a, b in itertools.product(sorted(stages_of(programme) - {S.ON_HOLD}), sorted(Stage))
]


@pytest.mark.parametrize(("programme", "from_stage", "to_stage"), ALL_PAIRS)
def test_a_transition_is_legal_exactly_when_the_spec_draws_it(
    programme: Programme, from_stage: Stage, to_stage: Stage
) -> None:
    facts = satisfied(programme, from_stage, to_stage)
    if (from_stage, to_stage) in EDGES[programme]:
        check_transition(facts, to_stage)
    else:
        with pytest.raises(IllegalTransition):
            check_transition(facts, to_stage)


def test_each_programme_knows_exactly_the_stages_of_its_spec() -> None:
    for programme, edges in EDGES.items():
        assert stages_of(programme) == {s for edge in edges for s in edge}
        assert FIRST_STAGE[programme] in stages_of(programme)


@pytest.mark.parametrize("programme", list(Programme))
@pytest.mark.parametrize("to_stage", sorted(Stage))
def test_a_case_on_hold_resumes_only_where_it_was_or_ends(programme: Programme, to_stage: Stage) -> None:
    held_from = FIRST_STAGE[programme]
    facts = satisfied(programme, S.ON_HOLD, to_stage, held_from=held_from)
    if to_stage in {held_from, S.WITHDRAWN, S.DECEASED}:
        check_transition(facts, to_stage)
    else:
        with pytest.raises(IllegalTransition):
            check_transition(facts, to_stage)


def test_a_terminal_case_cannot_be_withdrawn_again() -> None:
    with pytest.raises(IllegalTransition):
        check_transition(satisfied(RETURN, S.DECEASED, S.WITHDRAWN), S.WITHDRAWN)


GUARD_CASES: list[tuple[Programme, Stage, Stage, str, dict[str, object]]] = [
    (
        RETURN,
        S.PRE_DEPARTURE_COUNSELLING,
        S.ARRIVED,
        "handover-package-received-or-waived",
        {"attestations": frozenset()},
    ),
    (
        RETURN,
        S.PRE_DEPARTURE_COUNSELLING,
        S.ARRIVED,
        "voluntariness-attested",
        {"attestations": frozenset({Attestation.HANDOVER_PACKAGE_RECEIVED_OR_WAIVED})},
    ),
    (
        RETURN,
        S.PRE_DEPARTURE_COUNSELLING,
        S.ARRIVED,
        "no-health-not-to-return-decision",
        {"health_not_to_return": True},
    ),
    (RETURN, S.PRE_DEPARTURE_COUNSELLING, S.ARRIVED, "best-interests-determination-recorded", {"is_child": True}),
    (
        RETURN,
        S.PRE_DEPARTURE_COUNSELLING,
        S.NOT_RETURNED,
        "health-not-to-return-decision-recorded",
        {"health_not_to_return": False},
    ),
    (RETURN, S.ARRIVED, S.FIRST_COUNSELLING, "returnee-notified-in-advance", {"attestations": frozenset()}),
    (RETURN, S.FIRST_COUNSELLING, S.ASSESSMENT, "consent-captured", {"attestations": frozenset()}),
    (RETURN, S.FIRST_COUNSELLING, S.PLANNING, "consent-captured", {"attestations": frozenset()}),
    (RETURN, S.FIRST_COUNSELLING, S.PLANNING, "skills-assessment-recorded", {"skills_assessment_recorded": False}),
    (RETURN, S.ASSESSMENT, S.PLANNING, "skills-assessment-recorded", {"skills_assessment_recorded": False}),
    (RETURN, S.ASSESSMENT, S.PLANNING, "risk-assessment-recorded-if-vulnerable", {"vulnerable": True}),
    (RETURN, S.FIRST_COUNSELLING, S.PLANNING, "risk-assessment-recorded-if-vulnerable", {"vulnerable": True}),
    (RETURN, S.PLANNING, S.IMPLEMENTATION, "plan-approved", {"approved_plan": None}),
    (
        RETURN,
        S.PLANNING,
        S.IMPLEMENTATION,
        "plan-signed-by-both",
        {"approved_plan": PlanFacts(False, True, True, True)},
    ),
    (
        RETURN,
        S.PLANNING,
        S.IMPLEMENTATION,
        "plan-signed-by-both",
        {"approved_plan": PlanFacts(True, False, True, True)},
    ),
    (
        RETURN,
        S.PLANNING,
        S.IMPLEMENTATION,
        "plan-has-exit-strategy-and-duration",
        {"approved_plan": PlanFacts(True, True, False, True)},
    ),
    (
        RETURN,
        S.PLANNING,
        S.IMPLEMENTATION,
        "plan-has-exit-strategy-and-duration",
        {"approved_plan": PlanFacts(True, True, True, False)},
    ),
    (RETURN, S.PLANNING, S.IMPLEMENTATION, "consent-covers-every-plan-component", {"attestations": frozenset()}),
    (RETURN, S.PLANNING, S.ASSESSMENT, "reassessment-reason-given", {"reassessment_reason": None}),
    (RETURN, S.IMPLEMENTATION, S.MONITORING, "all-assistance-items-closed", {"open_assistance_items": 1}),
    (RETURN, S.IMPLEMENTATION, S.ASSESSMENT, "reassessment-reason-given", {"reassessment_reason": None}),
    (RETURN, S.IMPLEMENTATION, S.PLANNING, "reassessment-reason-given", {"reassessment_reason": None}),
    (RETURN, S.MONITORING, S.ASSESSMENT, "reassessment-reason-given", {"reassessment_reason": None}),
    (RETURN, S.MONITORING, S.PLANNING, "reassessment-reason-given", {"reassessment_reason": None}),
    (RETURN, S.MONITORING, S.CLOSURE_PREPARATION, "closure-start-reason-given", {"closure_start_reason": None}),
    (RETURN, S.CLOSURE_PREPARATION, S.CLOSED, "closure-reason-recorded", {"closure": None}),
    (RETURN, S.CLOSURE_PREPARATION, S.CLOSED, "exit-review-done", {"closure": ClosureFacts(True, False, True, True)}),
    (RETURN, S.CLOSURE_PREPARATION, S.CLOSED, "exit-review-done", {"closure": ClosureFacts(True, True, False, True)}),
    (
        RETURN,
        S.CLOSURE_PREPARATION,
        S.CLOSED,
        "child-closure-best-interests-reference",
        {"is_child": True, "closure": ClosureFacts(True, True, True, False)},
    ),
    (RETURN, S.WITHDRAWN, S.CLOSED, "closure-reason-recorded", {"closure": None}),
    (RETURN, S.WITHDRAWN, S.CLOSED, "exit-review-done", {"closure": ClosureFacts(True, False, False, True)}),
    (
        RETURN,
        S.WITHDRAWN,
        S.CLOSED,
        "child-closure-best-interests-reference",
        {"is_child": True, "closure": ClosureFacts(True, True, True, False)},
    ),
    (RETURN, S.ASSESSMENT, S.ON_HOLD, "hold-reason-given", {"hold_reason": False}),
    (RESETTLEMENT, S.CASE_PROCESSING, S.ON_HOLD, "hold-reason-given", {"hold_reason": False}),
    (RESETTLEMENT, S.PLACEMENT_PLANNING, S.TRAVEL_BOOKED, "health-track-cleared", {"health_track": T.ASSESSED}),
    (RESETTLEMENT, S.PLACEMENT_PLANNING, S.TRAVEL_BOOKED, "documents-issued", {"documents_track": T.PENDING}),
    (RESETTLEMENT, S.TRAVEL_BOOKED, S.PLACEMENT_PLANNING, "reassessment-reason-given", {"reassessment_reason": None}),
    (RESETTLEMENT, S.TRAVEL_BOOKED, S.IN_TRANSIT, "pre-embarkation-check-passed", {"health_track": T.CLEARED}),
    (  # the check holds for 72 hours (resettlement.md §2.2)
        RESETTLEMENT,
        S.TRAVEL_BOOKED,
        S.IN_TRANSIT,
        "pre-embarkation-check-passed",
        {"pec_passed_ago": timedelta(hours=72, seconds=1)},
    ),
    (  # passed before its time was recorded
        RESETTLEMENT,
        S.TRAVEL_BOOKED,
        S.IN_TRANSIT,
        "pre-embarkation-check-passed",
        {"pec_passed_ago": None},
    ),
    (RESETTLEMENT, S.ARRIVED, S.HANDED_OVER, "handover-package-received-or-waived", {"attestations": frozenset()}),
    (RESETTLEMENT, S.FOLLOW_UP, S.INTEGRATION_SUPPORT, "reassessment-reason-given", {"reassessment_reason": None}),
    (RESETTLEMENT, S.FOLLOW_UP, S.TRANSITIONED, "closure-reason-recorded", {"closure": None}),
    (RESETTLEMENT, S.FOLLOW_UP, S.TRANSITIONED, "exit-review-done", {"closure": ClosureFacts(True, False, True, True)}),
    (
        RESETTLEMENT,
        S.FOLLOW_UP,
        S.TRANSITIONED,
        "child-closure-best-interests-reference",
        {"is_child": True, "closure": ClosureFacts(True, True, True, False)},
    ),
    (RESETTLEMENT, S.WITHDRAWN, S.TRANSITIONED, "closure-reason-recorded", {"closure": None}),
    (RESETTLEMENT, S.WITHDRAWN, S.TRANSITIONED, "exit-review-done", {"closure": ClosureFacts(True, True, False, True)}),
    (
        RESETTLEMENT,
        S.WITHDRAWN,
        S.TRANSITIONED,
        "child-closure-best-interests-reference",
        {"is_child": True, "closure": ClosureFacts(True, True, True, False)},
    ),
]


@pytest.mark.parametrize(("programme", "from_stage", "to_stage", "guard", "failing"), GUARD_CASES)
def test_an_unmet_guard_refuses_the_transition_and_names_itself(
    programme: Programme, from_stage: Stage, to_stage: Stage, guard: str, failing: dict[str, object]
) -> None:
    with pytest.raises(GuardFailed) as refused:
        check_transition(satisfied(programme, from_stage, to_stage, **failing), to_stage)
    assert refused.value.context["guard"] == guard


def test_a_child_returns_with_a_best_interests_determination() -> None:
    facts = satisfied(RETURN, S.PRE_DEPARTURE_COUNSELLING, S.ARRIVED, is_child=True)
    check_transition(dataclasses.replace(facts, best_interests_determination_recorded=True), S.ARRIVED)


def test_a_vulnerable_returnee_plans_once_the_risk_assessment_is_recorded() -> None:
    facts = satisfied(RETURN, S.ASSESSMENT, S.PLANNING, vulnerable=True, risk_assessment_recorded=True)
    check_transition(facts, S.PLANNING)


def test_an_unguarded_death_or_opt_out_needs_no_facts_at_all() -> None:
    for stage in RETURN_ACTIVE:
        for to in (S.WITHDRAWN, S.DECEASED):
            check_transition(CaseFacts(programme=RETURN, stage=stage), to)


TRACK_EDGES = {
    Track.HEALTH: {
        (T.NOT_STARTED, T.ASSESSED),
        (T.ASSESSED, T.STABILISING),
        (T.ASSESSED, T.CLEARED),
        (T.ASSESSED, T.CLEARED_WITH_REQUIREMENTS),
        (T.STABILISING, T.CLEARED),
        (T.STABILISING, T.CLEARED_WITH_REQUIREMENTS),
        (T.CLEARED, T.PEC_PASSED),
        (T.CLEARED, T.PEC_FAILED),
        (T.CLEARED_WITH_REQUIREMENTS, T.PEC_PASSED),
        (T.CLEARED_WITH_REQUIREMENTS, T.PEC_FAILED),
        (T.PEC_FAILED, T.STABILISING),
        (T.PEC_PASSED, T.PEC_PASSED),
        (T.PEC_PASSED, T.PEC_FAILED),
    },
    Track.PDO: {
        (T.NOT_STARTED, T.INVITED),
        (T.INVITED, T.ATTENDING),
        (T.INVITED, T.NO_SHOW),
        (T.ATTENDING, T.COMPLETED),
        (T.ATTENDING, T.PARTIAL),
        (T.ATTENDING, T.NO_SHOW),
        (T.NO_SHOW, T.INVITED),
        (T.PARTIAL, T.INVITED),
    },
    Track.DOCUMENTS: {(T.PENDING, T.ISSUED), (T.ISSUED, T.COLLECTED)},
}


@pytest.mark.parametrize(
    ("track", "current", "to"), [(t, a, b) for t in Track for a, b in itertools.product(sorted(TrackStage), repeat=2)]
)
def test_a_sub_track_moves_exactly_along_its_spec(track: Track, current: TrackStage, to: TrackStage) -> None:
    if (current, to) in TRACK_EDGES[track]:
        check_track_transition(RESETTLEMENT, S.PLACEMENT_PLANNING, track, current, to)
    else:
        with pytest.raises(IllegalTransition):
            check_track_transition(RESETTLEMENT, S.PLACEMENT_PLANNING, track, current, to)


@pytest.mark.parametrize("stage", sorted(Stage))
def test_sub_tracks_move_only_while_an_approved_case_prepares_for_travel(stage: Stage) -> None:
    move = (RESETTLEMENT, stage, Track.HEALTH, T.NOT_STARTED, T.ASSESSED)
    if stage in {S.APPROVED, S.PLACEMENT_PLANNING, S.TRAVEL_BOOKED}:
        check_track_transition(*move)
    else:
        with pytest.raises(IllegalTransition):
            check_track_transition(*move)


def test_a_return_case_has_no_sub_tracks() -> None:
    with pytest.raises(IllegalTransition):
        check_track_transition(RETURN, S.PLACEMENT_PLANNING, Track.HEALTH, T.NOT_STARTED, T.ASSESSED)
    with pytest.raises(IllegalTransition):
        check_track_transition(RESETTLEMENT, S.APPROVED, Track.HEALTH, None, T.ASSESSED)


def test_every_guard_of_both_machines_has_a_case_above() -> None:
    declared = {
        (p, a, b, g.name) for p in Programme for a, b in EDGES[p] if b is not S.ON_HOLD for g in guards_for(p, a, b)
    }
    tested = {(p, a, b, g) for p, a, b, g, _ in GUARD_CASES if b is not S.ON_HOLD}
    assert declared == tested


@pytest.mark.parametrize(
    ("programme", "mode_of_return", "stage"),
    [
        (RETURN, None, S.PRE_DEPARTURE_COUNSELLING),
        (RETURN, ModeOfReturn.AVRR_VOLUNTARY, S.PRE_DEPARTURE_COUNSELLING),
        (RETURN, ModeOfReturn.OTHER, S.PRE_DEPARTURE_COUNSELLING),
        (RETURN, ModeOfReturn.FORCED_DEPORTED, S.ARRIVED),
        (RETURN, ModeOfReturn.SPONTANEOUS, S.ARRIVED),
        (RESETTLEMENT, None, S.REFERRAL_SUBMISSION),
    ],
)
def test_a_forced_or_spontaneous_return_opens_on_arrival_any_other_case_in_its_first_stage(
    programme: Programme, mode_of_return: ModeOfReturn | None, stage: Stage
) -> None:
    assert opening_stage(programme, mode_of_return) is stage


def test_a_pre_embarkation_check_holds_for_departure_until_72_hours_after_it_passed() -> None:
    for ago in (timedelta(0), timedelta(hours=24), timedelta(hours=72)):
        check_transition(satisfied(RESETTLEMENT, S.TRAVEL_BOOKED, S.IN_TRANSIT, pec_passed_ago=ago), S.IN_TRANSIT)


def test_the_health_track_records_when_the_pre_embarkation_check_passed_and_forgets_it_after() -> None:
    opened = datetime(2026, 12, 1, 9, tzinfo=UTC)
    case = open_case_for(
        uuid4(),
        programme=RESETTLEMENT,
        office_id="ke-nairobi",
        organisation_id=None,
        assigned_worker=None,
        now=opened,
    )
    assert case.pec_passed_at is None
    passed = opened + timedelta(days=20)
    case.move_track(Track.HEALTH, T.PEC_PASSED, now=passed)
    case.move_track(Track.PDO, T.COMPLETED, now=passed + timedelta(hours=1))
    assert case.pec_passed_at == passed
    checked_again = passed + timedelta(hours=80)
    case.move_track(Track.HEALTH, T.PEC_PASSED, now=checked_again)
    assert case.pec_passed_at == checked_again
    case.move_track(Track.HEALTH, T.PEC_FAILED, now=checked_again + timedelta(hours=2))
    assert case.pec_passed_at is None


@pytest.mark.parametrize("mode_of_return", [ModeOfReturn.FORCED_DEPORTED, ModeOfReturn.SPONTANEOUS])
def test_a_forced_or_spontaneous_return_in_pre_departure_counselling_departs_without_a_voluntariness_attestation(
    mode_of_return: ModeOfReturn,
) -> None:
    attested = frozenset({Attestation.HANDOVER_PACKAGE_RECEIVED_OR_WAIVED})
    facts = satisfied(RETURN, S.PRE_DEPARTURE_COUNSELLING, S.ARRIVED, attestations=attested)
    check_transition(dataclasses.replace(facts, mode_of_return=mode_of_return), S.ARRIVED)
    with pytest.raises(GuardFailed):
        check_transition(dataclasses.replace(facts, mode_of_return=ModeOfReturn.AVRR_VOLUNTARY), S.ARRIVED)
