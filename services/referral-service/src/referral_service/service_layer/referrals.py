"""Referral use cases. Each loads under a row lock, asks the domain, emits in the same transaction, never commits."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from casebridge_common.access import DataCategory, Party, Role, disclosure
from casebridge_common.audit import AuditAction, AuditOutcome
from casebridge_common.auth import Principal, Scope
from casebridge_common.events.contracts.referral import (
    Deadline,
    ReferralAccepted,
    ReferralAcknowledged,
    ReferralCancelled,
    ReferralCompleted,
    ReferralDeadlineMissed,
    ReferralDeclined,
    ReferralEvent,
    ReferralExpired,
    ReferralRedirected,
    ReferralSent,
    ReferralStarted,
    ServiceCategory,
    Urgency,
)
from casebridge_common.http import require_if_match
from referral_service.domain.access import relation_to
from referral_service.domain.deadlines import (
    DueDates,
    SlaProfile,
    due_dates,
    is_expired,
    missed_deadlines,
    resolve_urgency,
)
from referral_service.domain.errors import (
    CaseNotFound,
    CategoryRequired,
    ConsentRequired,
    DeadlineOverrideNotAllowed,
    NotReferralDestination,
    NotReferralSender,
    PathwayConsentRequired,
    ProviderFeedbackConsentRequired,
    ReferralNotFound,
    ReferralPreviewOutdated,
    SelfReferral,
    ServiceNotAcceptingReferrals,
    UnknownDestination,
)
from referral_service.domain.fallback import fallback_candidates, first_accepting, missing_categories
from referral_service.domain.feedback import feedback_consent
from referral_service.domain.lifecycle import Action, ReferralStatus, Side, next_status
from referral_service.domain.models import (
    CaseProjection,
    Disclosure,
    FallbackRedirect,
    RedirectOutcome,
    Referral,
    SnapshotRedaction,
)
from referral_service.domain.snapshot import (
    PURPOSE,
    allowed_categories,
    build_snapshot,
    discloser,
    free_text_withheld,
)
from referral_service.repositories import ReferralFilter
from referral_service.repositories.referrals import addressed_to
from referral_service.schemas import CancelReferral, CompleteReferral, CreateReferral, DeclineReferral
from referral_service.service_layer.cases import RESOURCE, SERVICE_ACTOR, case_facts
from referral_service.unit_of_work import ReferralUnitOfWork


@dataclass(frozen=True, slots=True)
class DeadlinePolicy:
    profiles: dict[Urgency, SlaProfile]
    expiry: timedelta
    allow_overrides: bool


@dataclass(frozen=True, slots=True)
class _Resolved:
    organisation_id: str
    office_id: str | None
    service_id: str | None
    country: str
    category: ServiceCategory | None


async def _resolve_destination(uow: ReferralUnitOfWork, body: CreateReferral) -> _Resolved:
    target = body.destination
    if target.service_id is not None:
        service = await uow.directory.service(target.service_id)
        if service is None:
            raise UnknownDestination(pointer="#/destination/service_id", service_id=target.service_id)
        if not service.accepting_referrals:
            raise ServiceNotAcceptingReferrals(service_id=service.id, status=str(service.status))
        return _Resolved(service.organisation_id, None, service.id, service.service_area_country, service.category)
    if target.office_id is not None:
        office = await uow.directory.office(target.office_id)
        if office is None:
            raise UnknownDestination(pointer="#/destination/office_id", office_id=target.office_id)
        return _Resolved(office.organisation_id, office.id, None, office.country, None)
    organisation = await uow.directory.organisation(str(target.organisation_id))
    if organisation is None:
        raise UnknownDestination(pointer="#/destination/organisation_id", organisation_id=target.organisation_id)
    return _Resolved(organisation.id, None, None, organisation.country, None)


async def _recipient(uow: ReferralUnitOfWork, referral: Referral) -> Party:
    """The destination as a consent names recipients. Its organisation type is the directory's: the category of
    the service referred to, or else the kind of organisation."""
    organisation_type: str | None = None
    if referral.destination_service_id is not None:
        service = await uow.directory.service(referral.destination_service_id)
        organisation_type = str(service.category) if service is not None else None
    else:
        organisation = await uow.directory.organisation(referral.destination_organisation_id)
        organisation_type = str(organisation.kind) if organisation is not None else None
    return Party(
        office_id=referral.destination_office_id,
        organisation_id=referral.destination_organisation_id,
        organisation_type=organisation_type,
        country=referral.destination_country,
    )


async def _snapshot(
    uow: ReferralUnitOfWork,
    referral: Referral,
    case: CaseProjection,
    recipient: Party,
    *,
    actor: Principal,
    now: datetime,
) -> dict[str, object]:
    """The consent dry-run for this destination and purpose, under the consents in force `now`."""
    projection = disclosure(discloser(actor), await case_facts(uow, case), recipient, PURPOSE, now=now)
    return build_snapshot(
        case_id=referral.case_id,
        programme=referral.programme,
        category=referral.category,
        urgency=referral.urgency,
        mhpss_level=referral.mhpss_level,
        reason=referral.reason,
        consent_reference=referral.consent_reference,
        recipient=recipient,
        projection=projection,
    )


async def create_referral(
    uow: ReferralUnitOfWork, body: CreateReferral, *, policy: DeadlinePolicy, actor: Principal, now: datetime
) -> Referral:
    """A draft referral of a case the caller's office owns, with the snapshot it would send (the preview)."""
    case = await uow.cases.get(body.case_id)
    if case is None or case.owner_office_id != actor.office_id:
        raise CaseNotFound(case_id=body.case_id)  # a disclosure is the owner's to make (access.decide)
    if body.acknowledge_within_s is not None and not policy.allow_overrides:
        raise DeadlineOverrideNotAllowed(pointer="#/acknowledge_within_s")
    destination = await _resolve_destination(uow, body)
    if destination.office_id is not None and destination.office_id == actor.office_id:
        raise SelfReferral()
    category = body.category or destination.category
    if category is None:
        raise CategoryRequired(pointer="#/category")
    urgency = resolve_urgency(body.urgency, body.mhpss_level, category)
    if body.fallback_service_id is not None and await uow.directory.service(body.fallback_service_id) is None:
        raise UnknownDestination(pointer="#/fallback_service_id", service_id=body.fallback_service_id)
    referral = Referral(
        case_id=case.case_id,
        programme=case.programme,
        referring_office_id=str(actor.office_id),
        referring_organisation_id=actor.organisation_id,
        referring_country=actor.country,
        requested_by=actor.subject,
        destination_organisation_id=destination.organisation_id,
        destination_office_id=destination.office_id,
        destination_service_id=destination.service_id,
        destination_country=destination.country,
        category=category,
        urgency=urgency,
        mhpss_level=body.mhpss_level,
        reason=body.reason,
        consent_reference=body.consent_reference,
        snapshot={},
        status=ReferralStatus.DRAFT,
        acknowledge_within_s=body.acknowledge_within_s,
        fallback_service_id=body.fallback_service_id,
        case_closed_at=case.closed_at,
        created_at=now,
        updated_at=now,
    )
    referral.snapshot = await _snapshot(uow, referral, case, await _recipient(uow, referral), actor=actor, now=now)
    uow.referrals.add(referral)
    uow.audit.record(actor, AuditAction.CREATE, resource_type=RESOURCE, resource_id=referral.id, case_id=case.case_id)
    return referral


