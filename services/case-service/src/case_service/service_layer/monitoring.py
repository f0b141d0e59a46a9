"""The pseudonymous monitoring feed (`casebridge.case.monitoring_profile.v1`) for M&E consumers."""

from datetime import datetime
from uuid import UUID

from case_service.domain.models import Case, is_minor
from case_service.domain.monitoring import monitoring_profile
from case_service.unit_of_work import CaseUnitOfWork

OPENING_VERSION = 0


async def emit_profile(uow: CaseUnitOfWork, case: Case, *, now: datetime, opened: bool = False) -> None:
    """Emit the case's monitoring profile as it stands in this transaction. Call it last in a use case that may
    change a profiled fact: it takes the case's profile lock until commit. `opened`: the case was created in
    this transaction, so no other transaction can profile it before this one commits and it has no plan yet:
    its first profile is version 0, below any version a later profile draws (no lock, no sequence)."""
    version = OPENING_VERSION if opened else await uow.monitoring.next_version(case.id)
    beneficiary = await uow.beneficiaries.get(case.beneficiary_id)
    if beneficiary is None:
        return
    uow.outbox.emit(
        monitoring_profile(
            case,
            beneficiary,
            await uow.consents.facts_of(beneficiary.id),
            subject_is_minor=is_minor(beneficiary.born_on, now.date()),
            first_plan_approved_at=None if opened else await uow.monitoring.first_plan_approval(case.id),
            version=version,
            now=now,
        )
    )


async def emit_profiles_of(uow: CaseUnitOfWork, beneficiary_id: UUID, *, now: datetime) -> None:
    """:func:`emit_profile` for every case of the beneficiary (a consent or a personal fact changed). The
    beneficiary is locked first, as `open_case` locks it: a case opened concurrently is either listed here or
    profiled after this transaction's consents are visible to it."""
    await uow.beneficiaries.lock(beneficiary_id)
    for case in sorted(await uow.cases.of_beneficiary(beneficiary_id), key=lambda c: c.id):
        await emit_profile(uow, case, now=now)
