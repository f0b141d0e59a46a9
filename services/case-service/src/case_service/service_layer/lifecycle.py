"""Stage transitions, assessments, plans and closure of a case. Only the owning office writes."""

from datetime import datetime
from uuid import UUID

from case_service.domain.assessments import (
    SENSITIVE_KINDS,
    Assessment,
    AssessmentKind,
    BestInterestsDecision,
    CaseClosure,
    CaseNote,
    HealthReturnDecision,
    Plan,
    PlanStatus,
    grant_total,
    next_version,
    plan_diff,
)
from case_service.domain.errors import (
    CaseNotActive,
    CaseNotFound,
    GuardFailed,
    PlanNotApprovable,
    PlanNotFound,
    SupervisorRoleRequired,
)
from case_service.domain.models import Case, is_minor
from case_service.domain.stages import (
    CLOSURE_STAGE,
    CaseFacts,
    ClosureFacts,
    PlanFacts,
    Stage,
    check_track_transition,
    check_transition,
    is_active,
)
from case_service.schemas import (
    AssessmentRead,
    ChangeStage,
    DraftPlan,
    NoteRead,
    PlanChange,
    PlanDiff,
    PlanRead,
    RecordAssessment,
    WriteNote,
)
from case_service.unit_of_work import CaseUnitOfWork
from casebridge_common.audit import AuditAction
from casebridge_common.auth import Principal, Scope
from casebridge_common.events.contracts.case import (
    CaseAssessmentRecorded,
    CaseClosed,
    CasePlanApproved,
    CaseStageChanged,
)
from casebridge_common.http import require_if_match

SUPERVISOR_ROLE = "supervisor"
HEALTH_CATEGORIES = ["health"]


def _office(actor: Principal) -> str:
    assert actor.office_id is not None  # noqa: S101 - the routers require an office claim
    return actor.office_id


async def _visible(uow: CaseUnitOfWork, case_id: UUID, actor: Principal) -> Case:
    case = await uow.cases.get_visible(case_id, office_id=_office(actor))
    if case is None:
        raise CaseNotFound(case_id=case_id)
    return case


async def _writable(uow: CaseUnitOfWork, case_id: UUID, actor: Principal) -> Case:
    case = await uow.cases.get_writable(case_id, office_id=_office(actor))
    if case is None:
        raise CaseNotFound(case_id=case_id)
    return case


async def _facts(uow: CaseUnitOfWork, case: Case, command: ChangeStage, *, now: datetime) -> CaseFacts:
    latest = await uow.assessments.latest_by_kind(case.id)
    beneficiary = await uow.beneficiaries.get_visible(case.beneficiary_id, office_id=case.owner_office_id)
    screening, health, bid = (
        latest.get(AssessmentKind.VULNERABILITY_SCREENING),
        latest.get(AssessmentKind.HEALTH),
        latest.get(AssessmentKind.BEST_INTERESTS_DETERMINATION),
    )
    plan = await uow.plans.approved(case.id)
    closure = command.closure
    return CaseFacts(
        programme=case.programme,
        stage=case.stage,
        held_from=case.held_from_stage,
        is_child=beneficiary is not None and is_minor(beneficiary.born_on, now.date()),
        best_interests_determination_recorded=bid is not None
        and bid.data.get("decision") == BestInterestsDecision.RETURN_IN_BEST_INTERESTS,
        health_not_to_return=health is not None
        and health.data.get("return_decision") == HealthReturnDecision.NOT_TO_RETURN,
        skills_assessment_recorded=AssessmentKind.SKILLS in latest,
        needs_assessment_recorded=AssessmentKind.NEEDS in latest,
        vulnerable=screening is not None and bool(screening.data.get("categories")),
        risk_assessment_recorded=AssessmentKind.RISK in latest,
        approved_plan=None
        if plan is None
        else PlanFacts(
            signed_by_returnee=plan.content.get("returnee_signature") is not None,
            signed_by_staff_or_partner=plan.content.get("staff_or_partner_signature") is not None,
            has_exit_strategy=bool(plan.content.get("exit_strategy")),
            has_estimated_duration=plan.content.get("estimated_duration_months") is not None,
        ),
        open_assistance_items=await uow.assistance.open_count(case.id),
        health_track=case.health_track,
        documents_track=case.documents_track,
        attestations=frozenset(command.attestations),
        reassessment_reason=command.reassessment_reason,
        closure_start_reason=command.closure_start_reason,
        closure=None
        if closure is None
        else ClosureFacts(
            has_closure_reason=True,
            exit_interview_done=closure.exit_interview_on is not None,
            closing_assessment_done=closure.closing_assessment is not None,
            best_interests_determination_reference=closure.best_interests_determination_reference is not None,
        ),
        hold_reason=command.reason is not None,
    )


