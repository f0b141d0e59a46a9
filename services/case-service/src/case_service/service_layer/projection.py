"""Records of the case file as one reader may see them: every field passes through the category table of
`domain/disclosure.py` and the policy's projection, and every read is audited with what it returned."""

from collections.abc import Iterable, Mapping
from uuid import UUID

from case_service.domain.assessments import Assessment, CaseClosure, CaseNote, Plan, grant_total
from case_service.domain.assistance import AssistanceItem, tranches_of, version_of
from case_service.domain.disclosure import ASSESSMENT_SECTION, Redacted, Section, redact
from case_service.domain.models import Beneficiary, Case
from case_service.schemas import (
    AssessmentRead,
    AssistanceRead,
    BeneficiaryRead,
    CaseRead,
    ClosureRead,
    NoteRead,
    PlanItemLink,
    PlanRead,
    TrancheRead,
)
from case_service.schemas.access import Withheld
from case_service.unit_of_work import CaseUnitOfWork
from casebridge_common.access import DataCategory, Decision, Projection, Purpose
from casebridge_common.audit import AuditAction
from casebridge_common.auth import Principal


def withheld(projection: Projection, categories: Iterable[DataCategory]) -> list[Withheld]:
    return [
        Withheld(category=c, reason=projection.withheld[c].reason)
        for c in sorted(set(categories))
        if c in projection.withheld
    ]


def _view(section: Section, data: Mapping[str, object], projection: Projection, **kw: bool) -> Redacted:
    return redact(section, data, projection.allowed.keys(), **kw)


def case_read(case: Case, projection: Projection) -> tuple[CaseRead, Redacted]:
    view = _view(Section.CASE, CaseRead.model_validate(case).model_dump(exclude={"withheld"}), projection)
    return CaseRead.model_validate(view.data | {"withheld": withheld(projection, view.withheld)}), view


def beneficiary_read(beneficiary: Beneficiary, projection: Projection) -> tuple[BeneficiaryRead, Redacted]:
    full = BeneficiaryRead.model_validate(beneficiary).model_dump(exclude={"withheld"})
    view = _view(Section.BENEFICIARY, full, projection)
    return BeneficiaryRead.model_validate(view.data | {"withheld": withheld(projection, view.withheld)}), view


def assessment_read(assessment: Assessment, projection: Projection) -> tuple[AssessmentRead, Redacted]:
    view = _view(ASSESSMENT_SECTION[assessment.kind], assessment.data, projection)
    return (
        AssessmentRead(
            id=assessment.id,
            case_id=assessment.case_id,
            kind=assessment.kind,
            version=assessment.version,
            is_sensitive=assessment.is_sensitive,
            data=view.data or None,
            erased=assessment.is_erased,
            recorded_by=assessment.recorded_by,
            recorded_at=assessment.recorded_at,
            withheld=withheld(projection, view.withheld),
        ),
        view,
    )


def plan_read(plan: Plan, projection: Projection) -> tuple[PlanRead, Redacted]:
    lines = plan.content.get("grant_lines") or []
    assert isinstance(lines, list)  # noqa: S101 - written from PlanContent
    full: dict[str, object] = {
        "id": plan.id,
        "case_id": plan.case_id,
        "version": plan.version,
        "status": plan.status,
        "drafted_in": plan.drafted_in,
        "content": plan.content,
        "grant_total": grant_total([float(line["estimated_cost"]) for line in lines]),
        "drafted_by": plan.drafted_by,
        "drafted_at": plan.drafted_at,
        "approved_by": plan.approved_by,
        "approved_at": plan.approved_at,
    }
    view = _view(Section.PLAN, full, projection)
    return PlanRead.model_validate(view.data | {"withheld": withheld(projection, view.withheld)}), view


def assistance_read(item: AssistanceItem, projection: Projection) -> tuple[AssistanceRead, Redacted]:
    full: dict[str, object] = {
        "id": item.id,
        "case_id": item.case_id,
        "assistance_type": item.assistance_type,
        "dimension": item.dimension,
        "modality": item.modality,
        "amount": item.amount,
        "currency": item.currency,
        "provider": item.provider,
        "plan_item": None
        if item.plan_version is None or item.plan_item is None
        else PlanItemLink(plan_version=item.plan_version, item=item.plan_item),
        "status": item.status,
        "tranches": [
            TrancheRead(number=t.number, amount=t.amount, due_on=t.due_on, delivered_on=t.delivered_on)
            for t in tranches_of(item)
        ],
        "created_at": item.created_at,
        "version": version_of(item),
    }
    view = _view(Section.ASSISTANCE, full, projection)
    return AssistanceRead.model_validate(view.data | {"withheld": withheld(projection, view.withheld)}), view


def note_read(note: CaseNote, projection: Projection) -> tuple[NoteRead, Redacted]:
    full: dict[str, object] = {
        "id": note.id,
        "case_id": note.case_id,
        "body": None if note.is_erased else note.body,
        "is_confidential": note.is_confidential,
        "author": note.author,
        "written_at": note.written_at,
    }
    view = _view(Section.NOTE, full, projection, confidential=note.is_confidential)
    extra = {"withheld": withheld(projection, view.withheld), "erased": note.is_erased}
    return NoteRead.model_validate(view.data | extra), view


def closure_read(closure: CaseClosure, projection: Projection) -> tuple[ClosureRead, Redacted]:
    full = ClosureRead.model_validate(closure).model_dump(exclude={"withheld"})
    view = _view(Section.CLOSURE, full, projection)
    return ClosureRead.model_validate(view.data | {"withheld": withheld(projection, view.withheld)}), view


def returned_and_withheld(views: Iterable[Redacted]) -> tuple[set[DataCategory], set[DataCategory]]:
    returned: set[DataCategory] = set()
    kept_back: set[DataCategory] = set()
    for view in views:
        returned |= view.returned
        kept_back |= view.withheld
    return returned, kept_back


def _basis(projection: Projection, returned: set[DataCategory]) -> Decision | None:
    """The decision that let the read happen: the first returned category's (ownership, a share's or
    referral's consent, a break-glass grant)."""
    decisions = [projection.allowed[c] for c in sorted(returned) if c in projection.allowed]
    if decisions:
        return decisions[0]
    return next(iter(projection.allowed.values()), None)


def audit_read(
    uow: CaseUnitOfWork,
    actor: Principal,
    action: AuditAction,
    *,
    resource_type: str,
    resource_id: UUID | None,
    case_id: UUID | None,
    projection: Projection,
    purpose: Purpose,
    returned: set[DataCategory],
) -> None:
    """One entry per read: the categories returned, the purpose, and the policy's reason and basis."""
    decision = _basis(projection, returned)
    uow.audit.record(
        actor,
        action,
        resource_type=resource_type,
        resource_id=resource_id,
        case_id=case_id,
        categories=sorted(returned),
        purpose=purpose,
        reason=decision.reason if decision is not None else "owner",
        basis=decision.basis if decision is not None else None,
    )
