"""Webhook rules without I/O: signing, retry schedule, auto-pause, what a subscriber may receive."""

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from notification_service.domain.errors import WebhookUrlNotAllowed

SIGNATURE_HEADER = "CaseBridge-Signature"
# Payload fields that name the office an event belongs to (a transfer belongs to both of its offices), and
# those that address an organisation.
OFFICE_FIELDS = ("owner_office_id", "office_id", "from_office_id", "to_office_id")
ORGANISATION_FIELDS = (
    "organisation_id",
    "to_organisation_id",
    "receiving_organisation_id",
    "recipient_organisation_id",
)
LOCAL_ENVIRONMENTS = ("local", "test")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 over `<timestamp>.<body>`, hex. The timestamp inside the MAC defeats replays of old bodies."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify_signature(secret: str, header: str, body: bytes, *, now: int, tolerance_s: int = 300) -> bool:
    """The receiver's check (the README's recipe): known secret, fresh timestamp, constant-time compare."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), parts.get("v1", ""))


def check_endpoint(url: str, *, environment: str) -> None:
    """HTTPS everywhere; plain HTTP only to the loopback address in local and test environments."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname == "127.0.0.1" and environment in LOCAL_ENVIRONMENTS:
        return
    raise WebhookUrlNotAllowed(pointer="#/url", url=url)


def visible_to(data: Mapping[str, object], *, office_id: str | None, organisation_id: str | None) -> bool:
    """An event reaches a subscriber only if it belongs to the subscriber's office or is addressed to its
    organisation. Events that name neither are never delivered: the check fails closed."""
    if office_id is not None and any(data.get(f) == office_id for f in OFFICE_FIELDS):
        return True
    return organisation_id is not None and any(data.get(f) == organisation_id for f in ORGANISATION_FIELDS)


def matches_filter(data: Mapping[str, object], wanted: Mapping[str, str]) -> bool:
    """Every filter entry must equal the payload's top-level field of that name (compared as text)."""
    return all(k in data and str(data[k]) == v for k, v in wanted.items())


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base_delay_s: float = 5.0
    max_delay_s: float = 3600.0
    max_attempts: int = 8
    pause_after_failures: int = 5

    def next_attempt_at(self, attempts: int, now: datetime, jitter: float) -> datetime:
        """Exponential backoff with jitter in [0.5, 1]: `jitter` comes from the caller (random there)."""
        delay = min(self.max_delay_s, self.base_delay_s * 2 ** min(attempts - 1, 30))
        return now + timedelta(seconds=delay * (0.5 + 0.5 * min(max(jitter, 0.0), 1.0)))

    def gives_up(self, attempts: int) -> bool:
        return attempts >= self.max_attempts

    def pauses(self, consecutive_failures: int) -> bool:
        return consecutive_failures >= self.pause_after_failures