def _facts(referral: Referral) -> dict[str, object]:
    return {
        "referral_id": referral.id,
        "case_id": referral.case_id,
        "referral_version": referral.version,
        "referring_office_id": referral.referring_office_id,
        "destination_organisation_id": referral.destination_organisation_id,
        "destination_office_id": referral.destination_office_id,
        "destination_service_id": referral.destination_service_id,
    }


def _side(referral: Referral, actor: Principal) -> Side | None:
    return relation_to(
        status=referral.status,
        referring_office_id=referral.referring_office_id,
        destination_organisation_id=referral.destination_organisation_id,
        destination_office_id=referral.destination_office_id,
        caller_organisation_id=actor.organisation_id,
        caller_office_id=actor.office_id,
    )


def free_text_withheld_from(referral: Referral, actor: Principal) -> str | None:
    """Why `actor` may no longer read the referral's free text: only ever the destination, after a consent
    withdrawal took back what the referral carried; the referring office keeps its own view."""
    if _side(referral, actor) != Side.DESTINATION:
        return None
    return free_text_withheld(referral.status, referral.snapshot)


async def read_referral(uow: ReferralUnitOfWork, referral_id: UUID, *, actor: Principal) -> Referral:
    referral = await uow.referrals.get(referral_id)
    if referral is None or _side(referral, actor) is None:
        raise ReferralNotFound(referral_id=referral_id)
    uow.audit.record(actor, AuditAction.VIEW, resource_type=RESOURCE, resource_id=referral.id)
    return referral


