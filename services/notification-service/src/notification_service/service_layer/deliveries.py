"""The webhook dispatcher's two transactions: take the due queue heads, then record what happened.

The HTTP calls happen between them, outside any transaction, so a slow endpoint holds no row lock.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from casebridge_common.events.contracts.notification import WebhookPaused
from notification_service.domain.models import DeliveryStatus, InboxKind, Subscription, SubscriptionStatus
from notification_service.domain.rules import Notice
from notification_service.domain.webhooks import RetryPolicy
from notification_service.service_layer.inbox import deliver_notices
from notification_service.unit_of_work import NotificationUnitOfWork


@dataclass(frozen=True, slots=True)
class DueDelivery:
    delivery_id: UUID
    subscription_id: UUID
    url: str
    secret: str
    event_id: str
    event_type: str
    event: dict[str, object]


@dataclass(frozen=True, slots=True)
class Attempt:
    delivery_id: UUID
    subscription_id: UUID
    ok: bool
    status_code: int | None
    error: str | None


async def due_queues(
    uow: NotificationUnitOfWork, *, now: datetime, per_subscription: int, subscriptions: int
) -> dict[UUID, list[DueDelivery]]:
    """Per active subscription whose head is due: its oldest pending deliveries, oldest first."""
    rows = await uow.deliveries.due_queues(now, per_subscription=per_subscription, subscriptions=subscriptions)
    owners = {s: await uow.subscriptions.get_for_dispatch(s) for s in {r.subscription_id for r in rows}}
    queues: dict[UUID, list[DueDelivery]] = {}
    for row in rows:
        subscription = owners[row.subscription_id]
        if subscription is None:
            continue
        queues.setdefault(row.subscription_id, []).append(
            DueDelivery(
                delivery_id=row.id,
                subscription_id=row.subscription_id,
                url=subscription.url,
                secret=subscription.secret,
                event_id=row.event_id,
                event_type=row.event_type,
                event=row.event,
            )
        )
    return queues


def _pause(uow: NotificationUnitOfWork, subscription: Subscription, *, status_code: int | None, now: datetime) -> str:
    subscription.status = SubscriptionStatus.PAUSED
    subscription.paused_at = now
    subscription.version += 1
    return uow.outbox.emit(
        WebhookPaused(
            subscription_id=subscription.id,
            owner_office_id=subscription.owner_office_id,
            owner_organisation_id=subscription.owner_organisation_id,
            consecutive_failures=subscription.consecutive_failures,
            last_status_code=status_code,
            paused_at=now,
        )
    )


async def record_attempts(
    uow: NotificationUnitOfWork,
    attempts: list[Attempt],
    *,
    policy: RetryPolicy,
    now: datetime,
    jitter: Callable[[], float],
) -> list[UUID]:
    """Store each attempt's outcome; schedule retries; pause a subscription that keeps failing and tell its
    owner (inbox + `webhook.paused`). Returns the ids of the subscriptions paused now."""
    deliveries = {d.id: d for d in await uow.deliveries.get_many([a.delivery_id for a in attempts])}
    paused: list[UUID] = []
    for subscription_id in dict.fromkeys(a.subscription_id for a in attempts):
        subscription = await uow.subscriptions.get_for_dispatch(subscription_id)
        if subscription is None:
            continue  # deleted meanwhile; its deliveries went with it
        for attempt in (a for a in attempts if a.subscription_id == subscription_id):
            delivery = deliveries.get(attempt.delivery_id)
            if delivery is None or delivery.status != DeliveryStatus.PENDING:
                continue
            delivery.attempts += 1
            delivery.last_attempt_at = now
            delivery.last_status_code = attempt.status_code
            delivery.last_error = attempt.error
            if attempt.ok:
                delivery.status, delivery.delivered_at = DeliveryStatus.SUCCEEDED, now
                subscription.consecutive_failures = 0
                continue
            subscription.consecutive_failures += 1
            if policy.gives_up(delivery.attempts):
                delivery.status = DeliveryStatus.FAILED
            else:
                delivery.next_attempt_at = policy.next_attempt_at(delivery.attempts, now, jitter())
            if subscription.status == SubscriptionStatus.ACTIVE and policy.pauses(subscription.consecutive_failures):
                paused_event_id = _pause(uow, subscription, status_code=attempt.status_code, now=now)
                paused.append(subscription.id)
                notice = Notice(
                    kind=InboxKind.WEBHOOK_PAUSED,
                    title=f"Webhook to {subscription.url} paused after "
                    f"{subscription.consecutive_failures} failed deliveries in a row",
                    case_id=None,
                    office_id=subscription.owner_office_id,
                    organisation_id=None if subscription.owner_office_id else subscription.owner_organisation_id,
                    params={"subscription_id": str(subscription.id)},
                )
                await deliver_notices(uow, [notice], source_event_id=paused_event_id, now=now)
    return paused
