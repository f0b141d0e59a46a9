from datetime import datetime, time

from casebridge_common.audit import AuditAction
from casebridge_common.auth import OfficeClaimRequired, Principal
from casebridge_common.http import require_if_match
from notification_service.domain.emails import preference_key, valid_timezone
from notification_service.domain.errors import EmailAddressRequired, PhoneNumberRequired, UnknownTimezone
from notification_service.domain.models import Channel, Language, NotificationPreference
from notification_service.unit_of_work import NotificationUnitOfWork


def owner_key(actor: Principal) -> str:
    """A user's token sets that user's preferences; a system's token, its office's (or organisation's)."""
    if actor.office_id is None and actor.organisation_id is None:
        raise OfficeClaimRequired()
    is_user = actor.subject != actor.client_id
    organisation = None if actor.office_id else actor.organisation_id
    return preference_key(actor.office_id, organisation, actor.subject if is_user else None)


def defaults(actor: Principal, *, now: datetime) -> NotificationPreference:
    """What applies before anything was set: the inbox only. Version 0, so the first PUT sends `If-Match: "0"`."""
    return NotificationPreference(owner_key=owner_key(actor), channels=[Channel.INBOX.value], version=0, updated_at=now)


async def read_preferences(uow: NotificationUnitOfWork, *, actor: Principal, now: datetime) -> NotificationPreference:
    stored = await uow.preferences.get(owner_key(actor))
    uow.audit.record(actor, AuditAction.VIEW, resource_type="notification_preference", resource_id=owner_key(actor))
    return stored or defaults(actor, now=now)


async def set_preferences(
    uow: NotificationUnitOfWork,
    *,
    channels: list[Channel],
    email_address: str | None,
    language: Language,
    timezone: str,
    quiet_hours: tuple[time, time] | None,
    digest: bool,
    phone_number: str | None = None,
    if_match: str | None,
    actor: Principal,
    now: datetime,
) -> NotificationPreference:
    if Channel.EMAIL in channels and not email_address:
        raise EmailAddressRequired(pointer="#/email_address")
    if Channel.SMS in channels and not phone_number:
        raise PhoneNumberRequired(pointer="#/phone_number")
    if not valid_timezone(timezone):
        raise UnknownTimezone(pointer="#/timezone", timezone=timezone)
    key = owner_key(actor)
    stored = await uow.preferences.get(key, for_update=True)
    require_if_match(if_match, stored.version if stored else 0)
    if stored is None:
        is_user = actor.subject != actor.client_id
        stored = NotificationPreference(
            owner_key=key,
            office_id=actor.office_id,
            organisation_id=None if actor.office_id else actor.organisation_id,
            subject=actor.subject if is_user else None,
            channels=[],
            version=0,
            updated_at=now,
        )
        uow.preferences.add(stored)
    stored.channels = sorted({Channel.INBOX.value, *(c.value for c in channels)})
    stored.email_address = email_address
    stored.phone_number = phone_number
    stored.language = language
    stored.timezone = timezone
    stored.quiet_hours_start, stored.quiet_hours_end = quiet_hours or (None, None)
    stored.digest = digest
    stored.version += 1
    stored.updated_at = now
    uow.audit.record(actor, AuditAction.UPDATE, resource_type="notification_preference", resource_id=key)
    return stored
