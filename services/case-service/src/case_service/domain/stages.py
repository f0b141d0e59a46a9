"""Stage state machines of both programmes and their transition guards (reintegration.md §3, resettlement.md §2).

Pure: the service layer gathers `CaseFacts` from what is recorded, `check_transition` decides. Nothing here reads
the clock or the database.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from case_service.domain.errors import GuardFailed, IllegalTransition
from casebridge_common.events.contracts.case import ModeOfReturn, Programme


class Stage(StrEnum):
    """Where a case stands. Return stages follow reintegration.md §3.1, resettlement stages resettlement.md §2.1."""

    # Return and reintegration (S1 keeps the name of the pre-departure reintegration counselling it holds)
    PRE_DEPARTURE_COUNSELLING = "pre_departure_counselling"
    ARRIVED = "arrived"
    FIRST_COUNSELLING = "first_counselling"
    ASSESSMENT = "assessment"
    PLANNING = "planning"
    IMPLEMENTATION = "implementation"
    MONITORING = "monitoring"
    CLOSURE_PREPARATION = "closure_preparation"
    CLOSED = "closed"
    POST_CLOSURE_MONITORING = "post_closure_monitoring"
    ARCHIVED = "archived"
    NOT_RETURNED = "not_returned"
    # Resettlement and integration
    REFERRAL_SUBMISSION = "referral_submission"
    CASE_PROCESSING = "case_processing"
    DEFERRED_PENDING_INFO = "deferred_pending_info"
    SELECTION_SCHEDULED = "selection_scheduled"
    SELECTION_INTERVIEWED = "selection_interviewed"
    APPROVED = "approved"
    NOT_APPROVED = "not_approved"
    PLACEMENT_PLANNING = "placement_planning"
    TRAVEL_BOOKED = "travel_booked"
    IN_TRANSIT = "in_transit"
    HANDED_OVER = "handed_over"
    RECEPTION = "reception"
    POST_ARRIVAL_ORIENTATION = "post_arrival_orientation"
    INTEGRATION_SUPPORT = "integration_support"
    FOLLOW_UP = "follow_up"
    TRANSITIONED = "transitioned"
    CANCELLED = "cancelled"
    # Both programmes
    ON_HOLD = "on_hold"
    WITHDRAWN = "withdrawn"
    DECEASED = "deceased"


class Track(StrEnum):
    """Parallel person-level sub-tracks of a resettlement case (resettlement.md §2.2), held per case here."""

    HEALTH = "health"
    PDO = "pdo"
    DOCUMENTS = "documents"


class TrackStage(StrEnum):
    NOT_STARTED = "not_started"
    ASSESSED = "assessed"
    STABILISING = "stabilising"
    CLEARED = "cleared"
    CLEARED_WITH_REQUIREMENTS = "cleared_with_requirements"
    PEC_PASSED = "pec_passed"
    PEC_FAILED = "pec_failed"
    INVITED = "invited"
    ATTENDING = "attending"
    COMPLETED = "completed"
    PARTIAL = "partial"
    NO_SHOW = "no_show"
    PENDING = "pending"
    ISSUED = "issued"
    COLLECTED = "collected"


class Attestation(StrEnum):
    """Facts owned outside this service (handover packages, consent records) that the worker attests."""

    HANDOVER_PACKAGE_RECEIVED_OR_WAIVED = "handover_package_received_or_waived"
    RETURNEE_NOTIFIED_IN_ADVANCE = "returnee_notified_in_advance"
    CONSENT_CAPTURED = "consent_captured"
    CONSENT_COVERS_EVERY_PLAN_COMPONENT = "consent_covers_every_plan_component"
    VOLUNTARINESS_ATTESTED = "voluntariness_attested"


class ReassessmentReason(StrEnum):
    """R47: what may send a case back to assessment or planning."""

    DRASTIC_CHANGE_IN_CIRCUMSTANCES = "drastic_change_in_circumstances"
    CHANGE_IN_NEEDS_RISKS_GOALS = "change_in_needs_risks_goals"
    MEDICAL_WORSENING_OR_NEW_CONDITION = "medical_worsening_or_new_condition"
    HOUSING_CHANGE = "housing_change"


class ClosureStartReason(StrEnum):
    EXIT_STRATEGY_MET = "exit_strategy_met"
    FOLLOW_UP_WINDOW_ENDED = "follow_up_window_ended"
    EARLY_TERMINATION = "early_termination"


FIRST_STAGE: dict[Programme, Stage] = {
    Programme.RETURN_REINTEGRATION: Stage.PRE_DEPARTURE_COUNSELLING,
    Programme.RESETTLEMENT_INTEGRATION: Stage.REFERRAL_SUBMISSION,
}
# returns without a departure from the host country that this service saw (reintegration.md §3.2)
RETURNS_OPENED_ON_ARRIVAL = frozenset({ModeOfReturn.FORCED_DEPORTED, ModeOfReturn.SPONTANEOUS})


def opening_stage(programme: Programme, mode_of_return: ModeOfReturn | None) -> Stage:
    """Where a new case starts: its programme's first stage, except a forced or spontaneous return, which the
    origin office opens directly in `arrived` (it had no pre-departure counselling, nor a voluntary decision)."""
    if programme is Programme.RETURN_REINTEGRATION and mode_of_return in RETURNS_OPENED_ON_ARRIVAL:
        return Stage.ARRIVED
    return FIRST_STAGE[programme]


FIRST_TRACK_STAGE: dict[Track, TrackStage] = {
    Track.HEALTH: TrackStage.NOT_STARTED,
    Track.PDO: TrackStage.NOT_STARTED,
    Track.DOCUMENTS: TrackStage.PENDING,
}

S = Stage
_RETURN_FLOW: dict[Stage, frozenset[Stage]] = {
    S.PRE_DEPARTURE_COUNSELLING: frozenset({S.ARRIVED, S.NOT_RETURNED}),
    S.ARRIVED: frozenset({S.FIRST_COUNSELLING}),
    S.FIRST_COUNSELLING: frozenset({S.ASSESSMENT, S.PLANNING}),  # planning in the same sitting (L983)
    S.ASSESSMENT: frozenset({S.PLANNING}),
    S.PLANNING: frozenset({S.IMPLEMENTATION, S.ASSESSMENT}),
    S.IMPLEMENTATION: frozenset({S.MONITORING, S.ASSESSMENT, S.PLANNING}),
    S.MONITORING: frozenset({S.CLOSURE_PREPARATION, S.ASSESSMENT, S.PLANNING}),
    S.CLOSURE_PREPARATION: frozenset({S.CLOSED}),
    S.CLOSED: frozenset({S.POST_CLOSURE_MONITORING, S.ARCHIVED}),
    S.POST_CLOSURE_MONITORING: frozenset({S.ARCHIVED}),
    S.WITHDRAWN: frozenset({S.CLOSURE_PREPARATION, S.CLOSED}),
}
_RESETTLEMENT_FLOW: dict[Stage, frozenset[Stage]] = {
    S.REFERRAL_SUBMISSION: frozenset({S.CASE_PROCESSING}),
    S.CASE_PROCESSING: frozenset({S.DEFERRED_PENDING_INFO, S.SELECTION_SCHEDULED}),
    S.DEFERRED_PENDING_INFO: frozenset({S.CASE_PROCESSING}),
    S.SELECTION_SCHEDULED: frozenset({S.SELECTION_INTERVIEWED}),
    S.SELECTION_INTERVIEWED: frozenset({S.APPROVED, S.NOT_APPROVED}),
    S.APPROVED: frozenset({S.PLACEMENT_PLANNING}),
    S.PLACEMENT_PLANNING: frozenset({S.TRAVEL_BOOKED}),
    S.TRAVEL_BOOKED: frozenset({S.IN_TRANSIT, S.PLACEMENT_PLANNING}),
    S.IN_TRANSIT: frozenset({S.ARRIVED}),
    S.ARRIVED: frozenset({S.HANDED_OVER}),
    S.HANDED_OVER: frozenset({S.RECEPTION}),
    S.RECEPTION: frozenset({S.POST_ARRIVAL_ORIENTATION}),
    S.POST_ARRIVAL_ORIENTATION: frozenset({S.INTEGRATION_SUPPORT}),
    S.INTEGRATION_SUPPORT: frozenset({S.FOLLOW_UP}),
    S.FOLLOW_UP: frozenset({S.INTEGRATION_SUPPORT, S.TRANSITIONED}),
    S.WITHDRAWN: frozenset({S.TRANSITIONED}),
}
FLOWS: dict[Programme, dict[Stage, frozenset[Stage]]] = {
    Programme.RETURN_REINTEGRATION: _RETURN_FLOW,
    Programme.RESETTLEMENT_INTEGRATION: _RESETTLEMENT_FLOW,
}
CLOSURE_STAGE: dict[Programme, Stage] = {
    Programme.RETURN_REINTEGRATION: Stage.CLOSED,
    Programme.RESETTLEMENT_INTEGRATION: Stage.TRANSITIONED,
}
_NOT_ACTIVE: frozenset[Stage] = frozenset(
    {
        S.CLOSED,
        S.POST_CLOSURE_MONITORING,
        S.ARCHIVED,
        S.NOT_RETURNED,
        S.NOT_APPROVED,
        S.TRANSITIONED,
        S.CANCELLED,
        S.WITHDRAWN,
        S.DECEASED,
        S.ON_HOLD,
    }
)
# Resettlement cases can be cancelled only before they travel (resettlement.md §2.1 "T").
_CANCELLABLE: frozenset[Stage] = frozenset(
    {
        S.REFERRAL_SUBMISSION,
        S.CASE_PROCESSING,
        S.DEFERRED_PENDING_INFO,
        S.SELECTION_SCHEDULED,
        S.SELECTION_INTERVIEWED,
        S.APPROVED,
        S.PLACEMENT_PLANNING,
        S.TRAVEL_BOOKED,
    }
)

_TRACK_FLOWS: dict[Track, dict[TrackStage, frozenset[TrackStage]]] = {
    Track.HEALTH: {
        TrackStage.NOT_STARTED: frozenset({TrackStage.ASSESSED}),
        TrackStage.ASSESSED: frozenset(
            {TrackStage.STABILISING, TrackStage.CLEARED, TrackStage.CLEARED_WITH_REQUIREMENTS}
        ),
        TrackStage.STABILISING: frozenset({TrackStage.CLEARED, TrackStage.CLEARED_WITH_REQUIREMENTS}),
        TrackStage.CLEARED: frozenset({TrackStage.PEC_PASSED, TrackStage.PEC_FAILED}),
        TrackStage.CLEARED_WITH_REQUIREMENTS: frozenset({TrackStage.PEC_PASSED, TrackStage.PEC_FAILED}),
        TrackStage.PEC_FAILED: frozenset({TrackStage.STABILISING}),
        # a check holds for 72 hours: a departure put off past them is checked again (the new time counts)
        TrackStage.PEC_PASSED: frozenset({TrackStage.PEC_PASSED, TrackStage.PEC_FAILED}),
    },
    Track.PDO: {
        TrackStage.NOT_STARTED: frozenset({TrackStage.INVITED}),
        TrackStage.INVITED: frozenset({TrackStage.ATTENDING, TrackStage.NO_SHOW}),
        TrackStage.ATTENDING: frozenset({TrackStage.COMPLETED, TrackStage.PARTIAL, TrackStage.NO_SHOW}),
        TrackStage.NO_SHOW: frozenset({TrackStage.INVITED}),
        TrackStage.PARTIAL: frozenset({TrackStage.INVITED}),
    },
    Track.DOCUMENTS: {
        TrackStage.PENDING: frozenset({TrackStage.ISSUED}),
        TrackStage.ISSUED: frozenset({TrackStage.COLLECTED}),
    },
}
# The tracks run while the approved case prepares for travel (resettlement.md §2.2).
TRACKS_OPEN_IN: frozenset[Stage] = frozenset({S.APPROVED, S.PLACEMENT_PLANNING, S.TRAVEL_BOOKED})
HEALTH_CLEARED: frozenset[TrackStage] = frozenset(
    {TrackStage.CLEARED, TrackStage.CLEARED_WITH_REQUIREMENTS, TrackStage.PEC_PASSED}
)


@dataclass(frozen=True, slots=True)
class PlanFacts:
    """The latest approved plan version, as far as guards need it."""

    signed_by_returnee: bool
    signed_by_staff_or_partner: bool
    has_exit_strategy: bool
    has_estimated_duration: bool


@dataclass(frozen=True, slots=True)
class ClosureFacts:
    has_closure_reason: bool
    exit_interview_done: bool
    closing_assessment_done: bool
    best_interests_determination_reference: bool


PEC_VALIDITY = timedelta(hours=72)  # resettlement.md §2.2: the fitness-to-travel check is 24-72 h before departure


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """Everything recorded that a guard may look at; built by the service layer from the database."""

    programme: Programme
    stage: Stage
    held_from: Stage | None = None
    is_child: bool = False
    best_interests_determination_recorded: bool = False
    health_not_to_return: bool = False
    skills_assessment_recorded: bool = False
    needs_assessment_recorded: bool = False
    vulnerable: bool = False
    risk_assessment_recorded: bool = False
    approved_plan: PlanFacts | None = None
    open_assistance_items: int = 0
    health_track: TrackStage | None = None
    documents_track: TrackStage | None = None
    mode_of_return: ModeOfReturn | None = None
    pec_passed_ago: timedelta | None = None  # how long ago the pre-embarkation check was passed, if recorded
    attestations: frozenset[Attestation] = field(default_factory=frozenset)
    reassessment_reason: ReassessmentReason | None = None
    closure_start_reason: ClosureStartReason | None = None
    closure: ClosureFacts | None = None
    hold_reason: bool = False


@dataclass(frozen=True, slots=True)
class Guard:
    name: str
    holds: Callable[[CaseFacts], bool]
    detail: str


def _attested(attestation: Attestation) -> Callable[[CaseFacts], bool]:
    return lambda f: attestation in f.attestations


VOLUNTARY = Guard(
    "voluntariness-attested",
    lambda f: f.mode_of_return in RETURNS_OPENED_ON_ARRIVAL or Attestation.VOLUNTARINESS_ATTESTED in f.attestations,
    "Departure needs the returnee's free and informed decision to return attested (reintegration.md §3.2); a "
    "forced or spontaneous return has none to attest.",
)
HANDOVER = Guard(
    "handover-package-received-or-waived",
    _attested(Attestation.HANDOVER_PACKAGE_RECEIVED_OR_WAIVED),
    "Arrival needs the handover package received or explicitly waived.",
)
CHILD_BID = Guard(
    "best-interests-determination-recorded",
    lambda f: not f.is_child or f.best_interests_determination_recorded,
    "A child is not returned without a recorded best-interests determination in favour of return.",
)
HEALTH_NOT_TO_RETURN = Guard(
    "health-not-to-return-decision-recorded",
    lambda f: f.health_not_to_return,
    "Not returning needs a health assessment with the decision not to return (R16).",
)
NO_RETURN_AGAINST_HEALTH = Guard(
    "no-health-not-to-return-decision",
    lambda f: not f.health_not_to_return,
    "Return is not facilitated while life-saving treatment is unavailable in the origin country (R16).",
)
RETURNEE_NOTIFIED = Guard(
    "returnee-notified-in-advance",
    _attested(Attestation.RETURNEE_NOTIFIED_IN_ADVANCE),
    "First counselling needs the returnee notified in advance.",
)
CONSENT_CAPTURED = Guard(
    "consent-captured",
    _attested(Attestation.CONSENT_CAPTURED),
    "Assessments need the consent given during first counselling.",
)
SKILLS = Guard(
    "skills-assessment-recorded",
    lambda f: f.skills_assessment_recorded,
    "Planning needs a skills assessment first (R11).",
)
RISK_IF_VULNERABLE = Guard(
    "risk-assessment-recorded-if-vulnerable",
    lambda f: not f.vulnerable or f.risk_assessment_recorded,
    "A vulnerable returnee needs a risk assessment and security plan before planning (R14).",
)
PLAN_APPROVED = Guard(
    "plan-approved",
    lambda f: f.approved_plan is not None,
    "Implementation needs a plan version approved by a supervisor.",
)
PLAN_SIGNED = Guard(
    "plan-signed-by-both",
    lambda f: (
        f.approved_plan is not None
        and f.approved_plan.signed_by_returnee
        and f.approved_plan.signed_by_staff_or_partner
    ),
    "The approved plan must be signed by the returnee and by staff or a referral partner.",
)
PLAN_EXIT_STRATEGY = Guard(
    "plan-has-exit-strategy-and-duration",
    lambda f: (
        f.approved_plan is not None and f.approved_plan.has_exit_strategy and f.approved_plan.has_estimated_duration
    ),
    "The approved plan must state an exit strategy and the estimated duration (R25).",
)
PLAN_CONSENT = Guard(
    "consent-covers-every-plan-component",
    _attested(Attestation.CONSENT_COVERS_EVERY_PLAN_COMPONENT),
    "Consent must cover every component of the plan (R24).",
)
ITEMS_CLOSED = Guard(
    "all-assistance-items-closed",
    lambda f: f.open_assistance_items == 0,
    "Monitoring starts when every assistance item is delivered or cancelled.",
)
REASSESSMENT_REASON = Guard(
    "reassessment-reason-given",
    lambda f: f.reassessment_reason is not None,
    "Going back to assessment or planning needs a reason among the re-assessment triggers (R47).",
)
CLOSURE_START_REASON = Guard(
    "closure-start-reason-given",
    lambda f: f.closure_start_reason is not None,
    "Closure preparation needs a reason: exit strategy met, window ended or early termination.",
)
CLOSURE_REASON = Guard(
    "closure-reason-recorded",
    lambda f: f.closure is not None and f.closure.has_closure_reason,
    "Closure needs a closure reason (R31).",
)
EXIT_REVIEW = Guard(
    "exit-review-done",
    lambda f: f.closure is not None and f.closure.exit_interview_done and f.closure.closing_assessment_done,
    "Closure needs the exit interview and the closing assessment (R31).",
)
CHILD_CLOSURE_BID = Guard(
    "child-closure-best-interests-reference",
    lambda f: not f.is_child or (f.closure is not None and f.closure.best_interests_determination_reference),
    "Closing a child's case needs a best-interests determination reference (R56).",
)
TRAVEL_HEALTH = Guard(
    "health-track-cleared",
    lambda f: f.health_track in HEALTH_CLEARED,
    "Travel is booked only when the health assessment has cleared the traveller.",
)
TRAVEL_DOCUMENTS = Guard(
    "documents-issued",
    lambda f: f.documents_track in {TrackStage.ISSUED, TrackStage.COLLECTED},
    "Travel is booked only when the travel documents are issued.",
)
PEC_PASSED = Guard(
    "pre-embarkation-check-passed",
    lambda f: (
        f.health_track == TrackStage.PEC_PASSED and f.pec_passed_ago is not None and f.pec_passed_ago <= PEC_VALIDITY
    ),
    "Departure needs a pre-embarkation check passed within the last 72 hours.",
)
HOLD_REASON = Guard("hold-reason-given", lambda f: f.hold_reason, "Putting a case on hold needs a reason.")

_RETURN_GUARDS: dict[tuple[Stage, Stage], tuple[Guard, ...]] = {
    (S.PRE_DEPARTURE_COUNSELLING, S.ARRIVED): (HANDOVER, VOLUNTARY, NO_RETURN_AGAINST_HEALTH, CHILD_BID),
    (S.PRE_DEPARTURE_COUNSELLING, S.NOT_RETURNED): (HEALTH_NOT_TO_RETURN,),
    (S.ARRIVED, S.FIRST_COUNSELLING): (RETURNEE_NOTIFIED,),
    (S.FIRST_COUNSELLING, S.ASSESSMENT): (CONSENT_CAPTURED,),
    (S.FIRST_COUNSELLING, S.PLANNING): (CONSENT_CAPTURED, SKILLS, RISK_IF_VULNERABLE),
    (S.ASSESSMENT, S.PLANNING): (SKILLS, RISK_IF_VULNERABLE),
    (S.PLANNING, S.IMPLEMENTATION): (PLAN_APPROVED, PLAN_SIGNED, PLAN_EXIT_STRATEGY, PLAN_CONSENT),
    (S.PLANNING, S.ASSESSMENT): (REASSESSMENT_REASON,),
    (S.IMPLEMENTATION, S.MONITORING): (ITEMS_CLOSED,),
    (S.IMPLEMENTATION, S.ASSESSMENT): (REASSESSMENT_REASON,),
    (S.IMPLEMENTATION, S.PLANNING): (REASSESSMENT_REASON,),
    (S.MONITORING, S.ASSESSMENT): (REASSESSMENT_REASON,),
    (S.MONITORING, S.PLANNING): (REASSESSMENT_REASON,),
    (S.MONITORING, S.CLOSURE_PREPARATION): (CLOSURE_START_REASON,),
    (S.CLOSURE_PREPARATION, S.CLOSED): (CLOSURE_REASON, EXIT_REVIEW, CHILD_CLOSURE_BID),
    (S.WITHDRAWN, S.CLOSED): (CLOSURE_REASON, EXIT_REVIEW, CHILD_CLOSURE_BID),
}
_RESETTLEMENT_GUARDS: dict[tuple[Stage, Stage], tuple[Guard, ...]] = {
    (S.TRAVEL_BOOKED, S.PLACEMENT_PLANNING): (REASSESSMENT_REASON,),
    (S.PLACEMENT_PLANNING, S.TRAVEL_BOOKED): (TRAVEL_HEALTH, TRAVEL_DOCUMENTS),
    (S.TRAVEL_BOOKED, S.IN_TRANSIT): (PEC_PASSED,),
    (S.ARRIVED, S.HANDED_OVER): (HANDOVER,),
    (S.FOLLOW_UP, S.INTEGRATION_SUPPORT): (REASSESSMENT_REASON,),
    (S.FOLLOW_UP, S.TRANSITIONED): (CLOSURE_REASON, EXIT_REVIEW, CHILD_CLOSURE_BID),
    (S.WITHDRAWN, S.TRANSITIONED): (CLOSURE_REASON, EXIT_REVIEW, CHILD_CLOSURE_BID),
}
_GUARDS: dict[Programme, dict[tuple[Stage, Stage], tuple[Guard, ...]]] = {
    Programme.RETURN_REINTEGRATION: _RETURN_GUARDS,
    Programme.RESETTLEMENT_INTEGRATION: _RESETTLEMENT_GUARDS,
}


def stages_of(programme: Programme) -> frozenset[Stage]:
    flow = FLOWS[programme]
    named = set(flow) | {to for targets in flow.values() for to in targets}
    return frozenset(
        named | {S.ON_HOLD, S.WITHDRAWN, S.DECEASED} | ({S.CANCELLED} if _is_resettlement(programme) else set())
    )


def _is_resettlement(programme: Programme) -> bool:
    return programme is Programme.RESETTLEMENT_INTEGRATION


def is_active(stage: Stage) -> bool:
    return stage not in _NOT_ACTIVE


def legal_targets(programme: Programme, stage: Stage, *, held_from: Stage | None = None) -> frozenset[Stage]:
    """Every stage a case may move to from `stage`, before guards."""
    if stage is S.ON_HOLD:
        return frozenset({S.WITHDRAWN, S.DECEASED} | ({held_from} if held_from is not None else set()))
    targets = set(FLOWS[programme].get(stage, frozenset()))
    if is_active(stage):
        targets |= {S.ON_HOLD, S.WITHDRAWN, S.DECEASED}  # opt-out is always allowed (R22)
        if _is_resettlement(programme) and stage in _CANCELLABLE:
            targets.add(S.CANCELLED)
    return frozenset(targets)


def guards_for(programme: Programme, from_stage: Stage, to_stage: Stage) -> tuple[Guard, ...]:
    if to_stage is S.ON_HOLD:
        return (HOLD_REASON,)
    return _GUARDS[programme].get((from_stage, to_stage), ())


def check_transition(facts: CaseFacts, to_stage: Stage) -> None:
    """Raise `IllegalTransition` or the first failing `GuardFailed`; return when the case may move."""
    if to_stage not in legal_targets(facts.programme, facts.stage, held_from=facts.held_from):
        raise IllegalTransition(
            f"A {facts.programme} case cannot move from {facts.stage} to {to_stage}.",
            from_stage=facts.stage,
            to_stage=to_stage,
        )
    for guard in guards_for(facts.programme, facts.stage, to_stage):
        if not guard.holds(facts):
            raise GuardFailed(guard.detail, guard=guard.name, from_stage=facts.stage, to_stage=to_stage)


def legal_track_targets(track: Track, stage: TrackStage) -> frozenset[TrackStage]:
    return _TRACK_FLOWS[track].get(stage, frozenset())


def track_stages_of(track: Track) -> frozenset[TrackStage]:
    flow = _TRACK_FLOWS[track]
    return frozenset(set(flow) | {to for targets in flow.values() for to in targets})


def check_track_transition(
    programme: Programme, case_stage: Stage, track: Track, current: TrackStage | None, to: TrackStage
) -> None:
    """A sub-track moves only on an approved resettlement case preparing for travel."""
    if (
        not _is_resettlement(programme)
        or current is None
        or case_stage not in TRACKS_OPEN_IN
        or to not in legal_track_targets(track, current)
    ):
        raise IllegalTransition(
            f"The {track} track cannot move from {current} to {to} while the case is {case_stage}.",
            track=track,
            from_stage=current,
            to_stage=to,
        )