async def change_stage(
    uow: CaseUnitOfWork, case_id: UUID, command: ChangeStage, *, actor: Principal, if_match: str | None, now: datetime
) -> Case:
    """Move a case or one of its sub-tracks after the guards pass. Emits `case.stage_changed` (and `case.closed`)."""
    case = await _writable(uow, case_id, actor)
    require_if_match(if_match, case.version)
    if command.track is not None and command.to_track_stage is not None:
        current = case.track(command.track)
        check_track_transition(case.programme, case.stage, command.track, current, command.to_track_stage)
        from_stage, to_stage = str(current), str(command.to_track_stage)
        case.move_track(command.track, command.to_track_stage)
    else:
        assert command.to_stage is not None  # noqa: S101 - ChangeStage validates one target
        facts = await _facts(uow, case, command, now=now)
        check_transition(facts, command.to_stage)
        from_stage, to_stage = str(case.stage), str(command.to_stage)
        _enter(case, command, now=now)
    case.version += 1  # under the row lock: concurrent writers serialise here
    uow.outbox.emit(
        CaseStageChanged(
            case_id=case.id,
            case_version=case.version,
            programme=case.programme,
            owner_office_id=case.owner_office_id,
            track=command.track,
            from_stage=from_stage,
            to_stage=to_stage,
            changed_at=now,
        )
    )
    if command.to_stage is CLOSURE_STAGE[case.programme] and command.closure is not None:
        closure = CaseClosure(case_id=case.id, closed_by=actor.subject, closed_at=now, **command.closure.model_dump())
        uow.closures.add(closure)
        uow.outbox.emit(
            CaseClosed(
                case_id=case.id,
                case_version=case.version,
                programme=case.programme,
                owner_office_id=case.owner_office_id,
                closure_reason=closure.closure_reason,
                closure_type=closure.closure_type,
                closed_at=now,
            )
        )
    uow.audit.record(actor, AuditAction.UPDATE, resource_type="case", resource_id=case.id)
    return case


def _enter(case: Case, command: ChangeStage, *, now: datetime) -> None:
    assert command.to_stage is not None  # noqa: S101
    if command.to_stage is Stage.ON_HOLD:
        case.held_from_stage, case.hold_reason = case.stage, command.reason
    elif case.stage is Stage.ON_HOLD:
        case.held_from_stage, case.hold_reason = None, None
    case.stage, case.stage_changed_at = command.to_stage, now