async def _load_for(
    uow: ReferralUnitOfWork, referral_id: UUID, side: Side, *, if_match: str | None, actor: Principal
) -> Referral:
    referral = await uow.referrals.get(referral_id, for_update=True)
    relation = None if referral is None else _side(referral, actor)
    if referral is None or relation is None:
        raise ReferralNotFound(referral_id=referral_id)
    if relation != side:
        raise (NotReferralDestination if side == Side.DESTINATION else NotReferralSender)(referral_id=referral_id)
    require_if_match(if_match, referral.version)
    return referral


def _advance(referral: Referral, action: Action, *, now: datetime) -> None:
    referral.status = next_status(referral.status, action)
    referral.version += 1  # bumped under the row lock: writers serialise and events leave in commit order
    referral.updated_at = now


async def send_referral(
    uow: ReferralUnitOfWork,
    referral_id: UUID,
    *,
    policy: DeadlinePolicy,
    if_match: str | None,
    actor: Principal,
    now: datetime,
) -> Referral:
    """Sends the draft with exactly the snapshot the sender previewed, and records the disclosure in the ledger;
    the deadlines for its urgency are fixed now. Emits `casebridge.referral.sent.v1`.

    Refused with `consent-required` when no consent in force lets any category go to the destination (R-C1),
    with `referral-preview-outdated` when the consents changed since the preview, and with
    `pathway-consent-required` when the snapshot lacks a category the pathway for the destination's country
    and the referral's category requires (referrals.md §4)."""
    referral = await _load_for(uow, referral_id, Side.SENDER, if_match=if_match, actor=actor)
    # the case row lock orders this send with a concurrent withdrawal of the beneficiary's consent
    case = await uow.cases.get(referral.case_id, for_update=True)
    if case is None:
        raise ReferralNotFound(referral_id=referral_id)
    recipient = await _recipient(uow, referral)
    current = await _snapshot(uow, referral, case, recipient, actor=actor, now=now)
    allowed = allowed_categories(current)
    if not allowed:
        uow.audit.record(
            actor,
            AuditAction.DISCLOSE,
            resource_type=RESOURCE,
            resource_id=referral.id,
            case_id=referral.case_id,
            purpose=PURPOSE,
            outcome=AuditOutcome.DENIED,
            reason="consent-required",
        )
        raise ConsentRequired(referral_id=referral_id, shared_data_manifest=current["shared_data_manifest"])
    if current != referral.snapshot:
        raise ReferralPreviewOutdated(referral_id=referral_id, shared_data_manifest=current["shared_data_manifest"])
    missing = missing_categories(await _required_categories(uow, referral), allowed)
    if missing:
        uow.audit.record(
            actor,
            AuditAction.DISCLOSE,
            resource_type=RESOURCE,
            resource_id=referral.id,
            case_id=referral.case_id,
            purpose=PURPOSE,
            outcome=AuditOutcome.DENIED,
            reason="pathway-consent-required",
        )
        raise PathwayConsentRequired(
            referral_id=referral_id,
            missing_categories=[str(c) for c in missing],
            shared_data_manifest=current["shared_data_manifest"],
        )
    _dispatch(uow, referral, recipient, allowed, policy=policy, actor=actor, now=now)
    return referral


async def _required_categories(uow: ReferralUnitOfWork, referral: Referral) -> list[str]:
    """The consent categories the pathway for the destination's country and the referral's category requires."""
    pathway = await uow.directory.pathway_for(referral.destination_country, referral.category)
    return list(pathway.required_consent_categories) if pathway is not None else []


