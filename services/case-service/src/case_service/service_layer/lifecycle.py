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
    next_version,
    plan_diff,
)
from case_service.domain.disclosure import ASSESSMENT_SECTION, ASSESSMENT_WRITE_CATEGORY, Section, categories_of
from case_service.domain.errors import (
    CaseNotActive,
    ClosureNotFound,
    DateInFuture,
    GuardFailed,
    PlanNotApprovable,
    PlanNotFound,
    SupervisorRoleRequired,
)
from case_service.domain.models import Case, is_minor
from case_service.domain.monitoring import ARRIVAL_STAGE
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
    BestInterestsDetermination,
    ChangeStage,
    ClosureRead,
    DraftPlan,
    NoteRead,
    PlanChange,
    PlanDiff,
    PlanRead,
    RecordAssessment,
    WriteNote,
)
from case_service.schemas.access import Withheld
from case_service.service_layer import follow_ups, monitoring
from case_service.service_layer.access import reader_projection, visible_case, writable_case_and_facts
from case_service.service_layer.projection import (
    assessment_read,
    audit_read,
    closure_read,
    note_read,
    plan_read,
    returned_and_withheld,
    withheld,
)
from case_service.unit_of_work import CaseUnitOfWork
from casebridge_common.access import DataCategory, Projection, Purpose
from casebridge_common.audit import AuditAction
from casebridge_common.auth import Principal
from casebridge_common.events.contracts.case import (
    CaseAssessmentRecorded,
    CaseClosed,
    CasePlanApproved,
    CaseStageChanged,
)
from casebridge_common.http import require_if_match

SUPERVISOR_ROLE = "supervisor"


async def _visible(
    uow: CaseUnitOfWork, case_id: UUID, actor: Principal, *, purpose: Purpose, now: datetime, resource_type: str
) -> tuple[Case, Projection]:
    case, _, projection = await visible_case(
        uow, case_id, actor=actor, purpose=purpose, now=now, resource_type=resource_type
    )
    return case, projection


async def _writable(
    uow: CaseUnitOfWork,
    case_id: UUID,
    category: DataCategory,
    actor: Principal,
    *,
    now: datetime,
    owner_only: bool = False,
) -> tuple[Case, Projection]:
    """The locked case, and the writer's own view of it for the answer."""
    case, facts, _ = await writable_case_and_facts(uow, case_id, category, actor=actor, now=now, owner_only=owner_only)
    return case, await reader_projection(uow, actor, facts, Purpose.CASE_MANAGEMENT, now=now)


async def _facts(uow: CaseUnitOfWork, case: Case, command: ChangeStage, *, now: datetime) -> CaseFacts:
    latest = await uow.assessments.latest_by_kind(case.id)
    beneficiary = await uow.beneficiaries.get(case.beneficiary_id)
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
        mode_of_return=case.mode_of_return,
        pec_passed_ago=None if case.pec_passed_at is None else now - case.pec_passed_at,
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
    """Move a case or one of its sub-tracks after the guards pass. Emits `case.stage_changed` (and `case.closed`).
    Closing is for the owner office only; an `edit` share may move the other stages."""
    closing = command.to_stage is not None and command.to_stage in set(CLOSURE_STAGE.values())
    if command.closure is not None:  # an exit interview dated ahead is not an exit review held
        DateInFuture.check(command.closure.exit_interview_on, today=now.date(), pointer="#/closure/exit_interview_on")
    case, _ = await _writable(uow, case_id, DataCategory.REINTEGRATION_PLAN, actor, now=now, owner_only=closing)
    require_if_match(if_match, case.version)
    if command.track is not None and command.to_track_stage is not None:
        current = case.track(command.track)
        check_track_transition(case.programme, case.stage, command.track, current, command.to_track_stage)
        from_stage, to_stage = str(current), str(command.to_track_stage)
        case.move_track(command.track, command.to_track_stage, now=now)
    else:
        assert command.to_stage is not None  # noqa: S101 - ChangeStage validates one target
        facts = await _facts(uow, case, command, now=now)
        check_transition(facts, command.to_stage)
        from_stage, to_stage = str(case.stage), str(command.to_stage)
        if command.to_stage is ARRIVAL_STAGE:  # before the date of return is recorded: it keeps the published one
            await monitoring.defer_profile(uow, case, now=now)
        _enter(case, command, now=now)
        await follow_ups.on_stage_entered(uow, case, actor=actor, now=now)
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
    uow.audit.record(
        actor,
        AuditAction.UPDATE,
        resource_type="case",
        resource_id=case.id,
        case_id=case.id,
        categories=[DataCategory.REINTEGRATION_PLAN],
    )
    return case


