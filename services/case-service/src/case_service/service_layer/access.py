"""Loading the facts the access policy decides on, and the policy's answers as case-service uses them.

Every read path asks :func:`visible_case` (404 when the policy says the case does not exist for the caller) and
projects what it returns with :func:`casebridge_common.access.project`; every write asks :func:`writable_case`.
"""

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from case_service.domain.errors import AccessDenied, CaseNotFound, PurposeForbidden
from case_service.domain.models import Beneficiary, Case, is_minor
from case_service.domain.sharing import BreakGlassGrant, CaseReferralLink, CaseShare
from case_service.domain.transfers import owner_projection
from case_service.unit_of_work import CaseUnitOfWork
from casebridge_common.access import (
    FORBIDDEN_PURPOSES,
    Action,
    CaseFacts,
    ConsentFacts,
    DataCategory,
    Decision,
    Projection,
    Purpose,
    Reason,
    decide,
    project,
)
from casebridge_common.audit import AuditAction
from casebridge_common.auth import Principal


def _facts(
    case: Case,
    *,
    minor: bool,
    consents: tuple[ConsentFacts, ...],
    shares: Sequence[CaseShare],
    links: Sequence[CaseReferralLink],
    grants: Sequence[BreakGlassGrant],
) -> CaseFacts:
    return CaseFacts(
        case_id=case.id,
        owner_office_id=case.owner_office_id,
        subject_is_minor=minor,
        consents=consents,
        shares=tuple(s.to_facts() for s in shares if s.case_id == case.id),
        referrals=tuple(r.to_facts() for r in links if r.case_id == case.id),
        break_glass=tuple(g.to_facts() for g in grants if g.case_id == case.id),
    )


async def case_facts(uow: CaseUnitOfWork, case: Case, *, now: datetime) -> CaseFacts:
    """Ownership, the beneficiary's consents (oldest first), active shares and referral links, unexpired
    break-glass grants, and whether the beneficiary is a minor today."""
    return (await many_case_facts(uow, [case], now=now))[case.id]


async def many_case_facts(uow: CaseUnitOfWork, cases: Sequence[Case], *, now: datetime) -> dict[UUID, CaseFacts]:
    """`case_facts` for a page of cases, with one query per kind of relation rather than per case."""
    if not cases:
        return {}
    ids = [c.id for c in cases]
    beneficiaries = await uow.beneficiaries.many(c.beneficiary_id for c in cases)
    consents = await uow.consents.facts_of_many(beneficiaries)
    shares = await uow.shares.active_of(ids, now)
    links = await uow.referral_links.active_of(ids)
    grants = await uow.break_glass.active_of(ids, now)
    return {
        c.id: _facts(
            c,
            minor=_minor(beneficiaries.get(c.beneficiary_id), now),
            consents=consents.get(c.beneficiary_id, ()),
            shares=shares,
            links=links,
            grants=grants,
        )
        for c in cases
    }


def _minor(beneficiary: Beneficiary | None, now: datetime) -> bool:
    return beneficiary is not None and is_minor(beneficiary.born_on, now.date())


def refuse_forbidden_purpose(uow: CaseUnitOfWork, actor: Principal, purpose: Purpose, *, resource_type: str) -> None:
    """R-M3: a forbidden purpose is refused before anything is looked up, so the answer says nothing about ids."""
    if purpose in FORBIDDEN_PURPOSES:
        uow.audit.record(
            actor, AuditAction.VIEW, resource_type=resource_type, resource_id=None, purpose=purpose, outcome="denied"
        )
        raise PurposeForbidden(purpose=purpose)


