from typing import Annotated

from fastapi import Depends, Request

from casebridge_common.auth import Principal, Scope, requires
from scoring_service.unit_of_work import ScoringUnitOfWork


def _uow(request: Request) -> ScoringUnitOfWork:
    return ScoringUnitOfWork(request.state.sessions)


UoW = Annotated[ScoringUnitOfWork, Depends(_uow)]
SurveysRead = Annotated[Principal, requires(Scope.SURVEYS_READ, office=True)]