def _dispatch(
    uow: ReferralUnitOfWork,
    referral: Referral,
    recipient: Party,
    allowed: dict[DataCategory, str],
    *,
    policy: DeadlinePolicy,
    actor: Principal,
    now: datetime,
) -> None:
    """Sends a draft whose snapshot passed the consent checks: fixes its deadlines, emits
    `casebridge.referral.sent.v1` and records the disclosure in the ledger and the audit log."""
    _advance(referral, Action.SEND, now=now)
    override = timedelta(seconds=referral.acknowledge_within_s) if referral.acknowledge_within_s else None
    due = due_dates(now, policy.profiles[referral.urgency], acknowledge_within=override)
    referral.sent_at = now
    referral.acknowledge_due_at, referral.first_contact_due_at = due.acknowledge, due.first_contact
    referral.outcome_due_at = due.outcome
    uow.outbox.emit(
        ReferralSent.model_validate(
            _facts(referral)
            | {
                "category": referral.category,
                "urgency": referral.urgency,
                "mhpss_level": referral.mhpss_level,
                "cross_border": referral.referring_country != referral.destination_country,
                "acknowledge_due_at": due.acknowledge,
                "first_contact_due_at": due.first_contact,
                "outcome_due_at": due.outcome,
            }
        )
    )
    uow.disclosures.add(
        Disclosure(
            referral_id=referral.id,
            case_id=referral.case_id,
            recipient_office_id=recipient.office_id,
            recipient_organisation_id=referral.destination_organisation_id,
            recipient_organisation_type=recipient.organisation_type,
            recipient_country=referral.destination_country,
            purpose=str(PURPOSE),
            categories=sorted(str(c) for c in allowed),
            consents={str(c): consent_id for c, consent_id in allowed.items()},
            disclosed_by=actor.subject,
            disclosed_at=now,
        )
    )
    uow.audit.record(
        actor,
        AuditAction.DISCLOSE,
        resource_type=RESOURCE,
        resource_id=referral.id,
        case_id=referral.case_id,
        categories=[str(c) for c in allowed],
        purpose=PURPOSE,
    )


async def refresh_preview(
    uow: ReferralUnitOfWork, referral_id: UUID, *, if_match: str | None, actor: Principal, now: datetime
) -> Referral:
    """Rebuild a draft's snapshot under the consents in force now: the new preview is what send will store."""
    referral = await _load_for(uow, referral_id, Side.SENDER, if_match=if_match, actor=actor)
    case = await uow.cases.get(referral.case_id)
    if case is None:
        raise ReferralNotFound(referral_id=referral_id)
    _advance(referral, Action.REFRESH_PREVIEW, now=now)
    referral.snapshot = await _snapshot(uow, referral, case, await _recipient(uow, referral), actor=actor, now=now)
    uow.audit.record(actor, AuditAction.UPDATE, resource_type=RESOURCE, resource_id=referral.id, purpose=PURPOSE)
    return referral


@dataclass(frozen=True, slots=True)
class DisclosureHistory:
    disclosures: list[Disclosure]
    redactions: list[SnapshotRedaction]


async def case_disclosures(
    uow: ReferralUnitOfWork, case_id: UUID, *, after: tuple[datetime, UUID] | None, limit: int, actor: Principal
) -> list[Disclosure]:
    """Every disclosure of a case's data through referrals, for the office that owns the case now: what a
    beneficiary's access request lists (to whom, what, when, under which consent)."""
    case = await uow.cases.get(case_id)
    if case is None or case.owner_office_id != actor.office_id:
        raise CaseNotFound(case_id=case_id)
    rows = await uow.disclosures.page_of_case(case_id, after=after, limit=limit)
    uow.audit.record(
        actor,
        AuditAction.LIST,
        resource_type="disclosure",
        resource_id=None,
        case_id=case_id,
        categories=sorted({c for d in rows for c in d.categories}),
        purpose="audit",
    )
    return rows


async def referral_disclosures(uow: ReferralUnitOfWork, referral_id: UUID, *, actor: Principal) -> DisclosureHistory:
    """The ledger of one referral, for its referring office: what left, to whom, when, under which consent,
    and what later withdrawals took back."""
    referral = await uow.referrals.get(referral_id)
    relation = None if referral is None else _side(referral, actor)
    if referral is None or relation is None:
        raise ReferralNotFound(referral_id=referral_id)
    if relation != Side.SENDER:
        raise NotReferralSender(referral_id=referral_id)
    history = DisclosureHistory(
        disclosures=await uow.disclosures.of_referral(referral_id),
        redactions=await uow.disclosures.redactions(referral_id),
    )
    uow.audit.record(
        actor,
        AuditAction.VIEW,
        resource_type="disclosure",
        resource_id=referral.id,
        case_id=referral.case_id,
        categories=sorted({c for d in history.disclosures for c in d.categories}),
        purpose="audit",
    )
    return history


