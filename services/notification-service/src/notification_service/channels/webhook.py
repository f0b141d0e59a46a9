"""POST one CloudEvent to a subscriber, signed. Structured mode: the body is the whole envelope."""

import json

import httpx

from notification_service.domain.webhooks import SIGNATURE_HEADER, signature_header
from notification_service.service_layer.deliveries import Attempt, DueDelivery

USER_AGENT = "CaseBridge-Webhooks/1"


def body_of(delivery: DueDelivery) -> bytes:
    return json.dumps(delivery.event, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode()


async def post(client: httpx.AsyncClient, delivery: DueDelivery, *, now_unix: int) -> Attempt:
    """2xx is success; anything else, a timeout or a refused connection is a failed attempt. Redirects are
    not followed: a subscriber moves its endpoint by updating the subscription."""
    body = body_of(delivery)
    headers = {
        "Content-Type": "application/cloudevents+json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature_header(delivery.secret, now_unix, body),
        "Idempotency-Key": delivery.event_id,
        "CaseBridge-Event-Id": delivery.event_id,
        "CaseBridge-Event-Type": delivery.event_type,
        "CaseBridge-Delivery-Id": str(delivery.delivery_id),
    }
    try:
        response = await client.post(delivery.url, content=body, headers=headers, follow_redirects=False)
    except httpx.HTTPError as exc:
        return Attempt(
            delivery.delivery_id, delivery.subscription_id, False, None, f"{type(exc).__name__}: {exc}"[:500]
        )
    ok = 200 <= response.status_code < 300
    error = None if ok else f"HTTP {response.status_code}: {response.text[:200]}"
    return Attempt(delivery.delivery_id, delivery.subscription_id, ok, response.status_code, error)
