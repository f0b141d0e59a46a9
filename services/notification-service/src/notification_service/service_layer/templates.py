"""E-mail templates an office (or organisation) edits per inbox kind and language; unset ones are the shipped ones."""

from datetime import datetime

from casebridge_common.audit import AuditAction
from casebridge_common.auth import OfficeClaimRequired, Principal
from casebridge_common.http import require_if_match
from notification_service.domain.emails import TEMPLATES, preference_key, validate_template
from notification_service.domain.models import EmailTemplate, InboxKind, Language
from notification_service.unit_of_work import NotificationUnitOfWork


def template_owner(actor: Principal) -> str:
    """The office's templates (or, for an organisation-bound partner, the organisation's); users share them."""
    if actor.office_id is None and actor.organisation_id is None:
        raise OfficeClaimRequired()
    return preference_key(actor.office_id, None if actor.office_id else actor.organisation_id, None)


def shipped(owner_key: str, kind: InboxKind, language: Language, *, now: datetime) -> EmailTemplate:
    """The platform default, version 0, so the first PUT sends `If-Match: "0"`."""
    subject, text = TEMPLATES[kind][language]
    return EmailTemplate(
        owner_key=owner_key,
        kind=kind,
        language=language,
        subject=subject,
        text=text,
        version=0,
        updated_by="casebridge",
        updated_at=now,
    )


async def read_template(
    uow: NotificationUnitOfWork, kind: InboxKind, language: Language, *, actor: Principal, now: datetime
) -> EmailTemplate:
    key = template_owner(actor)
    return await uow.templates.get(key, kind, language) or shipped(key, kind, language, now=now)


async def set_template(
    uow: NotificationUnitOfWork,
    kind: InboxKind,
    language: Language,
    *,
    subject: str,
    text: str,
    if_match: str | None,
    actor: Principal,
    now: datetime,
) -> EmailTemplate:
    """Validated before anything is read or stored: a syntax error or unknown placeholder stores nothing."""
    validate_template(kind, subject, text)
    key = template_owner(actor)
    stored = await uow.templates.get(key, kind, language, for_update=True)
    require_if_match(if_match, stored.version if stored else 0)
    if stored is None:
        stored = shipped(key, kind, language, now=now)
        uow.templates.add(stored)
    stored.subject, stored.text = subject, text
    stored.version += 1
    stored.updated_by, stored.updated_at = actor.subject, now
    uow.audit.record(
        actor, AuditAction.UPDATE, resource_type="email_template", resource_id=f"{key}|{kind.value}|{language.value}"
    )
    return stored