def _enter(case: Case, command: ChangeStage, *, now: datetime) -> None:
    assert command.to_stage is not None  # noqa: S101
    if command.to_stage is Stage.ON_HOLD:
        case.held_from_stage, case.hold_reason = case.stage, command.reason
    elif case.stage is Stage.ON_HOLD:
        case.held_from_stage, case.hold_reason = None, None
    case.stage, case.stage_changed_at = command.to_stage, now
    if command.to_stage is ARRIVAL_STAGE and case.returned_on is None:
        case.returned_on = now.date()  # the date of return, unless recorded before; kept in later stages


async def record_assessment(
    uow: CaseUnitOfWork, case_id: UUID, command: RecordAssessment, *, actor: Principal, now: datetime
) -> AssessmentRead:
    """A new version of one kind of assessment; earlier versions stay. Emits `case.assessment_recorded`.
    The answer shows the writer what they may read back of it."""
    category = ASSESSMENT_WRITE_CATEGORY[command.kind]
    if isinstance(command, BestInterestsDetermination):  # a determination dated ahead is not one made
        DateInFuture.check(command.determined_on, today=now.date(), pointer="#/determined_on")
    case, projection = await _writable(uow, case_id, category, actor, now=now)
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
    await uow.assessments.add(assessment)
    if command.kind is AssessmentKind.VULNERABILITY_SCREENING:
        case.vulnerability_categories = list(data["categories"])
        case.version += 1
        await follow_ups.on_screening_recorded(uow, case, actor=actor, now=now)
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
        case_id=case.id,
        categories=sorted({category} | {c for f, v in data.items() for c in categories_of(_section(assessment), f, v)}),
    )
    return assessment_read(assessment, projection)[0]


def _section(assessment: Assessment) -> Section:
    return ASSESSMENT_SECTION[assessment.kind]


async def assessment_history(
    uow: CaseUnitOfWork,
    case_id: UUID,
    kind: AssessmentKind | None,
    *,
    actor: Principal,
    purpose: Purpose,
    now: datetime,
    after: tuple[AssessmentKind, int] | None,
    limit: int,
) -> tuple[list[AssessmentRead], list[Withheld]]:
    """Up to limit + 1 assessments by kind, newest version first within a kind, as the caller may see them."""
    case, projection = await _visible(uow, case_id, actor, purpose=purpose, now=now, resource_type="assessment")
    found = await uow.assessments.page(case.id, kind, after=after, limit=limit)
    reads = [assessment_read(a, projection) for a in found]
    returned, kept_back = returned_and_withheld(view for _, view in reads[:limit])  # not the next page's row
    audit_read(
        uow,
        actor,
        AuditAction.LIST,
        resource_type="assessment",
        resource_id=case.id,
        case_id=case.id,
        projection=projection,
        purpose=purpose,
        returned=returned,
    )
    return [r for r, _ in reads], withheld(projection, kept_back)


async def draft_plan(
    uow: CaseUnitOfWork, case_id: UUID, command: DraftPlan, *, actor: Principal, now: datetime
) -> PlanRead:
    """A new plan version as a draft; it supersedes the approved one only once it is approved itself. The
    day it was done and its signatures are not dated ahead (a signature ahead is not one given)."""
    content, today = command.content, now.date()
    DateInFuture.check(content.done_on, today=today, pointer="#/content/done_on")
    for name, signature in (
        ("returnee_signature", content.returnee_signature),
        ("staff_or_partner_signature", content.staff_or_partner_signature),
    ):
        if signature is not None:
            DateInFuture.check(signature.signed_on, today=today, pointer=f"#/content/{name}/signed_on")
    case, projection = await _writable(uow, case_id, DataCategory.REINTEGRATION_PLAN, actor, now=now)
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
    uow.audit.record(
        actor,
        AuditAction.CREATE,
        resource_type="plan",
        resource_id=plan.id,
        case_id=case.id,
        categories=[DataCategory.REINTEGRATION_PLAN],
    )
    return plan_read(plan, projection)[0]


async def approve_plan(
    uow: CaseUnitOfWork, case_id: UUID, version: int, *, actor: Principal, now: datetime
) -> PlanRead:
    """A supervisor approves the latest draft; any earlier version becomes superseded. Emits `case.plan_approved`."""
    case, projection = await _writable(uow, case_id, DataCategory.REINTEGRATION_PLAN, actor, now=now)
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
    uow.audit.record(
        actor,
        AuditAction.UPDATE,
        resource_type="plan",
        resource_id=plan.id,
        case_id=case.id,
        categories=[DataCategory.REINTEGRATION_PLAN],
    )
    await monitoring.defer_profile(uow, case, now=now)
    return plan_read(plan, projection)[0]


