"""The beneficiary's printable copy of a plan version (reintegration.md §8.2: the returnee always holds an
up-to-date copy), rendered from a sandboxed, autoescaping template: every value of the plan is escaped."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from jinja2 import PackageLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from case_service.domain.errors import AccessDenied, PlanNotFound
from case_service.domain.plan_copy import CopyLanguage, PlanCopy, PlanFacts, build_copy, choose_language
from case_service.service_layer.access import visible_case
from case_service.service_layer.projection import audit_read
from case_service.unit_of_work import CaseUnitOfWork
from casebridge_common.access import DataCategory, Purpose
from casebridge_common.audit import AuditAction
from casebridge_common.auth import Principal

# Sandboxed although the template ships with the service: the values come from case workers and beneficiaries,
# and the sandbox with autoescaping keeps any of them from becoming markup or reaching Python attributes.
_templates = SandboxedEnvironment(
    loader=PackageLoader("case_service", "templates"), autoescape=True, undefined=StrictUndefined
)


@dataclass(frozen=True, slots=True)
class RenderedCopy:
    html: str
    language: CopyLanguage
    fell_back: bool


def render(copy: PlanCopy) -> str:
    return _templates.get_template("plan_copy.html").render(copy=copy)


async def beneficiary_copy(
    uow: CaseUnitOfWork,
    case_id: UUID,
    version: int,
    *,
    language: str | None,
    actor: Principal,
    purpose: Purpose,
    now: datetime,
) -> RenderedCopy:
    """Needs `reintegration_plan` (else 403 `access-denied`); the name needs `identity_biodata`, the grant's
    amounts `financial_payments` and the baseline scores `scores`, and are printed as not shown otherwise.
    Without `language`, the first of the beneficiary's languages with a translation is used. Audited as an
    export of what the copy shows."""
    case, _, projection = await visible_case(uow, case_id, actor=actor, purpose=purpose, now=now, resource_type="plan")
    if DataCategory.REINTEGRATION_PLAN not in projection.allowed:
        refused = projection.withheld[DataCategory.REINTEGRATION_PLAN]
        uow.audit.record(
            actor,
            AuditAction.EXPORT,
            resource_type="plan",
            resource_id=case.id,
            case_id=case.id,
            categories=[DataCategory.REINTEGRATION_PLAN],
            purpose=purpose,
            decision=refused,
        )
        raise AccessDenied(
            f"The policy withholds the plan from you: {refused.reason}.",
            reason=refused.reason,
            category=DataCategory.REINTEGRATION_PLAN,
        )
    plan = await uow.plans.get(case.id, version)
    if plan is None:
        raise PlanNotFound(version=version)
    shown = {DataCategory.REINTEGRATION_PLAN}
    beneficiary = (
        await uow.beneficiaries.get(case.beneficiary_id)
        if DataCategory.IDENTITY_BIODATA in projection.allowed
        else None
    )
    if beneficiary is not None:
        shown.add(DataCategory.IDENTITY_BIODATA)
    chosen, fell_back = choose_language(language, beneficiary.languages if beneficiary is not None else ())
    facts = PlanFacts(
        programme=case.programme,
        case_id=str(case.id),
        plan_version=plan.version,
        plan_status=plan.status.value,
        content=plan.content,
        beneficiary_name=None if beneficiary is None else f"{beneficiary.given_name} {beneficiary.family_name}",
        show_financial=DataCategory.FINANCIAL_PAYMENTS in projection.allowed,
        show_scores=DataCategory.SCORES in projection.allowed,
    )
    if facts.show_financial:
        shown.add(DataCategory.FINANCIAL_PAYMENTS)
    if facts.show_scores:
        shown.add(DataCategory.SCORES)
    html = render(build_copy(facts, chosen, fell_back=fell_back))
    audit_read(
        uow,
        actor,
        AuditAction.EXPORT,
        resource_type="plan",
        resource_id=plan.id,
        case_id=case.id,
        projection=projection,
        purpose=purpose,
        returned=shown,
    )
    return RenderedCopy(html=html, language=chosen, fell_back=fell_back)
