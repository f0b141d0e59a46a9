"""Crypto-shredding: what destroying a beneficiary's key involves beyond the key itself."""

from uuid import UUID

from case_service.domain.models import Case
from case_service.unit_of_work import CaseUnitOfWork


async def shred(uow: CaseUnitOfWork, beneficiary_id: UUID, cases: list[Case]) -> int:
    """Make every sensitive copy of the person's data unreadable, in this order:

    1. seal the sensitive rows still stored in plaintext (written before encryption at rest), under the key;
    2. destroy the key: every value sealed under it, in any table, backup or event that carried one, is gone;
    3. clear the plaintext copies of sensitive facts kept on the cases for filtering (the vulnerability
       categories) and the free-text hold reason.

    `cases` must be locked by the caller. Returns how many plaintext rows step 1 sealed.
    """
    sealed = await uow.vault.seal_plaintext(beneficiary_id, [c.id for c in cases])
    await uow.vault.destroy(beneficiary_id)
    for case in cases:
        if case.vulnerability_categories or case.hold_reason is not None:
            case.vulnerability_categories, case.hold_reason = [], None
            case.version += 1  # under the caller's row lock
    return sealed
