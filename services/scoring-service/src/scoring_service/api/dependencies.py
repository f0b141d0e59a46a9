from typing import Annotated

from fastapi import Depends, Request

from casebridge_common.auth import AnyPrincipal, InsufficientScope, Principal, Scope, require_office, requires
from scoring_service.unit_of_work import ScoringUnitOfWork


def _uow(request: Request) -> ScoringUnitOfWork:
    return ScoringUnitOfWork(request.state.sessions)


async def _score_reader(principal: AnyPrincipal) -> Principal:
    """Score history is readable with either `scores:read` or `surveys:read`."""
    if not principal.scopes & {Scope.SCORES_READ, Scope.SURVEYS_READ}:
        raise InsufficientScope(
            "missing scope: scores:read or surveys:read", required_scopes=[Scope.SCORES_READ, Scope.SURVEYS_READ]
        )
    return require_office(principal)


UoW = Annotated[ScoringUnitOfWork, Depends(_uow)]
SurveysRead = Annotated[Principal, requires(Scope.SURVEYS_READ, office=True)]
SurveysSubmit = Annotated[Principal, requires(Scope.SURVEYS_SUBMIT, office=True)]
ScoresRead = Annotated[Principal, Depends(_score_reader)]
InstrumentsRead = Annotated[Principal, Depends(_score_reader)]
InstrumentsWrite = Annotated[Principal, requires(Scope.INSTRUMENTS_WRITE)]
