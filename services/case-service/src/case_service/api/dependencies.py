from typing import Annotated

from fastapi import Depends, Request

from case_service.unit_of_work import CaseUnitOfWork
from casebridge_common.auth import Principal, Scope, requires


def _uow(request: Request) -> CaseUnitOfWork:
    return CaseUnitOfWork(request.state.sessions)


UoW = Annotated[CaseUnitOfWork, Depends(_uow)]
CasesRead = Annotated[Principal, requires(Scope.CASES_READ, office=True)]
CasesWrite = Annotated[Principal, requires(Scope.CASES_WRITE, office=True)]