async def list_plans(
    uow: CaseUnitOfWork,
    case_id: UUID,
    *,
    actor: Principal,
    purpose: Purpose,
    now: datetime,
    below_version: int | None,
    limit: int,
) -> tuple[list[PlanRead], list[Withheld]]:
    """Up to limit + 1 plan versions, newest first, as the caller may see them."""
    case, projection = await _visible(uow, case_id, actor, purpose=purpose, now=now, resource_type="plan")
    found = await uow.plans.page(case.id, below_version=below_version, limit=limit)
    reads = [plan_read(p, projection) for p in found]
    returned, kept_back = returned_and_withheld(view for _, view in reads[:limit])  # not the next page's row
    audit_read(
        uow,
        actor,
        AuditAction.LIST,
        resource_type="plan",
        resource_id=case.id,
        case_id=case.id,
        projection=projection,
        purpose=purpose,
        returned=returned,
    )
    return [r for r, _ in reads], withheld(projection, kept_back)


async def read_plan(
    uow: CaseUnitOfWork, case_id: UUID, version: int, *, actor: Principal, purpose: Purpose, now: datetime
) -> PlanRead:
    case, projection = await _visible(uow, case_id, actor, purpose=purpose, now=now, resource_type="plan")
    plan = await uow.plans.get(case.id, version)
    if plan is None:
        raise PlanNotFound(version=version)
    read, view = plan_read(plan, projection)
    audit_read(
        uow,
        actor,
        AuditAction.VIEW,
        resource_type="plan",
        resource_id=plan.id,
        case_id=case.id,
        projection=projection,
        purpose=purpose,
        returned=set(view.returned),
    )
    return read


async def diff_plans(
    uow: CaseUnitOfWork,
    case_id: UUID,
    version: int,
    against: int,
    *,
    actor: Principal,
    purpose: Purpose,
    now: datetime,
) -> PlanDiff:
    """The changes, only when the caller may see the plan's content (`reintegration_plan`)."""
    case, projection = await _visible(uow, case_id, actor, purpose=purpose, now=now, resource_type="plan")
    before, after = await uow.plans.get(case.id, against), await uow.plans.get(case.id, version)
    if before is None or after is None:
        raise PlanNotFound(version=version if after is None else against)
    shown = DataCategory.REINTEGRATION_PLAN in projection.allowed
    audit_read(
        uow,
        actor,
        AuditAction.VIEW,
        resource_type="plan",
        resource_id=after.id,
        case_id=case.id,
        projection=projection,
        purpose=purpose,
        returned={DataCategory.REINTEGRATION_PLAN} if shown else set(),
    )
    return PlanDiff(
        from_version=against,
        to_version=version,
        changes=[PlanChange(pointer=p, before=b, after=a) for p, b, a in plan_diff(before.content, after.content)]
        if shown
        else [],
        withheld=withheld(projection, [] if shown else [DataCategory.REINTEGRATION_PLAN]),
    )


async def read_closure(
    uow: CaseUnitOfWork, case_id: UUID, *, actor: Principal, purpose: Purpose, now: datetime
) -> ClosureRead:
    case, projection = await _visible(uow, case_id, actor, purpose=purpose, now=now, resource_type="case_closure")
    closure = await uow.closures.of_case(case.id)
    if closure is None:
        raise ClosureNotFound(case_id=case.id)
    read, view = closure_read(closure, projection)
    audit_read(
        uow,
        actor,
        AuditAction.VIEW,
        resource_type="case_closure",
        resource_id=case.id,
        case_id=case.id,
        projection=projection,
        purpose=purpose,
        returned=set(view.returned),
    )
    return read


async def write_note(
    uow: CaseUnitOfWork, case_id: UUID, command: WriteNote, *, actor: Principal, now: datetime
) -> NoteRead:
    case, projection = await _writable(uow, case_id, DataCategory.CASE_NOTES, actor, now=now)
    note = CaseNote(case_id=case.id, author=actor.subject, written_at=now, **command.model_dump())
    read, _ = note_read(note, projection)
    await uow.notes.add(note)
    uow.audit.record(
        actor,
        AuditAction.CREATE,
        resource_type="case_note",
        resource_id=note.id,
        case_id=case.id,
        categories=sorted(categories_of(Section.NOTE, "body", note.body, confidential=note.is_confidential)),
    )
    return read


async def list_notes(
    uow: CaseUnitOfWork,
    case_id: UUID,
    *,
    actor: Principal,
    purpose: Purpose,
    now: datetime,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> tuple[list[NoteRead], list[Withheld]]:
    case, projection = await _visible(uow, case_id, actor, purpose=purpose, now=now, resource_type="case_note")
    reads = [note_read(n, projection) for n in await uow.notes.page(case.id, after=after, limit=limit)]
    returned, kept_back = returned_and_withheld(view for _, view in reads[:limit])  # not the next page's row
    audit_read(
        uow,
        actor,
        AuditAction.LIST,
        resource_type="case_note",
        resource_id=case.id,
        case_id=case.id,
        projection=projection,
        purpose=purpose,
        returned=returned,
    )
    return [r for r, _ in reads], withheld(projection, kept_back)
