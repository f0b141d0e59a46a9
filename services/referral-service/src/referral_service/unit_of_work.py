from sqlalchemy.ext.asyncio import AsyncSession

from casebridge_common.db import UnitOfWork
from referral_service.repositories import Directory


class ReferralUnitOfWork(UnitOfWork):
    source = "/casebridge/referral-service"

    def bind(self, session: AsyncSession) -> None:
        self.directory = Directory(session)
