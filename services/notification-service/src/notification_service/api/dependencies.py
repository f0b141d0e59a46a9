from typing import Annotated

from fastapi import Depends, Request

from casebridge_common.auth import Principal, Scope, requires
from notification_service.unit_of_work import NotificationUnitOfWork


def _uow(request: Request) -> NotificationUnitOfWork:
    return NotificationUnitOfWork(request.state.sessions)


UoW = Annotated[NotificationUnitOfWork, Depends(_uow)]
InboxRead = Annotated[Principal, requires(Scope.INBOX_READ, office=True)]
