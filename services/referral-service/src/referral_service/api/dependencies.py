from typing import Annotated

from fastapi import Depends, Request

from casebridge_common.auth import Principal, Scope, requires
from referral_service.unit_of_work import ReferralUnitOfWork


def _uow(request: Request) -> ReferralUnitOfWork:
    return ReferralUnitOfWork(request.state.sessions)


UoW = Annotated[ReferralUnitOfWork, Depends(_uow)]
DirectoryRead = Annotated[Principal, requires(Scope.DIRECTORY_READ)]