async def record_assessment(
    uow: CaseUnitOfWork, case_id: UUID, command: RecordAssessment, *, actor: Principal, now: datetime
) -> Assessment:
    """A new version of one kind of assessment; earlier versions stay. Emits `case.assessment_recorded`."""
    case = await _writable(uow, case_id, actor)
    if not is_active(case.stage):
        raise CaseNotActive(stage=case.stage)
    data = command.model_dump(mode="json", exclude={"kind"})
    assessment = Assessment(
        case_id=case.id,
        kind=command.kind,
        version=next_version(await uow.assessments.latest_version(case.id, command.kind)),
        is_sensitive=command.kind in SENSITIVE_KINDS,
        data=data,
        recorded_by=actor.subject,
        recorded_at=now,
    )
    uow.assessments.add(assessment)
    if command.kind is AssessmentKind.VULNERABILITY_SCREENING:
        case.vulnerability_categories = list(data["categories"])
        case.version += 1
    uow.outbox.emit(
        CaseAssessmentRecorded(
            case_id=case.id,
            assessment_id=assessment.id,
            kind=assessment.kind,
            assessment_version=assessment.version,
            owner_office_id=case.owner_office_id,
            recorded_at=now,
        )
    )
    uow.audit.record(
        actor,
        AuditAction.CREATE,
        resource_type="assessment",
        resource_id=assessment.id,
        categories=HEALTH_CATEGORIES if assessment.is_sensitive else [],
    )
    return assessment


def assessment_read(assessment: Assessment, actor: Principal) -> AssessmentRead:
    """Sensitive findings (health, vulnerability, best interests) only with `cases.sensitive:read`."""
    shown = not assessment.is_sensitive or Scope.CASES_SENSITIVE_READ in actor.scopes
    return AssessmentRead(
        id=assessment.id,
        case_id=assessment.case_id,
        kind=assessment.kind,
        version=assessment.version,
        is_sensitive=assessment.is_sensitive,
        data=assessment.data if shown else None,
        recorded_by=assessment.recorded_by,
        recorded_at=assessment.recorded_at,
    )


async def assessment_history(
    uow: CaseUnitOfWork, case_id: UUID, kind: AssessmentKind | None, *, actor: Principal
) -> list[AssessmentRead]:
    await _visible(uow, case_id, actor)
    rows = [assessment_read(a, actor) for a in await uow.assessments.history(case_id, kind)]
    uow.audit.record(
        actor,
        AuditAction.LIST,
        resource_type="assessment",
        resource_id=case_id,
        categories=HEALTH_CATEGORIES if Scope.CASES_SENSITIVE_READ in actor.scopes else [],
    )
    return rows


def plan_read(plan: Plan) -> PlanRead:
    lines = plan.content.get("grant_lines") or []
    assert isinstance(lines, list)  # noqa: S101 - written from PlanContent
    return PlanRead(
        id=plan.id,
        case_id=plan.case_id,
        version=plan.version,
        status=plan.status,
        drafted_in=plan.drafted_in,
        content=plan.content,
        grant_total=grant_total([float(line["estimated_cost"]) for line in lines]),
        drafted_by=plan.drafted_by,
        drafted_at=plan.drafted_at,
        approved_by=plan.approved_by,
        approved_at=plan.approved_at,
    )


async def draft_plan(
    uow: CaseUnitOfWork, case_id: UUID, command: DraftPlan, *, actor: Principal, now: datetime
) -> Plan:
    """A new plan version as a draft; it supersedes the approved one only once it is approved itself."""
    case = await _writable(uow, case_id, actor)
    if not is_active(case.stage):
        raise CaseNotActive(stage=case.stage)
    plan = Plan(
        case_id=case.id,
        version=next_version(await uow.plans.latest_version(case.id)),
        status=PlanStatus.DRAFT,
        drafted_in=command.drafted_in,
        content=command.content.model_dump(mode="json"),
        drafted_by=actor.subject,
        drafted_at=now,
    )
    uow.plans.add(plan)
    uow.audit.record(actor, AuditAction.CREATE, resource_type="plan", resource_id=plan.id)
    return plan


