"""What referral-service does when a case changes hands, closes or is erased, and how it loads a case's
access facts. Each function runs inside the caller's unit of work and never commits."""

from datetime import datetime

from casebridge_common.access import CaseFacts
from casebridge_common.audit import AuditAction
from casebridge_common.auth import Principal
from casebridge_common.events.contracts.case import BeneficiaryErased, CaseClosed, CaseOpened, CaseTransferred
from referral_service.domain.lifecycle import TERMINAL
from referral_service.domain.models import CaseProjection
from referral_service.domain.snapshot import PURPOSE, erased
from referral_service.unit_of_work import ReferralUnitOfWork

RESOURCE = "referral"
# Effects of events are the service's own doing: the audit names it as the actor.
SERVICE_ACTOR = Principal(
    subject="referral-service",
    client_id="referral-service",
    organisation_id=None,
    office_id=None,
    country=None,
    scopes=frozenset(),
    roles=frozenset(),
)


async def case_facts(uow: ReferralUnitOfWork, case: CaseProjection) -> CaseFacts:
    """The access policy's view of a case as far as referral-service knows it: its owner, whether the
    beneficiary is a minor, and the beneficiary's consents (shares and break-glass grants do not matter for a
    disclosure, which only the owner makes)."""
    consents = await uow.consents.of_beneficiary(case.beneficiary_id) if case.beneficiary_id is not None else []
    return CaseFacts(
        case_id=case.case_id,
        owner_office_id=case.owner_office_id,
        subject_is_minor=case.subject_is_minor,
        consents=tuple(c.to_facts() for c in consents),
    )


async def project_opened_case(uow: ReferralUnitOfWork, opened: CaseOpened) -> None:
    await uow.cases.upsert_if_newer(
        CaseProjection(
            case_id=opened.case_id,
            case_version=opened.case_version,
            programme=opened.programme,
            owner_office_id=opened.owner_office_id,
            owner_organisation_id=opened.owner_organisation_id,
            opened_at=opened.opened_at,
            beneficiary_id=opened.beneficiary_id,
            subject_is_minor=opened.subject_is_minor,
        )
    )


async def flag_case_closed(uow: ReferralUnitOfWork, closed: CaseClosed, *, now: datetime) -> int:
    """The case's referrals that are still under way are flagged, not cancelled: the provider may still be
    delivering, and the handbook wants referrals at closure to end in a warm handover. Returns how many."""
    referrals = await uow.referrals.of_cases([closed.case_id])  # referrals before the case, as a send locks them
    case = await uow.cases.get(closed.case_id, for_update=True)
    if case is None:
        return 0
    if case.closed_at is None:
        case.closed_at = closed.closed_at
    flagged = 0
    for referral in referrals:
        if referral.status in TERMINAL or referral.case_closed_at is not None:
            continue
        referral.case_closed_at = closed.closed_at
        referral.version += 1
        referral.updated_at = now
        flagged += 1
    return flagged


async def follow_transfer(uow: ReferralUnitOfWork, transferred: CaseTransferred, *, now: datetime) -> int:
    """Ownership of the case's referrals moves to the receiving office: it sees and works them from now on,
    and the sending office loses them (a 404, like any referral it never made). Returns how many moved."""
    referrals = await uow.referrals.of_cases([transferred.case_id])  # referrals before the case, as a send does
    case = await uow.cases.get(transferred.case_id, for_update=True)
    if case is None or case.case_version >= transferred.case_version:
        return 0  # unknown, or a redelivery older than what the projection holds
    case.case_version = transferred.case_version
    case.owner_office_id = transferred.to_office_id
    case.owner_organisation_id = transferred.to_organisation_id
    office = await uow.directory.office(transferred.to_office_id)
    moved = 0
    for referral in referrals:
        if referral.referring_office_id == transferred.to_office_id:
            continue
        referral.referring_office_id = transferred.to_office_id
        referral.referring_organisation_id = transferred.to_organisation_id
        referral.referring_country = office.country if office is not None else None
        referral.version += 1
        referral.updated_at = now
        moved += 1
    return moved


async def erase_beneficiary(uow: ReferralUnitOfWork, erasure: BeneficiaryErased, *, now: datetime) -> int:
    """Purge what referral-service keeps about the beneficiary: the snapshots and free texts of their
    referrals, the details of the disclosure ledger (to whom and when stay, as the audit trace), and their
    consents. Returns how many referrals were purged."""
    case_ids = sorted(set(erasure.case_ids) | set(await uow.cases.of_beneficiary(erasure.beneficiary_id)))
    purged = 0
    for referral in await uow.referrals.of_cases(case_ids):
        if referral.erased_at is not None:
            continue
        referral.snapshot = erased(referral.snapshot, now=now)
        referral.reason = ""
        referral.decline_note = referral.cancel_reason = None
        referral.outcome_summary = referral.feedback = None
        referral.erased_at = now
        referral.version += 1
        referral.updated_at = now
        uow.audit.record(
            SERVICE_ACTOR,
            AuditAction.ERASE,
            resource_type=RESOURCE,
            resource_id=referral.id,
            case_id=referral.case_id,
            purpose=PURPOSE,
            reason="beneficiary-erased",
        )
        purged += 1
    await uow.disclosures.erase(case_ids, now=now)
    await uow.consents.purge(erasure.beneficiary_id)
    return purged
