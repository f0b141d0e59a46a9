from collections.abc import Mapping
from datetime import datetime
from uuid import UUID

from casebridge_common.audit import AuditAction
from casebridge_common.auth import Principal
from casebridge_common.events.contracts.notification import InboxItemCreated
from casebridge_common.http import require_if_match
from notification_service.domain.emails import Schedule, preference_key, render
from notification_service.domain.errors import InboxItemNotFound
from notification_service.domain.models import (
    Channel,
    EmailMessage,
    InboxItem,
    InboxKind,
    MailStatus,
    NotificationPreference,
    SmsMessage,
)
from notification_service.domain.rules import Notice, notices_for
from notification_service.repositories import addressee_lock_key
from notification_service.unit_of_work import NotificationUnitOfWork

ONCE_CONSUMER = "notification-service.notice_once"


async def deliver_notices(
    uow: NotificationUnitOfWork, notices: list[Notice], *, source_event_id: str, now: datetime
) -> list[InboxItem]:
    """Create the inbox items, and the e-mails their addressees' preferences ask for (sent later by the
    mailer). Emits `notification.inbox_item_created` for each office-addressed item. A notice with a `once_key`
    already delivered (by another event with the same key) is dropped."""
    notices = [n for n in notices if n.once_key is None or await _first_time(uow, n.once_key)]
    items = []
    keys = sorted({addressee_lock_key(n.office_id, n.organisation_id) for n in notices})
    for key in keys:  # a fixed order: two writers never wait on each other's locks crosswise
        await uow.inbox_items.lock_addressee(key)
    for notice in notices:
        item = InboxItem(
            office_id=notice.office_id,
            organisation_id=notice.organisation_id,
            recipient_subject=notice.recipient_subject,
            kind=notice.kind,
            title=notice.title,
            case_id=notice.case_id,
            urgent=notice.urgent,
            source_event_id=source_event_id,
            created_at=now,
        )
        uow.inbox_items.add(item)
        items.append(item)
        await _queue_mail(uow, notice, item, now=now)
        if item.office_id is not None:
            uow.outbox.emit(
                InboxItemCreated(
                    inbox_item_id=item.id,
                    office_id=item.office_id,
                    kind=item.kind,
                    source_event_id=source_event_id,
                    recipient_subject=item.recipient_subject,
                )
            )
    return items


async def _first_time(uow: NotificationUnitOfWork, once_key: str) -> bool:
    # Claimed like an event id, in the transaction that creates the item: a concurrent twin waits on the key.
    return await uow.inbox.claim(consumer=ONCE_CONSUMER, event_id=once_key)


def _schedule(notice: Notice, preference: NotificationPreference, *, digest: bool = False) -> Schedule:
    """An urgent notice (emergency access to a case) goes at once, whatever the quiet hours and digest say."""
    if notice.urgent:
        return Schedule(timezone=preference.timezone)
    return Schedule(
        timezone=preference.timezone,
        quiet_start=preference.quiet_hours_start,
        quiet_end=preference.quiet_hours_end,
        digest=digest,
    )


def _queue_text(
    uow: NotificationUnitOfWork, notice: Notice, item: InboxItem, preference: NotificationPreference, *, now: datetime
) -> None:
    """One short text (the mail's subject and the case id), held through quiet hours; never part of a digest."""
    assert preference.phone_number is not None  # noqa: S101 - checked by the caller
    mail = render(notice.kind, preference.language, {"title": notice.title, **notice.params})
    text = mail.subject if item.case_id is None else f"{mail.subject} ({item.case_id})"
    schedule = _schedule(notice, preference)
    uow.texts.add(
        SmsMessage(
            inbox_item_id=item.id,
            to_number=preference.phone_number,
            text=text[:480],
            status=MailStatus.PENDING,
            next_attempt_at=schedule.send_at(now),
            created_at=now,
        )
    )