async def approve_plan(uow: CaseUnitOfWork, case_id: UUID, version: int, *, actor: Principal, now: datetime) -> Plan:
    """A supervisor approves the latest draft; any earlier version becomes superseded. Emits `case.plan_approved`."""
    case = await _writable(uow, case_id, actor)
    if SUPERVISOR_ROLE not in actor.roles:
        raise SupervisorRoleRequired()
    plan = await uow.plans.get(case.id, version)
    if plan is None:
        raise PlanNotFound(version=version)
    if plan.status is not PlanStatus.DRAFT or version != await uow.plans.latest_version(case.id):
        raise PlanNotApprovable(version=version, status=plan.status)
    if AssessmentKind.NEEDS not in await uow.assessments.latest_by_kind(case.id):
        raise GuardFailed(
            "Plan approval needs a recorded needs assessment.", guard="needs-assessment-recorded", plan_version=version
        )
    for other in await uow.plans.all_of(case.id):
        if other.version != version and other.status is not PlanStatus.SUPERSEDED:
            other.status = PlanStatus.SUPERSEDED
    plan.status, plan.approved_by, plan.approved_at = PlanStatus.APPROVED, actor.subject, now
    uow.outbox.emit(
        CasePlanApproved(
            case_id=case.id,
            plan_id=plan.id,
            plan_version=plan.version,
            owner_office_id=case.owner_office_id,
            approved_at=now,
        )
    )
    uow.audit.record(actor, AuditAction.UPDATE, resource_type="plan", resource_id=plan.id)
    return plan


async def list_plans(uow: CaseUnitOfWork, case_id: UUID, *, actor: Principal) -> list[PlanRead]:
    await _visible(uow, case_id, actor)
    uow.audit.record(actor, AuditAction.LIST, resource_type="plan", resource_id=case_id)
    return [plan_read(p) for p in await uow.plans.all_of(case_id)]


async def read_plan(uow: CaseUnitOfWork, case_id: UUID, version: int, *, actor: Principal) -> PlanRead:
    await _visible(uow, case_id, actor)
    plan = await uow.plans.get(case_id, version)
    if plan is None:
        raise PlanNotFound(version=version)
    uow.audit.record(actor, AuditAction.VIEW, resource_type="plan", resource_id=plan.id)
    return plan_read(plan)


async def diff_plans(uow: CaseUnitOfWork, case_id: UUID, version: int, against: int, *, actor: Principal) -> PlanDiff:
    await _visible(uow, case_id, actor)
    before, after = await uow.plans.get(case_id, against), await uow.plans.get(case_id, version)
    if before is None or after is None:
        raise PlanNotFound(version=version if after is None else against)
    uow.audit.record(actor, AuditAction.VIEW, resource_type="plan", resource_id=after.id)
    return PlanDiff(
        from_version=against,
        to_version=version,
        changes=[PlanChange(pointer=p, before=b, after=a) for p, b, a in plan_diff(before.content, after.content)],
    )


async def read_closure(uow: CaseUnitOfWork, case_id: UUID, *, actor: Principal) -> CaseClosure | None:
    await _visible(uow, case_id, actor)
    uow.audit.record(actor, AuditAction.VIEW, resource_type="case_closure", resource_id=case_id)
    return await uow.closures.of_case(case_id)


async def write_note(
    uow: CaseUnitOfWork, case_id: UUID, command: WriteNote, *, actor: Principal, now: datetime
) -> CaseNote:
    case = await _writable(uow, case_id, actor)
    note = CaseNote(case_id=case.id, author=actor.subject, written_at=now, **command.model_dump())
    uow.notes.add(note)
    uow.audit.record(actor, AuditAction.CREATE, resource_type="case_note", resource_id=note.id)
    return note


def note_read(note: CaseNote, actor: Principal) -> NoteRead:
    shown = not note.is_confidential or Scope.CASES_SENSITIVE_READ in actor.scopes
    return NoteRead(
        id=note.id,
        case_id=note.case_id,
        body=note.body if shown else None,
        is_confidential=note.is_confidential,
        author=note.author,
        written_at=note.written_at,
    )


async def list_notes(
    uow: CaseUnitOfWork, case_id: UUID, *, actor: Principal, after: tuple[datetime, UUID] | None, limit: int
) -> list[NoteRead]:
    await _visible(uow, case_id, actor)
    uow.audit.record(actor, AuditAction.LIST, resource_type="case_note", resource_id=case_id)
    return [note_read(n, actor) for n in await uow.notes.page(case_id, after=after, limit=limit)]
