"""Suspending returns to a country and lifting the suspension (reintegration.md R46; the guard is in
service_layer/cases and repositories/openings)."""

from datetime import datetime
from uuid import UUID

from case_service.domain.errors import ReturnSuspensionExists, ReturnSuspensionNotFound, ReturnSuspensionRoleRequired
from case_service.domain.return_suspensions import ReturnSuspension
from case_service.schemas.return_suspensions import SuspendReturns
from case_service.service_layer.lifecycle import SUPERVISOR_ROLE
from case_service.unit_of_work import CaseUnitOfWork
from casebridge_common.access import Purpose
from casebridge_common.audit import AuditAction
from casebridge_common.auth import OfficeClaimRequired, Principal
from casebridge_common.events.contracts.case import ReturnsResumed, ReturnsSuspended


def _organisation_of(actor: Principal) -> str:
    """Suspensions are an organisation's: a supervisor of one of its offices sets and lifts them."""
    if SUPERVISOR_ROLE not in actor.roles:
        raise ReturnSuspensionRoleRequired()
    if actor.organisation_id is None or actor.office_id is None:
        raise OfficeClaimRequired()
    return actor.organisation_id


async def suspend_returns(
    uow: CaseUnitOfWork, command: SuspendReturns, *, actor: Principal, now: datetime
) -> ReturnSuspension:
    """Emits `casebridge.case.returns_suspended.v1`. 409 `return-suspension-exists` while the organisation's
    returns to the country are suspended already."""
    organisation_id = _organisation_of(actor)
    if current := await uow.return_suspensions.in_force(organisation_id=organisation_id, country=command.country):
        raise ReturnSuspensionExists(suspension_id=current.id, country=command.country)
    assert actor.office_id is not None  # noqa: S101 - checked above
    suspension = ReturnSuspension(
        organisation_id=organisation_id,
        country=command.country,
        reason=command.reason,
        suspended_by=actor.subject,
        suspended_by_office_id=actor.office_id,
        suspended_at=now,
    )
    if not await uow.return_suspensions.add(suspension):  # a concurrent suspension of the country came first
        raise ReturnSuspensionExists(country=command.country)
    uow.audit.record(
        actor, AuditAction.CREATE, resource_type="return_suspension", resource_id=suspension.id, purpose=Purpose.AUDIT
    )
    uow.outbox.emit(
        ReturnsSuspended(
            suspension_id=suspension.id,
            organisation_id=organisation_id,
            country=suspension.country,
            suspended_by_office_id=suspension.suspended_by_office_id,
            suspended_at=now,
        )
    )
    return suspension


async def lift_suspension(
    uow: CaseUnitOfWork, suspension_id: UUID, *, actor: Principal, now: datetime
) -> ReturnSuspension:
    """Emits `casebridge.case.returns_resumed.v1`. Lifting a lifted suspension changes nothing and answers the
    same."""
    organisation_id = _organisation_of(actor)
    suspension = await uow.return_suspensions.get(suspension_id, organisation_id=organisation_id, for_update=True)
    if suspension is None:
        raise ReturnSuspensionNotFound(suspension_id=suspension_id)
    if suspension.lifted_at is None:
        suspension.lifted_by, suspension.lifted_at = actor.subject, now
        uow.audit.record(
            actor,
            AuditAction.UPDATE,
            resource_type="return_suspension",
            resource_id=suspension.id,
            purpose=Purpose.AUDIT,
        )
        uow.outbox.emit(
            ReturnsResumed(
                suspension_id=suspension.id, organisation_id=organisation_id, country=suspension.country, lifted_at=now
            )
        )
    return suspension


async def list_suspensions(
    uow: CaseUnitOfWork,
    *,
    actor: Principal,
    country: str | None,
    in_force: bool | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[ReturnSuspension]:
    """The suspensions of the caller's organisation (any office of it may read them)."""
    if actor.organisation_id is None:
        raise OfficeClaimRequired()
    return await uow.return_suspensions.page(
        organisation_id=actor.organisation_id, country=country, in_force=in_force, after=after, limit=limit
    )
