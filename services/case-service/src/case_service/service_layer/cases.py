from datetime import datetime
from uuid import UUID

from case_service.domain.errors import BeneficiaryNotFound, CaseNotFound
from case_service.domain.models import Case, open_case_for
from case_service.domain.stages import Stage
from case_service.schemas import OpenCase
from case_service.unit_of_work import CaseUnitOfWork
from casebridge_common.audit import AuditAction
from casebridge_common.auth import Principal
from casebridge_common.events.contracts.case import CaseOpened, Programme


async def open_case(uow: CaseUnitOfWork, command: OpenCase, *, actor: Principal, now: datetime) -> Case:
    """Open a case for a beneficiary the caller's office registered. Emits `case.opened`."""
    assert actor.office_id is not None  # noqa: S101 - the router requires an office claim
    beneficiary = await uow.beneficiaries.get_visible(command.beneficiary_id, office_id=actor.office_id)
    if beneficiary is None:
        raise BeneficiaryNotFound(pointer="#/beneficiary_id")
    case = open_case_for(
        beneficiary,
        programme=command.programme,
        office_id=actor.office_id,
        organisation_id=actor.organisation_id,
        assigned_worker=command.assigned_worker,
        now=now,
    )
    uow.cases.add(case)
    uow.outbox.emit(
        CaseOpened(
            case_id=case.id,
            case_version=case.version,
            beneficiary_id=case.beneficiary_id,
            programme=case.programme,
            owner_office_id=case.owner_office_id,
            owner_organisation_id=case.owner_organisation_id,
            opened_at=now,
        )
    )
    uow.audit.record(actor, AuditAction.CREATE, resource_type="case", resource_id=case.id)
    return case


async def read_case(uow: CaseUnitOfWork, case_id: UUID, *, actor: Principal) -> Case:
    assert actor.office_id is not None  # noqa: S101
    case = await uow.cases.get_visible(case_id, office_id=actor.office_id)
    if case is None:
        raise CaseNotFound(case_id=case_id)
    uow.audit.record(actor, AuditAction.VIEW, resource_type="case", resource_id=case_id)
    return case


async def list_cases(
    uow: CaseUnitOfWork,
    *,
    actor: Principal,
    programme: Programme | None,
    stage: Stage | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
    vulnerability: str | None = None,
    assigned_worker: str | None = None,
) -> list[Case]:
    assert actor.office_id is not None  # noqa: S101
    cases = await uow.cases.page_visible(
        office_id=actor.office_id,
        programme=programme,
        stage=stage,
        after=after,
        limit=limit,
        vulnerability=vulnerability,
        assigned_worker=assigned_worker,
    )
    uow.audit.record(actor, AuditAction.LIST, resource_type="case", resource_id=None)
    return cases
