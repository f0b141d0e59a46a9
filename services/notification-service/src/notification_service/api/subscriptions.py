from uuid import UUID

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from casebridge_common.db import utc_now
from casebridge_common.http import (
    DEFAULT_LIMIT,
    Cursor,
    CursorParam,
    IdempotencyKeyHeader,
    IfMatch,
    InvalidCursor,
    LimitParam,
    Page,
    etag,
    page_of,
    time_and_id,
)
from casebridge_common.problems import problems
from notification_service.api.dependencies import AppSettings, SubscriptionsRead, SubscriptionsWrite, UoW
from notification_service.domain.models import DeliveryStatus
from notification_service.schemas import (
    CreateSubscription,
    DeliveryRead,
    SubscriptionCreated,
    SubscriptionPatch,
    SubscriptionRead,
)
from notification_service.service_layer import subscriptions

router = APIRouter(prefix="/v1/subscriptions", tags=["subscriptions"])


@router.post("", status_code=201, response_model=SubscriptionCreated, responses=problems(401, 403, 422))
async def create_subscription(
    body: CreateSubscription,
    uow: UoW,
    who: SubscriptionsWrite,
    settings: AppSettings,
    response: Response,
    key: IdempotencyKeyHeader = None,
) -> SubscriptionCreated | JSONResponse:
    """Subscribe an endpoint to event types. Deliveries are POSTed by a background worker, signed with the
    returned `secret` (shown only here), retried with backoff, and paused after repeated failures. You receive
    only events of your office, or addressed to your organisation. Unknown types and non-HTTPS URLs: 422."""
    async with uow:
        if (replay := await uow.idempotency.replay(key, who, body)) is not None:
            return replay
        subscription = subscriptions.create_subscription(
            uow,
            event_types=body.event_types,
            url=str(body.url),
            event_filter=dict(body.filter),
            description=body.description,
            environment=settings.environment,
            actor=who,
            now=utc_now(),
        )
        result = SubscriptionCreated.model_validate(subscription)
        await uow.idempotency.remember(status=201, body=result)
        await uow.commit()
    response.headers["ETag"] = etag(result.version)
    return result


@router.get("", responses=problems(400, 401, 403, 422))
async def list_subscriptions(
    uow: UoW, who: SubscriptionsRead, cursor: CursorParam = None, limit: LimitParam = DEFAULT_LIMIT
) -> Page[SubscriptionRead]:
    """Your office's (or organisation's) subscriptions, newest first."""
    query = {"office": who.office_id, "organisation": who.organisation_id}
    after = time_and_id(Cursor.decode(cursor, query))
    async with uow:
        rows = await subscriptions.list_subscriptions(uow, actor=who, after=after, limit=limit)
    return page_of(
        [SubscriptionRead.model_validate(r) for r in rows],
        limit=limit,
        sort_key=lambda s: [s.created_at.isoformat(), str(s.id)],
        query=query,
    )


@router.get("/{subscription_id}", responses=problems(401, 403, 404))
async def get_subscription(
    subscription_id: UUID, uow: UoW, who: SubscriptionsRead, response: Response
) -> SubscriptionRead:
    """One of your subscriptions (without its secret)."""
    async with uow:
        result = SubscriptionRead.model_validate(await subscriptions.read_subscription(uow, subscription_id, actor=who))
    response.headers["ETag"] = etag(result.version)
    return result


@router.patch("/{subscription_id}", responses=problems(401, 403, 404, 412, 422, 428))
async def update_subscription(
    subscription_id: UUID,
    body: SubscriptionPatch,
    uow: UoW,
    who: SubscriptionsWrite,
    response: Response,
    if_match: IfMatch = None,
) -> SubscriptionRead:
    """Pause, or resume a paused subscription: its queued deliveries then go out in order. Needs `If-Match`."""
    async with uow:
        subscription = await subscriptions.change_status(
            uow, subscription_id, status=body.status, if_match=if_match, actor=who, now=utc_now()
        )
        result = SubscriptionRead.model_validate(subscription)
        await uow.commit()
    response.headers["ETag"] = etag(result.version)
    return result


@router.delete("/{subscription_id}", status_code=204, responses=problems(401, 403, 404))
async def delete_subscription(subscription_id: UUID, uow: UoW, who: SubscriptionsWrite) -> Response:
    """Stop the subscription; deliveries not yet made are dropped."""
    async with uow:
        await subscriptions.delete_subscription(uow, subscription_id, actor=who)
        await uow.commit()
    return Response(status_code=204)


def _deliverytime_and_id(cursor: list[object] | None) -> tuple[int, UUID] | None:
    if cursor is None:
        return None
    try:
        seq, delivery_id = cursor
        return int(str(seq)), UUID(str(delivery_id))
    except (ValueError, TypeError) as exc:
        raise InvalidCursor(parameter="cursor") from exc


@router.get("/{subscription_id}/deliveries", responses=problems(400, 401, 403, 404, 422))
async def list_deliveries(
    subscription_id: UUID,
    uow: UoW,
    who: SubscriptionsRead,
    status: DeliveryStatus | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[DeliveryRead]:
    """The subscription's deliveries, newest first: attempts, last status code and error, next attempt."""
    query = {"subscription": subscription_id, "status": status}
    after = _deliverytime_and_id(Cursor.decode(cursor, query))
    async with uow:
        rows = await subscriptions.list_deliveries(
            uow, subscription_id, status=status, after=after, limit=limit, actor=who
        )
    seqs = {r.id: r.seq for r in rows}
    return page_of(
        [DeliveryRead.model_validate(r) for r in rows],
        limit=limit,
        sort_key=lambda d: [seqs[d.id], str(d.id)],
        query=query,
    )


@router.get("/{subscription_id}/deliveries/{delivery_id}", responses=problems(401, 403, 404))
async def get_delivery(subscription_id: UUID, delivery_id: UUID, uow: UoW, who: SubscriptionsRead) -> DeliveryRead:
    """One delivery, with the exact event that was (or will be) sent."""
    async with uow:
        delivery = await subscriptions.read_delivery(uow, subscription_id, delivery_id, actor=who)
    return DeliveryRead.model_validate(delivery)


@router.post(
    "/{subscription_id}/deliveries/{delivery_id}/replay", status_code=202, responses=problems(401, 403, 404, 409)
)
async def replay_delivery(subscription_id: UUID, delivery_id: UUID, uow: UoW, who: SubscriptionsWrite) -> DeliveryRead:
    """Send a finished delivery's event again (a new delivery at the end of the queue, same `Idempotency-Key`).
    A delivery still pending is 409 `delivery-not-replayable`."""
    async with uow:
        delivery = await subscriptions.replay_delivery(uow, subscription_id, delivery_id, actor=who, now=utc_now())
        result = DeliveryRead.model_validate(delivery)
        await uow.commit()
    return result
