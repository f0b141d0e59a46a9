from sqlalchemy.ext.asyncio import AsyncSession

from case_service.repositories import Assessments, Assistance, Beneficiaries, Cases, Closures, Notes, Plans
from casebridge_common.db import UnitOfWork


class CaseUnitOfWork(UnitOfWork):
    source = "/casebridge/case-service"

    def bind(self, session: AsyncSession) -> None:
        self.beneficiaries = Beneficiaries(session)
        self.cases = Cases(session)
        self.assessments = Assessments(session)
        self.plans = Plans(session)
        self.closures = Closures(session)
        self.assistance = Assistance(session)
        self.notes = Notes(session)
