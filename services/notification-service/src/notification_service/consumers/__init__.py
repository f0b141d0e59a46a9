"""Worker entrypoints of notification-service: Kafka handlers (events.py) and the webhook dispatcher job."""

from notification_service.consumers.events import CONSUMED_TOPICS, HANDLERS

__all__ = ["CONSUMED_TOPICS", "HANDLERS"]
