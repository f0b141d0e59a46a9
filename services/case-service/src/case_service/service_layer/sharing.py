"""Shares with other offices, break-glass grants and the disclosure preview: the owner office decides who else
reads a case, always bounded by the beneficiary's consent."""

from datetime import datetime, timedelta
from uuid import UUID

from case_service.domain.disclosure import fields_by_category
from case_service.domain.errors import (
    BreakGlassRoleRequired,
    CannotShareWithOwner,
    CaseNotFound,
    ConsentRequired,
    ShareExpiryInPast,
    ShareNotFound,
)
from case_service.domain.sharing import BreakGlassGrant, CaseShare
from case_service.schemas.access import (
    BreakGlass,
    DisclosedCategory,
    DisclosurePreview,
    Recipient,
    ShareCase,
    ShareRead,
    WithheldCategory,
)
from case_service.service_layer.access import (
    case_facts,
    refuse_forbidden_purpose,
    writable_case,
    writable_case_and_facts,
)
from case_service.unit_of_work import CaseUnitOfWork
from casebridge_common.access import (
    BREAK_GLASS_ROLES,
    DataCategory,
    Party,
    Purpose,
    consent_for,
    disclosure,
)
from casebridge_common.audit import AuditAction
from casebridge_common.auth import Principal
from casebridge_common.events.contracts.case import BreakGlassUsed, CaseShared, CaseShareRevoked

# the category named on a denied audit entry for the owner-only actions below; ownership, not data, is checked
_OWNERSHIP = DataCategory.IDENTITY_BIODATA


def share_read(share: CaseShare, now: datetime) -> ShareRead:
    return ShareRead(
        id=share.id,
        case_id=share.case_id,
        office_id=share.office_id,
        mode=share.mode,
        granted_by=share.granted_by,
        granted_at=share.granted_at,
        expires_at=share.expires_at,
        revoked_at=share.revoked_at,
        active=share.active(now),
    )


async def share_case(
    uow: CaseUnitOfWork, case_id: UUID, command: ShareCase, *, actor: Principal, now: datetime
) -> ShareRead:
    """Share the case with another office (owner only). Refused with 403 `consent-required` when no consent
    lets that office see any category for case management (R-C1). Emits `case.shared`."""
    case, _ = await writable_case(uow, case_id, _OWNERSHIP, actor=actor, now=now, owner_only=True)
    if command.office_id == case.owner_office_id:
        raise CannotShareWithOwner(pointer="#/office_id")
    if command.expires_at is not None and command.expires_at <= now:
        raise ShareExpiryInPast(pointer="#/expires_at")
    facts = await case_facts(uow, case, now=now)
    recipient = Party(office_id=command.office_id)
    consented = sorted(
        c for c in DataCategory if consent_for(facts, c, Purpose.CASE_MANAGEMENT, recipient, now=now).allowed
    )
    if not consented:
        uow.audit.record(
            actor,
            AuditAction.SHARE,
            resource_type="case_share",
            resource_id=None,
            case_id=case.id,
            outcome="denied",
            reason="no-consent",
            basis=command.office_id,
        )
        raise ConsentRequired(office_id=command.office_id)
    share = CaseShare(
        case_id=case.id,
        office_id=command.office_id,
        mode=command.mode,
        granted_by=actor.subject,
        granted_at=now,
        expires_at=command.expires_at,
    )
    uow.shares.add(share)
    uow.outbox.emit(
        CaseShared(
            case_id=case.id,
            share_id=share.id,
            owner_office_id=case.owner_office_id,
            office_id=share.office_id,
            mode=share.mode,
            expires_at=share.expires_at,
        )
    )
    uow.audit.record(
        actor,
        AuditAction.SHARE,
        resource_type="case_share",
        resource_id=share.id,
        case_id=case.id,
        categories=consented,
        reason="owner",
        basis=command.office_id,
    )
    return share_read(share, now)


async def list_shares(uow: CaseUnitOfWork, case_id: UUID, *, actor: Principal, now: datetime) -> list[ShareRead]:
    """Every share of the case, revoked and expired ones included (owner only)."""
    case, _, _ = await writable_case_and_facts(
        uow, case_id, _OWNERSHIP, actor=actor, now=now, owner_only=True, lock=False
    )
    uow.audit.record(actor, AuditAction.LIST, resource_type="case_share", resource_id=case.id, case_id=case.id)
    return [share_read(s, now) for s in await uow.shares.of_case(case.id)]


