import secrets
from datetime import datetime
from uuid import UUID

from casebridge_common.audit import AuditAction
from casebridge_common.auth import OfficeClaimRequired, Principal
from casebridge_common.events.envelope import CloudEvent
from casebridge_common.http import require_if_match
from notification_service.domain.errors import (
    DeliveryNotFound,
    DeliveryNotReplayable,
    SubscriptionNotFound,
    UnknownEventType,
)
from notification_service.domain.models import DeliveryStatus, Subscription, SubscriptionStatus, WebhookDelivery
from notification_service.domain.webhooks import check_endpoint, matches_filter, visible_to
from notification_service.service_layer.catalogue import SUBSCRIBABLE
from notification_service.unit_of_work import NotificationUnitOfWork


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def create_subscription(
    uow: NotificationUnitOfWork,
    *,
    event_types: list[str],
    url: str,
    event_filter: dict[str, str],
    description: str | None,
    environment: str,
    actor: Principal,
    now: datetime,
) -> Subscription:
    """Validates everything before anything is stored. The secret is returned to the caller this once."""
    if actor.office_id is None and actor.organisation_id is None:
        raise OfficeClaimRequired()
    unknown = sorted(set(event_types) - SUBSCRIBABLE.keys())
    if unknown:
        raise UnknownEventType(pointer="#/event_types", unknown=unknown, known=sorted(SUBSCRIBABLE))
    check_endpoint(url, environment=environment)
    subscription = Subscription(
        owner_client_id=actor.client_id,
        owner_office_id=actor.office_id,
        owner_organisation_id=actor.organisation_id,
        event_types=sorted(set(event_types)),
        filter=event_filter,
        url=url,
        description=description,
        secret=new_secret(),
        status=SubscriptionStatus.ACTIVE,
        created_at=now,
    )
    uow.subscriptions.add(subscription)
    uow.audit.record(actor, AuditAction.CREATE, resource_type="subscription", resource_id=subscription.id)
    return subscription


async def read_subscription(
    uow: NotificationUnitOfWork, subscription_id: UUID, *, actor: Principal, for_update: bool = False
) -> Subscription:
    subscription = await uow.subscriptions.get(actor, subscription_id, for_update=for_update)
    if subscription is None:
        raise SubscriptionNotFound(subscription_id=subscription_id)
    return subscription


async def list_subscriptions(
    uow: NotificationUnitOfWork, *, actor: Principal, after: tuple[datetime, UUID] | None, limit: int
) -> list[Subscription]:
    return await uow.subscriptions.page(actor, after=after, limit=limit)


async def change_status(
    uow: NotificationUnitOfWork,
    subscription_id: UUID,
    *,
    status: SubscriptionStatus,
    if_match: str | None,
    actor: Principal,
    now: datetime,
) -> Subscription:
    """Pause or resume. Resuming clears the failure count; the queue continues where it stopped."""
    subscription = await read_subscription(uow, subscription_id, actor=actor, for_update=True)
    require_if_match(if_match, subscription.version)
    if subscription.status != status:
        subscription.status = status
        subscription.paused_at = now if status == SubscriptionStatus.PAUSED else None
        subscription.consecutive_failures = 0
        subscription.version += 1
        uow.audit.record(actor, AuditAction.UPDATE, resource_type="subscription", resource_id=subscription_id)
    return subscription


async def delete_subscription(uow: NotificationUnitOfWork, subscription_id: UUID, *, actor: Principal) -> None:
    """Its pending deliveries go with it."""
    subscription = await read_subscription(uow, subscription_id, actor=actor, for_update=True)
    await uow.subscriptions.delete(subscription)
    uow.audit.record(actor, AuditAction.UPDATE, resource_type="subscription", resource_id=subscription_id)


async def list_deliveries(
    uow: NotificationUnitOfWork,
    subscription_id: UUID,
    *,
    status: DeliveryStatus | None,
    after: tuple[int, UUID] | None,
    limit: int,
    actor: Principal,
) -> list[WebhookDelivery]:
    await read_subscription(uow, subscription_id, actor=actor)
    return await uow.deliveries.page(subscription_id, status=status, after=after, limit=limit)


async def read_delivery(
    uow: NotificationUnitOfWork, subscription_id: UUID, delivery_id: UUID, *, actor: Principal
) -> WebhookDelivery:
    await read_subscription(uow, subscription_id, actor=actor)
    delivery = await uow.deliveries.get(subscription_id, delivery_id)
    if delivery is None:
        raise DeliveryNotFound(delivery_id=delivery_id)
    return delivery


async def replay_delivery(
    uow: NotificationUnitOfWork, subscription_id: UUID, delivery_id: UUID, *, actor: Principal, now: datetime
) -> WebhookDelivery:
    """Queue the same event again, at the end of the subscription's queue, with the same idempotency id."""
    original = await read_delivery(uow, subscription_id, delivery_id, actor=actor)
    if original.status == DeliveryStatus.PENDING:
        raise DeliveryNotReplayable(delivery_id=delivery_id, status=original.status)
    if original.redacted_at is not None:
        raise DeliveryNotReplayable(
            "Its payload was redacted after a consent withdrawal or an erasure.",
            delivery_id=delivery_id,
            status=original.status,
        )
    replay = WebhookDelivery(
        subscription_id=subscription_id,
        event_id=original.event_id,
        event_type=original.event_type,
        event=original.event,
        status=DeliveryStatus.PENDING,
        next_attempt_at=now,
        replay_of=original.id,
        created_at=now,
    )
    uow.deliveries.add(replay)
    uow.audit.record(actor, AuditAction.CREATE, resource_type="webhook_delivery", resource_id=replay.id)
    return replay


async def fan_out(uow: NotificationUnitOfWork, event: CloudEvent, *, now: datetime) -> list[WebhookDelivery]:
    """Queue the event for every subscription that wants it and may see it. Nothing is sent here."""
    queued = []
    for subscription in await uow.subscriptions.listening_to(event.type):
        if not visible_to(
            event.data, office_id=subscription.owner_office_id, organisation_id=subscription.owner_organisation_id
        ) or not matches_filter(event.data, subscription.filter):
            continue
        delivery = WebhookDelivery(
            subscription_id=subscription.id,
            event_id=event.id,
            event_type=event.type,
            event=event.model_dump(mode="json", exclude_none=True),
            status=DeliveryStatus.PENDING,
            next_attempt_at=now,
            created_at=now,
        )
        uow.deliveries.add(delivery)
        queued.append(delivery)
    return queued
