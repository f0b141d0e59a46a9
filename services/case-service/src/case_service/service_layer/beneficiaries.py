from datetime import datetime
from uuid import UUID

from case_service.domain.errors import BeneficiaryNotFound, BirthDateInFuture
from case_service.domain.models import Beneficiary, is_minor
from case_service.domain.transfers import owner_projection
from case_service.schemas import BeneficiaryRead, RegisterBeneficiary
from case_service.service_layer.access import many_case_facts, refuse_forbidden_purpose
from case_service.service_layer.projection import audit_read, beneficiary_read
from case_service.unit_of_work import CaseUnitOfWork
from casebridge_common.access import CaseFacts, Projection, Purpose, project
from casebridge_common.audit import AuditAction
from casebridge_common.auth import Principal
from casebridge_common.events.contracts.case import BeneficiaryRegistered


def register_beneficiary(
    uow: CaseUnitOfWork, command: RegisterBeneficiary, *, actor: Principal, now: datetime
) -> Beneficiary:
    """Emits `beneficiary.registered` (ids only)."""
    if command.born_on > now.date():
        raise BirthDateInFuture(pointer="#/born_on")
    assert actor.office_id is not None  # noqa: S101 - the router requires an office claim
    beneficiary = Beneficiary(
        **command.model_dump(),
        registering_office_id=actor.office_id,
        registering_organisation_id=actor.organisation_id,
        registered_at=now,
    )
    uow.beneficiaries.add(beneficiary)
    uow.outbox.emit(
        BeneficiaryRegistered(beneficiary_id=beneficiary.id, registering_office_id=actor.office_id, registered_at=now)
    )
    uow.audit.record(
        actor,
        AuditAction.CREATE,
        resource_type="beneficiary",
        resource_id=beneficiary.id,
        categories=["identity_biodata"],
    )
    return beneficiary


async def read_beneficiary(
    uow: CaseUnitOfWork, beneficiary_id: UUID, *, actor: Principal, purpose: Purpose, now: datetime
) -> BeneficiaryRead:
    """The beneficiary as the caller may see them. The registering office sees its own record; anyone else
    through a case of theirs they may see, so the categories are the union of what those cases allow.
    Nobody else learns that the beneficiary exists (404)."""
    refuse_forbidden_purpose(uow, actor, purpose, resource_type="beneficiary")
    beneficiary = await uow.beneficiaries.get(beneficiary_id)
    projections: list[Projection] = []
    if beneficiary is not None:
        cases = await uow.cases.of_beneficiary(beneficiary.id)
        handovers = await uow.transfers.accepted_of(c.id for c in cases)
        facts = list((await many_case_facts(uow, cases, now=now)).values())
        if actor.office_id == beneficiary.registering_office_id:
            facts.append(
                CaseFacts(
                    case_id=beneficiary.id,
                    owner_office_id=beneficiary.registering_office_id,
                    subject_is_minor=is_minor(beneficiary.born_on, now.date()),
                    consents=await uow.consents.facts_of(beneficiary.id),
                )
            )
        projections = [
            owner_projection(p, f, reader_office_id=actor.office_id, transfers=handovers.get(f.case_id, []))
            for f in facts
            if (p := project(actor, f, purpose, now=now)).visible
        ]
    if beneficiary is None or not projections:
        uow.audit.record(
            actor,
            AuditAction.VIEW,
            resource_type="beneficiary",
            resource_id=beneficiary_id,
            purpose=purpose,
            outcome="denied",
        )
        raise BeneficiaryNotFound(beneficiary_id=beneficiary_id)
    allowed = {c: d for p in projections for c, d in p.allowed.items()}
    merged = Projection(
        visible=True,
        allowed=allowed,
        withheld={c: d for p in projections for c, d in p.withheld.items() if c not in allowed},
    )
    read, view = beneficiary_read(beneficiary, merged)
    audit_read(
        uow,
        actor,
        AuditAction.VIEW,
        resource_type="beneficiary",
        resource_id=beneficiary.id,
        case_id=None,
        projection=merged,
        purpose=purpose,
        returned=set(view.returned),
    )
    return read
