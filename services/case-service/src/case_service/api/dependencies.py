from typing import Annotated

from fastapi import Depends, Path, Query, Request

from case_service.settings import Settings
from case_service.unit_of_work import CaseUnitOfWork
from casebridge_common.access import Purpose
from casebridge_common.auth import Principal, Scope, requires


async def _uow(request: Request) -> CaseUnitOfWork:  # async: a plain function would run in a worker thread
    settings: Settings = request.state.settings
    return CaseUnitOfWork(request.state.sessions, kek=settings.key_encryption_key())


UoW = Annotated[CaseUnitOfWork, Depends(_uow)]
CasesRead = Annotated[Principal, requires(Scope.CASES_READ, office=True)]
CasesWrite = Annotated[Principal, requires(Scope.CASES_WRITE, office=True)]
# what cannot be undone or overrides a person's wishes: an erasure, a legal hold placed or released
CasesAdmin = Annotated[Principal, requires(Scope.CASES_WRITE, Scope.CASES_ADMIN, office=True)]
PurposeParam = Annotated[
    Purpose,
    Query(description="why the data is read (data-protection.md §1.2); what is returned depends on it"),
]
# versions are PostgreSQL integers: a larger number names no version, and is refused before any query
MAX_VERSION = 2**31 - 1
PlanVersion = Annotated[int, Path(ge=1, le=MAX_VERSION, description="a version of the case's plan", examples=[2])]
