"""Events of notification-service: topic ``casebridge.notification.events.v1``."""

from typing import ClassVar
from uuid import UUID

from casebridge_common.events.envelope import Event


class InboxItemCreated(Event):
    type: ClassVar[str] = "casebridge.notification.inbox_item_created.v1"
    topic: ClassVar[str] = "casebridge.notification.events.v1"
    inbox_item_id: UUID
    office_id: str
    kind: str
    source_event_id: str

    def aggregate_id(self) -> UUID:
        return self.inbox_item_id
