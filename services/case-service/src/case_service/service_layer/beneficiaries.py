from datetime import datetime
from uuid import UUID

from case_service.domain.errors import BeneficiaryNotFound, BirthDateInFuture
from case_service.domain.models import Beneficiary
from case_service.schemas import RegisterBeneficiary
from case_service.unit_of_work import CaseUnitOfWork
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


async def read_beneficiary(uow: CaseUnitOfWork, beneficiary_id: UUID, *, actor: Principal) -> Beneficiary:
    assert actor.office_id is not None  # noqa: S101
    beneficiary = await uow.beneficiaries.get_visible(beneficiary_id, office_id=actor.office_id)
    if beneficiary is None:
        raise BeneficiaryNotFound(beneficiary_id=beneficiary_id)
    uow.audit.record(
        actor,
        AuditAction.VIEW,
        resource_type="beneficiary",
        resource_id=beneficiary_id,
        categories=["identity_biodata"],
    )
    return beneficiary
