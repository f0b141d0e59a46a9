"""Events of notification-service: topic ``casebridge.notification.events.v1``."""

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from pydantic import ConfigDict

from casebridge_common.events.envelope import Event


class InboxItemCreated(Event):
    """An office was told something in its in-app inbox (`recipient_subject`: one user of it)."""

    type: ClassVar[str] = "casebridge.notification.inbox_item_created.v1"
    topic: ClassVar[str] = "casebridge.notification.events.v1"
    inbox_item_id: UUID
    office_id: str
    kind: str
    source_event_id: str
    recipient_subject: str | None = None

    def aggregate_id(self) -> UUID:
        return self.inbox_item_id


class WebhookPaused(Event):
    """A webhook subscription failed too often in a row and was paused; its owner was told in the inbox."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "subscription_id": "5a0f7a52-3c0e-4a8f-9f4f-1c2d3e4f5a6b",
                    "owner_office_id": None,
                    "owner_organisation_id": "cfp-dakar",
                    "consecutive_failures": 5,
                    "last_status_code": 503,
                    "paused_at": "2026-12-01T10:00:00Z",
                }
            ]
        }
    )
    type: ClassVar[str] = "casebridge.webhook.paused.v1"
    topic: ClassVar[str] = "casebridge.notification.events.v1"
    subscription_id: UUID
    owner_office_id: str | None
    owner_organisation_id: str | None
    consecutive_failures: int
    last_status_code: int | None
    paused_at: datetime

    def aggregate_id(self) -> UUID:
        return self.subscription_id


class NotificationDelivered(Event):
    """A notification left through an outbound channel (`email`, `sms`): the server or provider accepted it."""

    type: ClassVar[str] = "casebridge.notification.delivered.v1"
    topic: ClassVar[str] = "casebridge.notification.events.v1"
    notification_id: UUID
    channel: str
    inbox_item_id: UUID
    delivered_at: datetime

    def aggregate_id(self) -> UUID:
        return self.notification_id


class NotificationFailed(Event):
    """A notification could not be delivered through a channel after its last attempt."""

    type: ClassVar[str] = "casebridge.notification.failed.v1"
    topic: ClassVar[str] = "casebridge.notification.events.v1"
    notification_id: UUID
    channel: str
    inbox_item_id: UUID
    attempts: int
    failed_at: datetime

    def aggregate_id(self) -> UUID:
        return self.notification_id