async def respond(
    uow: ReferralUnitOfWork,
    referral_id: UUID,
    action: Action,
    *,
    if_match: str | None,
    actor: Principal,
    now: datetime,
    decline: DeclineReferral | None = None,
    complete: CompleteReferral | None = None,
) -> Referral:
    """The destination's steps: acknowledge, accept, decline (with a reason), start, complete (outcome + feedback).

    Texts back to the referring office (a decline note, an outcome summary, feedback) need the beneficiary's
    `provider_feedback` consent (R-C2); without it they are refused with `provider-feedback-consent-required`
    and only the status codes may be returned."""
    referral = await _load_for(uow, referral_id, Side.DESTINATION, if_match=if_match, actor=actor)
    texts = [
        t
        for t in (
            decline.note if decline else None,
            complete.outcome_summary if complete else None,
            complete.feedback if complete else None,
        )
        if t is not None
    ]
    if texts:
        await _require_feedback_consent(uow, referral, now=now)
    _advance(referral, action, now=now)
    event: ReferralEvent
    if action == Action.ACKNOWLEDGE:
        referral.acknowledged_at = now
        event = ReferralAcknowledged.model_validate(_facts(referral))
    elif action == Action.ACCEPT:
        referral.accepted_at = now
        event = ReferralAccepted.model_validate(_facts(referral))
    elif action == Action.DECLINE:
        assert decline is not None  # noqa: S101 - the router passes the body
        referral.declined_at, referral.decline_reason, referral.decline_note = now, decline.reason, decline.note
        event = ReferralDeclined.model_validate(_facts(referral) | {"reason": decline.reason})
    elif action == Action.START:
        referral.started_at = now
        event = ReferralStarted.model_validate(_facts(referral))
    else:
        assert complete is not None  # noqa: S101 - the router passes the body
        referral.completed_at = now
        referral.service_delivered = complete.service_delivered
        referral.outcome_summary, referral.feedback = complete.outcome_summary, complete.feedback
        event = ReferralCompleted.model_validate(_facts(referral) | {"service_delivered": complete.service_delivered})
    uow.outbox.emit(event)
    uow.audit.record(actor, AuditAction.UPDATE, resource_type=RESOURCE, resource_id=referral.id, purpose="referral")
    return referral


async def _require_feedback_consent(uow: ReferralUnitOfWork, referral: Referral, *, now: datetime) -> None:
    case = await uow.cases.get(referral.case_id)
    organisation = (
        await uow.directory.organisation(referral.referring_organisation_id)
        if referral.referring_organisation_id is not None
        else None
    )
    referrer = Party(
        office_id=referral.referring_office_id,
        organisation_id=referral.referring_organisation_id,
        organisation_type=str(organisation.kind) if organisation is not None else None,
        country=referral.referring_country,
    )
    decision = feedback_consent(await case_facts(uow, case), referrer, now=now) if case is not None else None
    if decision is None or not decision.allowed:
        raise ProviderFeedbackConsentRequired(
            referral_id=referral.id, reason=str(decision.reason) if decision is not None else "no-consent"
        )


async def cancel_referral(
    uow: ReferralUnitOfWork,
    referral_id: UUID,
    body: CancelReferral,
    *,
    if_match: str | None,
    actor: Principal,
    now: datetime,
) -> Referral:
    """The referring office withdraws the referral before delivery. Emits `casebridge.referral.cancelled.v1`
    unless it was still a draft (the destination never saw it)."""
    referral = await _load_for(uow, referral_id, Side.SENDER, if_match=if_match, actor=actor)
    was_draft = referral.status == ReferralStatus.DRAFT
    _advance(referral, Action.CANCEL, now=now)
    referral.cancelled_at, referral.cancel_reason = now, body.reason
    if not was_draft:
        uow.outbox.emit(ReferralCancelled.model_validate(_facts(referral)))
    uow.audit.record(actor, AuditAction.UPDATE, resource_type=RESOURCE, resource_id=referral.id, purpose="referral")
    return referral


