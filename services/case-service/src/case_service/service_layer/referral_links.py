"""The case-side record of referral-service's referrals: who is the destination of an open referral."""

from datetime import datetime

from case_service.domain.sharing import CaseReferralLink
from case_service.unit_of_work import CaseUnitOfWork
from casebridge_common.events.contracts.referral import ReferralEvent


async def record_referral_link(uow: CaseUnitOfWork, referral: ReferralEvent, *, active: bool, at: datetime) -> None:
    """Upsert the link; an event older than the one the link holds (by `referral_version`) changes nothing,
    so redelivered or reordered events cannot reopen a closed referral. A referral of a case this service does
    not hold is ignored."""
    if await uow.cases.get(referral.case_id) is None:
        return
    await uow.referral_links.upsert(
        CaseReferralLink(
            referral_id=referral.referral_id,
            case_id=referral.case_id,
            destination_organisation_id=referral.destination_organisation_id,
            destination_office_id=referral.destination_office_id,
            active=active,
            referral_version=referral.referral_version,
            updated_at=at,
        )
    )