async def revoke_share(
    uow: CaseUnitOfWork, case_id: UUID, share_id: UUID, *, actor: Principal, now: datetime
) -> ShareRead:
    """End a share at once (owner only); revoking twice answers the first revocation. Emits
    `case.share_revoked` once."""
    case, _ = await writable_case(uow, case_id, _OWNERSHIP, actor=actor, now=now, owner_only=True)
    share = await uow.shares.get(case.id, share_id, for_update=True)
    if share is None:
        raise ShareNotFound(share_id=share_id)
    if share.revoked_at is None:
        share.revoked_at = now
        uow.outbox.emit(
            CaseShareRevoked(
                case_id=case.id,
                share_id=share.id,
                owner_office_id=case.owner_office_id,
                office_id=share.office_id,
                revoked_at=now,
            )
        )
        uow.audit.record(actor, AuditAction.UPDATE, resource_type="case_share", resource_id=share.id, case_id=case.id)
    return share_read(share, now)


async def break_glass(
    uow: CaseUnitOfWork, case_id: UUID, command: BreakGlass, *, actor: Principal, now: datetime, lasts: timedelta
) -> BreakGlassGrant:
    """Open a case outside the access rules for `lasts` (data-protection.md §5). Only the roles of
    `BREAK_GLASS_ROLES`; the justification goes to the audit log; the owner office is told through
    `case.break_glass_used`. The grant is visible to its holder alone."""
    if not actor.roles & BREAK_GLASS_ROLES:
        uow.audit.record(
            actor,
            AuditAction.BREAK_GLASS,
            resource_type="case",
            resource_id=case_id,
            outcome="denied",
            reason="role-required",
        )
        raise BreakGlassRoleRequired(required_roles=sorted(BREAK_GLASS_ROLES))
    case = await uow.cases.get(case_id)
    if case is None:
        uow.audit.record(actor, AuditAction.BREAK_GLASS, resource_type="case", resource_id=case_id, outcome="denied")
        raise CaseNotFound(case_id=case_id)
    grant = BreakGlassGrant(
        case_id=case.id,
        subject=actor.subject,
        office_id=actor.office_id,
        justification=command.justification,
        granted_at=now,
        expires_at=now + lasts,
    )
    uow.break_glass.add(grant)
    uow.outbox.emit(
        BreakGlassUsed(
            case_id=case.id,
            grant_id=grant.id,
            owner_office_id=case.owner_office_id,
            actor_subject=actor.subject,
            actor_office_id=actor.office_id,
            granted_at=now,
            expires_at=grant.expires_at,
        )
    )
    # The justification is the reason of this entry: the audit log keeps it even if the grant row is erased.
    uow.audit.record(
        actor,
        AuditAction.BREAK_GLASS,
        resource_type="break_glass_grant",
        resource_id=grant.id,
        case_id=case.id,
        reason=command.justification,
        basis=grant.id,
    )
    return grant


async def disclosure_preview(
    uow: CaseUnitOfWork, case_id: UUID, recipient: Party, purpose: Purpose, *, actor: Principal, now: datetime
) -> DisclosurePreview:
    """The consent dry-run (data-protection.md §2.5), owner only: which categories and fields would leave for
    `recipient` and `purpose`, under which consent, and which would not and why."""
    refuse_forbidden_purpose(uow, actor, purpose, resource_type="disclosure_preview")
    case, facts, _ = await writable_case_and_facts(
        uow, case_id, _OWNERSHIP, actor=actor, now=now, owner_only=True, lock=False
    )
    dry_run = disclosure(actor, facts, recipient, purpose, now=now)
    fields = fields_by_category()
    basis = {c: d.basis for c, d in dry_run.allowed.items()}
    uow.audit.record(
        actor,
        AuditAction.VIEW,
        resource_type="disclosure_preview",
        resource_id=case.id,
        case_id=case.id,
        categories=sorted(dry_run.allowed),
        purpose=purpose,
    )
    return DisclosurePreview(
        case_id=case.id,
        purpose=purpose,
        recipient=Recipient(
            office_id=recipient.office_id,
            organisation_id=recipient.organisation_id,
            organisation_type=recipient.organisation_type,
            country=recipient.country,
        ),
        disclosed=[
            DisclosedCategory(category=c, fields=fields.get(c, []), consent_id=b if isinstance(b, UUID) else None)
            for c, b in sorted(basis.items())
        ],
        withheld=[
            WithheldCategory(
                category=c,
                reason=d.reason,
                fields=fields.get(c, []),
                consent_id=d.basis if isinstance(d.basis, UUID) else None,
            )
            for c, d in sorted(dry_run.withheld.items())
        ],
    )
