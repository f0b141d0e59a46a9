from sqlalchemy.ext.asyncio import AsyncSession

from case_service.repositories import Beneficiaries, Cases
from casebridge_common.db import UnitOfWork


class CaseUnitOfWork(UnitOfWork):
    source = "/casebridge/case-service"

    def bind(self, session: AsyncSession) -> None:
        self.beneficiaries = Beneficiaries(session)
        self.cases = Cases(session)
