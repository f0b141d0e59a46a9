"""The SMS sender's two transactions: take due texts (leased, so a crash retries them), then record outcomes."""

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from casebridge_common.events.contracts.notification import NotificationDelivered, NotificationFailed
from notification_service.domain.models import MailStatus, SmsMessage
from notification_service.domain.webhooks import RetryPolicy
from notification_service.service_layer.mail import LEASE
from notification_service.unit_of_work import NotificationUnitOfWork


async def take_due(uow: NotificationUnitOfWork, *, now: datetime, limit: int) -> list[SmsMessage]:
    rows = await uow.texts.due(now, limit=limit)
    for row in rows:
        row.next_attempt_at = now + LEASE
    return rows


async def record_sent(
    uow: NotificationUnitOfWork,
    errors: dict[UUID, str | None],
    *,
    policy: RetryPolicy,
    now: datetime,
    jitter: Callable[[], float],
) -> None:
    """Emits `notification.delivered` (channel `sms`) or, after the last attempt, `notification.failed`."""
    for row in await uow.texts.get_many(list(errors)):
        error = errors[row.id]
        if row.status is MailStatus.WITHHELD and error is not None:
            continue  # stopped by a consent withdrawal while this attempt was under way: no retry
        row.attempts += 1
        row.last_error = error
        if error is None:
            row.status, row.sent_at = MailStatus.SENT, now
            uow.outbox.emit(
                NotificationDelivered(
                    notification_id=row.id, channel="sms", inbox_item_id=row.inbox_item_id, delivered_at=now
                )
            )
        elif policy.gives_up(row.attempts):
            row.status = MailStatus.FAILED
            uow.outbox.emit(
                NotificationFailed(
                    notification_id=row.id,
                    channel="sms",
                    inbox_item_id=row.inbox_item_id,
                    attempts=row.attempts,
                    failed_at=now,
                )
            )
        else:
            row.next_attempt_at = policy.next_attempt_at(row.attempts, now, jitter())
