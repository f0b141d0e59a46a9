"""Who may see a referral: its referring office (the case's owner, which alone may disclose it) and its
destination. What the destination may read of the case itself is the access policy's to decide. Pure."""

from referral_service.domain.lifecycle import ReferralStatus, Side


def relation_to(
    *,
    status: ReferralStatus,
    referring_office_id: str,
    destination_organisation_id: str,
    destination_office_id: str | None,
    caller_organisation_id: str | None,
    caller_office_id: str | None,
) -> Side | None:
    """SENDER, DESTINATION or None (the caller may not know the referral exists: 404).

    A destination organisation sees referrals addressed to it, to any of its services, and (through its
    organisation-level clients, which carry no office) to its offices; an office sees those addressed to it or
    to its organisation as a whole. The destination sees nothing while the referral is a draft.
    """
    if caller_office_id is not None and caller_office_id == referring_office_id:
        return Side.SENDER
    if status == ReferralStatus.DRAFT or caller_organisation_id != destination_organisation_id:
        return None
    if destination_office_id is None or caller_office_id is None or caller_office_id == destination_office_id:
        return Side.DESTINATION
    return None
