from typing import Annotated

from fastapi import Depends, Request

from casebridge_common.auth import Principal, Scope, requires
from notification_service.settings import Settings
from notification_service.unit_of_work import NotificationUnitOfWork


def _uow(request: Request) -> NotificationUnitOfWork:
    return NotificationUnitOfWork(request.state.sessions)


def _settings(request: Request) -> Settings:
    settings: Settings = request.state.settings
    return settings


UoW = Annotated[NotificationUnitOfWork, Depends(_uow)]
AppSettings = Annotated[Settings, Depends(_settings)]
# Office systems and users read their office's inbox; an organisation-bound partner reads its organisation's.
InboxRead = Annotated[Principal, requires(Scope.INBOX_READ)]
InboxWrite = Annotated[Principal, requires(Scope.INBOX_WRITE)]
SubscriptionsRead = Annotated[Principal, requires(Scope.SUBSCRIPTIONS_READ)]
SubscriptionsWrite = Annotated[Principal, requires(Scope.SUBSCRIPTIONS_WRITE)]