async def reader_projection(
    uow: CaseUnitOfWork,
    actor: Principal,
    facts: CaseFacts,
    purpose: Purpose,
    *,
    now: datetime,
    categories: Sequence[DataCategory] = tuple(DataCategory),
) -> Projection:
    """`project`, and for an owner that received the case by a cross-border handover, without what the
    handover did not bring (it stays on the case, out of the new owner's sight). Every read path uses this."""
    projection = project(actor, facts, purpose, now=now, categories=categories)
    if projection.visible and actor.office_id == facts.owner_office_id:
        handovers = await uow.transfers.of_case(facts.case_id)
        projection = owner_projection(projection, facts, reader_office_id=actor.office_id, transfers=handovers)
    return projection


async def visible_case(
    uow: CaseUnitOfWork,
    case_id: UUID,
    *,
    actor: Principal,
    purpose: Purpose,
    now: datetime,
    resource_type: str = "case",
    categories: Sequence[DataCategory] = tuple(DataCategory),
) -> tuple[Case, CaseFacts, Projection]:
    """The case with the caller's projection of it. A missing case and one the policy hides are the same
    404, and both leave a "denied" audit entry (probing shows in the audit log)."""
    refuse_forbidden_purpose(uow, actor, purpose, resource_type=resource_type)
    case = await uow.cases.get(case_id)
    if case is not None:
        facts = await case_facts(uow, case, now=now)
        projection = await reader_projection(uow, actor, facts, purpose, now=now, categories=categories)
        if projection.visible:
            return case, facts, projection
    uow.audit.record(
        actor,
        AuditAction.VIEW,
        resource_type=resource_type,
        resource_id=case_id,
        case_id=case_id if case is not None else None,
        purpose=purpose,
        outcome="denied",
        reason=Reason.NO_RELATION,
    )
    raise CaseNotFound(case_id=case_id)


async def writable_case(
    uow: CaseUnitOfWork,
    case_id: UUID,
    category: DataCategory,
    *,
    actor: Principal,
    now: datetime,
    owner_only: bool = False,
) -> tuple[Case, Decision]:
    """The case under a row lock, if the caller may change `category` of it: its owner office, or an office
    holding an active `edit` share whose consent covers the category (`owner_only`: the owner alone). A case
    the caller may not see is 404; visible but not writable is 403 `access-denied` with the policy's reason."""
    case, _, decision = await writable_case_and_facts(
        uow, case_id, category, actor=actor, now=now, owner_only=owner_only
    )
    return case, decision


async def writable_case_and_facts(
    uow: CaseUnitOfWork,
    case_id: UUID,
    category: DataCategory,
    *,
    actor: Principal,
    now: datetime,
    owner_only: bool = False,
    lock: bool = True,
) -> tuple[Case, CaseFacts, Decision]:
    """:func:`writable_case`, with the facts it decided on (to project the answer for the writer); `lock=False`
    for an owner-only read that changes nothing."""
    case = await uow.cases.get(case_id, for_update=lock)
    facts = None if case is None else await case_facts(uow, case, now=now)
    if case is None or facts is None:
        uow.audit.record(actor, AuditAction.UPDATE, resource_type="case", resource_id=case_id, outcome="denied")
        raise CaseNotFound(case_id=case_id)
    if actor.office_id is not None and actor.office_id == case.owner_office_id:
        return case, facts, Decision(True, Reason.OWNER, case.owner_office_id)
    if not project(actor, facts, Purpose.CASE_MANAGEMENT, now=now).visible:
        uow.audit.record(
            actor, AuditAction.UPDATE, resource_type="case", resource_id=case_id, case_id=case_id, outcome="denied"
        )
        raise CaseNotFound(case_id=case_id)
    decision = (
        Decision(False, Reason.NOT_OWNER)
        if owner_only
        else decide(actor, facts, Action.EDIT, category, Purpose.CASE_MANAGEMENT, now=now)
    )
    if not decision.allowed:
        uow.audit.record(
            actor,
            AuditAction.UPDATE,
            resource_type="case",
            resource_id=case_id,
            case_id=case_id,
            categories=[category],
            decision=decision,
        )
        raise AccessDenied(
            f"The policy refuses this change: {decision.reason}.", reason=decision.reason, category=category
        )
    return case, facts, decision