async def _queue_mail(uow: NotificationUnitOfWork, notice: Notice, item: InboxItem, *, now: datetime) -> None:
    key = preference_key(notice.office_id, notice.organisation_id, notice.recipient_subject)
    preference = await uow.preferences.get(key)
    if preference is None:
        return
    if Channel.SMS.value in preference.channels and preference.phone_number:
        _queue_text(uow, notice, item, preference, now=now)
    if Channel.EMAIL.value not in preference.channels or not preference.email_address:
        return
    edited = await uow.templates.get(
        preference_key(notice.office_id, notice.organisation_id, None), notice.kind, preference.language
    )
    mail = render(
        notice.kind,
        preference.language,
        {"title": notice.title, **notice.params},
        edited=(edited.subject, edited.text) if edited else None,
    )
    schedule = _schedule(notice, preference, digest=preference.digest)
    uow.mails.add(
        EmailMessage(
            inbox_item_id=item.id,
            to_address=preference.email_address,
            language=preference.language,
            kind=notice.kind,
            subject=mail.subject,
            text_body=mail.text,
            html_body=mail.html,
            digest=schedule.digest,
            status=MailStatus.PENDING,
            next_attempt_at=schedule.send_at(now),
            created_at=now,
        )
    )


async def apply_rules(
    uow: NotificationUnitOfWork, event_type: str, data: Mapping[str, object], *, event_id: str, now: datetime
) -> list[InboxItem]:
    """Tell whoever the rules for this event type name."""
    return await deliver_notices(uow, notices_for(event_type, data), source_event_id=event_id, now=now)


async def list_items(
    uow: NotificationUnitOfWork,
    *,
    actor: Principal,
    unread: bool | None,
    kind: InboxKind | None,
    case_id: UUID | None,
    archived: bool,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[InboxItem]:
    uow.audit.record(actor, AuditAction.LIST, resource_type="inbox_item", resource_id=None)
    return await uow.inbox_items.page(
        actor, unread=unread, kind=kind, case_id=case_id, archived=archived, after=after, limit=limit
    )


async def read_item(uow: NotificationUnitOfWork, item_id: UUID, *, actor: Principal) -> InboxItem:
    item = await uow.inbox_items.get(actor, item_id)
    if item is None:
        raise InboxItemNotFound(item_id=item_id)
    uow.audit.record(actor, AuditAction.VIEW, resource_type="inbox_item", resource_id=item_id)
    return item


async def unread_counts(uow: NotificationUnitOfWork, *, actor: Principal) -> dict[InboxKind, int]:
    return await uow.inbox_items.unread_counts(actor)


async def change_state(
    uow: NotificationUnitOfWork,
    item_id: UUID,
    *,
    read: bool | None,
    archived: bool | None,
    if_match: str | None,
    actor: Principal,
    now: datetime,
) -> InboxItem:
    """Mark read/unread, archive/unarchive. The version is compared under the addressee's lock."""
    # Every item the actor sees is addressed to the actor's office (or organisation): lock that first.
    await uow.inbox_items.lock_addressee(
        addressee_lock_key(actor.office_id, None if actor.office_id else actor.organisation_id)
    )
    item = await uow.inbox_items.get(actor, item_id)
    if item is None:
        raise InboxItemNotFound(item_id=item_id)
    require_if_match(if_match, item.version)
    read_at = item.read_at if read is None else (item.read_at or now) if read else None
    archived_at = item.archived_at if archived is None else (item.archived_at or now) if archived else None
    if (read_at, archived_at) == (item.read_at, item.archived_at):
        return item
    uow.audit.record(actor, AuditAction.UPDATE, resource_type="inbox_item", resource_id=item_id)
    return await uow.inbox_items.set_state(item, read_at=read_at, archived_at=archived_at)


async def changes_since(
    uow: NotificationUnitOfWork, *, actor: Principal, after_seq: int, limit: int
) -> list[InboxItem]:
    uow.audit.record(actor, AuditAction.LIST, resource_type="inbox_item", resource_id=None, purpose="mobile_sync")
    return await uow.inbox_items.changes(actor, after_seq=after_seq, limit=limit)
