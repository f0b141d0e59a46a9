from sqlalchemy.ext.asyncio import AsyncSession

from casebridge_common.db import UnitOfWork
from referral_service.repositories import Cases, Consents, Directory, Disclosures, Referrals


class ReferralUnitOfWork(UnitOfWork):
    source = "/casebridge/referral-service"

    def bind(self, session: AsyncSession) -> None:
        self.directory = Directory(session)
        self.cases = Cases(session)
        self.referrals = Referrals(session)
        self.consents = Consents(session)
        self.disclosures = Disclosures(session)
