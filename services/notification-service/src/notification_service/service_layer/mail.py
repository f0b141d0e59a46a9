"""The mailer's two transactions: take due mails (leased, so a crash retries them), then record outcomes.

Digest mails due for one address and language leave as one message.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from casebridge_common.events.contracts.notification import NotificationDelivered, NotificationFailed
from notification_service.domain.emails import RenderedMail, render_digest
from notification_service.domain.models import EmailMessage, Language, MailStatus
from notification_service.domain.webhooks import RetryPolicy
from notification_service.unit_of_work import NotificationUnitOfWork

LEASE = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Outgoing:
    mail_ids: tuple[UUID, ...]
    to_address: str
    language: Language
    mail: RenderedMail


def _group(rows: list[EmailMessage]) -> list[Outgoing]:
    single = [
        Outgoing((r.id,), r.to_address, r.language, RenderedMail(r.subject, r.text_body, r.html_body))
        for r in rows
        if not r.digest
    ]
    digests: dict[tuple[str, Language], list[EmailMessage]] = {}
    for row in sorted((r for r in rows if r.digest), key=lambda r: r.created_at):
        digests.setdefault((row.to_address, row.language), []).append(row)
    for (address, language), group in digests.items():
        parts = [RenderedMail(r.subject, r.text_body, r.html_body) for r in group]
        single.append(Outgoing(tuple(r.id for r in group), address, language, render_digest(language, parts)))
    return single


async def take_due(uow: NotificationUnitOfWork, *, now: datetime, limit: int) -> list[Outgoing]:
    """Leases the due mails until `now + LEASE`: another mailer skips them, and a crash retries them then."""
    rows = await uow.mails.due(now, limit=limit)
    for row in rows:
        row.next_attempt_at = now + LEASE
    return _group(rows)


async def record_sent(
    uow: NotificationUnitOfWork,
    results: list[tuple[Outgoing, str | None]],
    *,
    policy: RetryPolicy,
    now: datetime,
    jitter: Callable[[], float],
) -> None:
    """`(outgoing, None)` was accepted by the SMTP server; `(outgoing, error)` failed. Emits
    `notification.delivered` or, after the last attempt, `notification.failed` per mail."""
    errors = {mail_id: error for outgoing, error in results for mail_id in outgoing.mail_ids}
    for row in await uow.mails.get_many(list(errors)):
        error = errors[row.id]
        if row.status is MailStatus.WITHHELD and error is not None:
            continue  # stopped by a consent withdrawal while this attempt was under way: no retry
        row.attempts += 1
        row.last_error = error
        if error is None:
            row.status, row.sent_at = MailStatus.SENT, now
            uow.outbox.emit(
                NotificationDelivered(
                    notification_id=row.id, channel="email", inbox_item_id=row.inbox_item_id, delivered_at=now
                )
            )
        elif policy.gives_up(row.attempts):
            row.status = MailStatus.FAILED
            uow.outbox.emit(
                NotificationFailed(
                    notification_id=row.id,
                    channel="email",
                    inbox_item_id=row.inbox_item_id,
                    attempts=row.attempts,
                    failed_at=now,
                )
            )
        else:
            row.next_attempt_at = policy.next_attempt_at(row.attempts, now, jitter())