async def inbox(
    uow: ReferralUnitOfWork,
    filters: ReferralFilter,
    *,
    after: tuple[datetime, UUID] | None,
    limit: int,
    actor: Principal,
) -> list[Referral]:
    """Referrals addressed to the caller's organisation or office (never drafts)."""
    rows = await uow.referrals.page(
        addressed_to(str(actor.organisation_id), actor.office_id), filters, after=after, limit=limit
    )
    uow.audit.record(actor, AuditAction.LIST, resource_type=RESOURCE, resource_id=None, purpose="referral")
    return rows


async def outbox(
    uow: ReferralUnitOfWork,
    filters: ReferralFilter,
    *,
    after: tuple[datetime, UUID] | None,
    limit: int,
    actor: Principal,
) -> list[Referral]:
    """Referrals the caller's office made, drafts included."""
    rows = await uow.referrals.page(
        Referral.referring_office_id == actor.office_id,  # type: ignore[arg-type]
        filters,
        after=after,
        limit=limit,
    )
    uow.audit.record(actor, AuditAction.LIST, resource_type=RESOURCE, resource_id=None, purpose="referral")
    return rows


def _due(referral: Referral) -> DueDates | None:
    if referral.acknowledge_due_at is None or referral.first_contact_due_at is None or referral.outcome_due_at is None:
        return None
    return DueDates(referral.acknowledge_due_at, referral.first_contact_due_at, referral.outcome_due_at)


async def review_deadlines(uow: ReferralUnitOfWork, *, policy: DeadlinePolicy, now: datetime, limit: int = 200) -> int:
    """The worker's timer: emit `deadline_missed` once per (referral, deadline), redirect a referral whose
    acknowledgement was missed to its fallback when one is configured, and expire unanswered referrals.

    Exactly once: the (referral, deadline) primary key is claimed in the same transaction as the event row, and
    the redirect is decided in that same transaction; a second worker skips the locked rows.
    """
    emitted = 0
    for referral in await uow.referrals.due_for_review(now=now, expiry=policy.expiry, limit=limit):
        due = _due(referral)
        for deadline in missed_deadlines(referral.status, due, now=now):
            assert due is not None  # noqa: S101 - nothing is missed without due dates
            if await uow.referrals.record_missed(referral.id, deadline, due_at=due.of(deadline), now=now):
                uow.outbox.emit(
                    ReferralDeadlineMissed.model_validate(
                        _facts(referral)
                        | {"deadline": deadline, "due_at": due.of(deadline), "urgency": referral.urgency}
                    )
                )
                emitted += 1
                if deadline == Deadline.ACKNOWLEDGE:
                    emitted += await redirect_to_fallback(uow, referral, policy=policy, now=now)
        if is_expired(referral.status, referral.sent_at, policy.expiry, now=now):
            _advance(referral, Action.EXPIRE, now=now)
            referral.expired_at = now
            uow.outbox.emit(ReferralExpired.model_validate(_facts(referral)))
            emitted += 1
    return emitted


def _redirect_actor(referral: Referral) -> Principal:
    """The referring office as the redirect's discloser: the timer sends on its behalf, with the standing of
    the case manager who made the referral (the sensitive classes still need the beneficiary's consent)."""
    return Principal(
        subject=SERVICE_ACTOR.subject,
        client_id=SERVICE_ACTOR.client_id,
        organisation_id=referral.referring_organisation_id,
        office_id=referral.referring_office_id,
        country=referral.referring_country,
        scopes=frozenset({Scope.REFERRALS_SEND}),
        roles=frozenset({Role.CASE_MANAGER}),
    )


async def _tried_services(uow: ReferralUnitOfWork, referral: Referral) -> set[str]:
    """The services the chain of redirects that led to this referral went to already."""
    tried: set[str] = set()
    current: Referral | None = referral
    while current is not None:
        if current.destination_service_id is not None:
            tried.add(current.destination_service_id)
        previous = current.redirected_from_referral_id
        current = await uow.referrals.get(previous) if previous is not None else None
    return tried


async def redirect_to_fallback(
    uow: ReferralUnitOfWork, referral: Referral, *, policy: DeadlinePolicy, now: datetime
) -> int:
    """After a missed acknowledgement: when the referral names a fallback service or its pathway redirects,
    the referral ends (`expired`, `redirected_to_referral_id` set) and a new referral to the first fallback that
    accepts referrals is sent with a snapshot projected afresh for it, through the same consent dry-run as a
    normal send. When the consents in force would not let the fallback have what the original destination got
    and what the pathway requires, nothing is sent: the decision is recorded and only the escalation event
    stands. Returns the number of events emitted. Runs in the caller's transaction, the referral row locked."""
    pathway = await uow.directory.pathway_for(referral.destination_country, referral.category)
    candidates = fallback_candidates(
        explicit=referral.fallback_service_id,
        pathway_service_ids=pathway.service_ids if pathway is not None else [],
        pathway_redirects=pathway is not None and pathway.redirect_on_missed_acknowledgement,
        current_service_id=referral.destination_service_id,
        tried=await _tried_services(uow, referral),
    )
    if not candidates:
        return 0
    services = {c: await uow.directory.service(c) for c in candidates}
    chosen = first_accepting(candidates, {c: s is not None and s.accepting_referrals for c, s in services.items()})
    case = await uow.cases.get(referral.case_id, for_update=True)
    decision = FallbackRedirect(
        referral_id=referral.id,
        outcome=RedirectOutcome.NO_FALLBACK_ACCEPTING,
        fallback_service_id=chosen,
        decided_at=now,
    )
    uow.referrals.add_redirect(decision)
    if case is None or case.closed_at is not None:
        decision.outcome = RedirectOutcome.CASE_CLOSED
        return 0
    service = services[chosen] if chosen is not None else None
    if service is None:
        return 0
    actor = _redirect_actor(referral)
    fallback = Referral(
        case_id=referral.case_id,
        programme=referral.programme,
        referring_office_id=referral.referring_office_id,
        referring_organisation_id=referral.referring_organisation_id,
        referring_country=referral.referring_country,
        requested_by=referral.requested_by,
        destination_organisation_id=service.organisation_id,
        destination_service_id=service.id,
        destination_country=service.service_area_country,
        category=referral.category,
        urgency=referral.urgency,
        mhpss_level=referral.mhpss_level,
        reason=referral.reason,
        consent_reference=referral.consent_reference,
        snapshot={},
        status=ReferralStatus.DRAFT,
        acknowledge_within_s=referral.acknowledge_within_s,
        redirected_from_referral_id=referral.id,
        created_at=now,
        updated_at=now,
    )
    recipient = await _recipient(uow, fallback)
    fallback.snapshot = await _snapshot(uow, fallback, case, recipient, actor=actor, now=now)
    allowed = allowed_categories(fallback.snapshot)
    missing = missing_categories(
        [*allowed_categories(referral.snapshot), *await _required_categories(uow, fallback)], allowed
    )
    if not allowed or missing:
        decision.outcome = RedirectOutcome.CONSENT_NOT_COVERING
        decision.missing_categories = [str(c) for c in missing]
        uow.audit.record(
            actor,
            AuditAction.DISCLOSE,
            resource_type=RESOURCE,
            resource_id=referral.id,
            case_id=referral.case_id,
            purpose=PURPOSE,
            outcome=AuditOutcome.DENIED,
            reason="consent-required",
        )
        return 0
    await uow.referrals.insert(fallback)
    uow.audit.record(actor, AuditAction.CREATE, resource_type=RESOURCE, resource_id=fallback.id, case_id=case.case_id)
    _dispatch(uow, fallback, recipient, allowed, policy=policy, actor=actor, now=now)
    _advance(referral, Action.REDIRECT, now=now)
    referral.expired_at, referral.redirected_to_referral_id = now, fallback.id
    decision.outcome, decision.redirected_to_referral_id = RedirectOutcome.REDIRECTED, fallback.id
    assert referral.acknowledge_due_at is not None  # noqa: S101 - a missed acknowledgement had a due date
    uow.outbox.emit(
        ReferralRedirected.model_validate(
            _facts(referral)
            | {
                "redirected_to_referral_id": fallback.id,
                "fallback_organisation_id": service.organisation_id,
                "fallback_service_id": service.id,
                "due_at": referral.acknowledge_due_at,
            }
        )
    )
    uow.outbox.emit(ReferralExpired.model_validate(_facts(referral)))
    uow.audit.record(SERVICE_ACTOR, AuditAction.UPDATE, resource_type=RESOURCE, resource_id=referral.id)
    return 3
