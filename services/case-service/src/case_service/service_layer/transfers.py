"""Cross-border case transfer: propose, preview, accept, decline, cancel, and the deadline and consent sweeps.

One auditable process kept entirely in PostgreSQL: every step is a row change, an outbox event and an audit entry
(``resource_type`` ``case_transfer``) in one transaction, so a restart of any process between two steps loses
nothing. Consent decisions go through the shared policy: the owner's dry-run with
:func:`casebridge_common.access.disclosure` at the proposal, and a fresh :func:`~casebridge_common.access.consent_for`
check of every previewed category for the same recipient at acceptance and in the sweep (by then the caller is not
the owner, so ``disclose`` itself would be refused as ``not-owner``).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from case_service.domain.errors import (
    CaseNotActive,
    CaseNotFound,
    ConsentRequired,
    NotTransferRecipient,
    TransferAlreadyPending,
    TransferNotFound,
)
from case_service.domain.models import Case
from case_service.domain.sharing import CaseShare
from case_service.domain.stages import is_active
from case_service.domain.transfers import (
    CONSENT_WITHDRAWN_REASON,
    HANDOVER_PURPOSE,
    CaseTransfer,
    TransferRole,
    TransferStatus,
    new_transfer,
)
from case_service.schemas import AssessmentRead, AssistanceRead, BeneficiaryRead, NoteRead, PlanRead
from case_service.schemas.transfers import (
    PREVIEW_NOTES,
    CancelTransfer,
    CaseSummary,
    DeclineTransfer,
    ProposeTransfer,
    TransferPreview,
    WithheldRead,
)
from case_service.service_layer import monitoring
from case_service.service_layer import projection as projection_reads
from case_service.service_layer.access import case_facts, writable_case
from case_service.unit_of_work import CaseUnitOfWork
from casebridge_common.access import (
    CaseFacts,
    DataCategory,
    Decision,
    Party,
    Projection,
    Reason,
    ShareMode,
    consent_for,
    disclosure,
)
from casebridge_common.audit import AuditAction
from casebridge_common.auth import Principal
from casebridge_common.events.contracts.case import (
    CaseShared,
    CaseTransferEnded,
    CaseTransferProposed,
    CaseTransferred,
    CaseTransferReminderDue,
    TransferOutcome,
)
from casebridge_common.http import require_if_match

RESOURCE = "case_transfer"
# The periodic job acts for no office; its audit entries name the service.
WORKER = Principal(
    subject="case-service.transfer-deadlines",
    client_id="case-service",
    organisation_id=None,
    office_id=None,
    country=None,
    scopes=frozenset(),
    roles=frozenset(),
)


@dataclass(frozen=True, slots=True)
class TransferTimers:
    respond_within: timedelta
    remind_after: timedelta


def _office(actor: Principal) -> str:
    assert actor.office_id is not None  # noqa: S101 - the routers require an office claim
    return actor.office_id


def _audit(uow: CaseUnitOfWork, actor: Principal, action: AuditAction, transfer: CaseTransfer) -> None:
    uow.audit.record(
        actor,
        action,
        resource_type=RESOURCE,
        resource_id=transfer.id,
        case_id=transfer.case_id,
        categories=[str(c) for c in transfer.terms().categories],
        purpose=HANDOVER_PURPOSE,
    )


def _audit_refusal(uow: CaseUnitOfWork, actor: Principal, case_id: UUID, transfer_id: UUID | None) -> None:
    """A handover refused for want of consent; denied entries survive the rollback that follows."""
    uow.audit.record(
        actor,
        AuditAction.DISCLOSE,
        resource_type=RESOURCE,
        resource_id=transfer_id,
        case_id=case_id,
        purpose=HANDOVER_PURPOSE,
        outcome="denied",
        reason=Reason.NO_CONSENT,
    )


def _still_covered(transfer: CaseTransfer, facts: CaseFacts, now: datetime) -> dict[DataCategory, Decision]:
    return {
        c: consent_for(facts, c, HANDOVER_PURPOSE, transfer.recipient, now=now) for c in transfer.terms().categories
    }


def _ended(transfer: CaseTransfer, outcome: TransferOutcome) -> CaseTransferEnded:
    assert transfer.decided_at is not None  # noqa: S101 - set by the transition that ended it
    return CaseTransferEnded(
        case_id=transfer.case_id,
        transfer_id=transfer.id,
        from_office_id=transfer.from_office_id,
        to_office_id=transfer.to_office_id,
        outcome=outcome,
        reason=transfer.reason,
        ended_at=transfer.decided_at,
    )


async def _visible(uow: CaseUnitOfWork, transfer_id: UUID, actor: Principal) -> CaseTransfer:
    transfer = await uow.transfers.get_visible(transfer_id, office_id=_office(actor))
    if transfer is None:
        uow.audit.record(actor, AuditAction.VIEW, resource_type=RESOURCE, resource_id=transfer_id, outcome="denied")
        raise TransferNotFound(transfer_id=transfer_id)
    return transfer


async def propose_transfer(
    uow: CaseUnitOfWork,
    case_id: UUID,
    command: ProposeTransfer,
    *,
    actor: Principal,
    timers: TransferTimers,
    now: datetime,
) -> CaseTransfer:
    """The owner office proposes to hand the case over. The consent dry-run decides what would leave; that answer
    is stored as the transfer's manifest. Emits `case.transfer_proposed`."""
    # owner_only: another office that can see the case gets 403, one that cannot 404; the category only labels
    # the audit entry of such a refusal
    case, _ = await writable_case(uow, case_id, DataCategory.IDENTITY_BIODATA, actor=actor, now=now, owner_only=True)
    if not is_active(case.stage):
        raise CaseNotActive(stage=case.stage)
    if (pending := await uow.transfers.pending_of_case(case.id)) is not None:
        raise TransferAlreadyPending(transfer_id=pending.id)
    recipient = Party(
        office_id=command.to_office_id, organisation_id=command.to_organisation_id, country=command.to_country
    )
    dry_run = disclosure(actor, await case_facts(uow, case, now=now), recipient, HANDOVER_PURPOSE, now=now)
    try:
        transfer = new_transfer(
            case_id=case.id,
            from_office_id=case.owner_office_id,
            from_organisation_id=case.owner_organisation_id,
            recipient=recipient,
            proposed_by=actor.subject,
            dry_run=dry_run,
            now=now,
            respond_by=command.respond_by or now + timers.respond_within,
            remind_after=timers.remind_after,
        )
    except ConsentRequired:
        _audit_refusal(uow, actor, case.id, None)
        raise
    uow.transfers.add(transfer)
    uow.outbox.emit(
        CaseTransferProposed(
            case_id=case.id,
            transfer_id=transfer.id,
            from_office_id=transfer.from_office_id,
            to_office_id=transfer.to_office_id,
            proposed_at=transfer.proposed_at,
            remind_at=transfer.remind_at,
            respond_by=transfer.respond_by,
        )
    )
    _audit(uow, actor, AuditAction.CREATE, transfer)
    return transfer


def _preview_projection(transfer: CaseTransfer, still: dict[DataCategory, Decision]) -> Projection:
    """What the recipient may see before it answers: the previewed categories the consent still covers, and only
    while the transfer is pending (a declined or expired proposal gives it nothing)."""
    withheld: dict[DataCategory, Decision] = {
        w.category: Decision(False, Reason(w.reason)) for w in transfer.terms().withheld
    }
    if not transfer.pending:
        return Projection(visible=True, withheld=withheld)
    allowed = {c: d for c, d in still.items() if d.allowed}
    return Projection(
        visible=True, allowed=allowed, withheld=withheld | {c: d for c, d in still.items() if not d.allowed}
    )


async def read_transfer(
    uow: CaseUnitOfWork, transfer_id: UUID, *, actor: Principal, now: datetime
) -> tuple[CaseTransfer, TransferPreview]:
    """The transfer with its consent-projected preview, for the sender and the proposed recipient only. The read
    is audited with the categories it returned, for purpose `cross_border_handover`."""
    transfer = await _visible(uow, transfer_id, actor)
    case = await uow.cases.get(transfer.case_id)
    if case is None:  # a foreign key guarantees the case; kept as the same 404 rather than an assertion
        raise TransferNotFound(transfer_id=transfer_id)
    terms = transfer.terms()
    still = _still_covered(transfer, await case_facts(uow, case, now=now), now)
    projection = _preview_projection(transfer, still)
    beneficiary = await uow.beneficiaries.get(case.beneficiary_id)
    views = [
        *([projection_reads.beneficiary_read(beneficiary, projection)] if beneficiary is not None else []),
        *(
            projection_reads.assessment_read(a, projection)
            for a in (await uow.assessments.latest_by_kind(case.id)).values()
        ),
        *(projection_reads.plan_read(p, projection) for p in await uow.plans.all_of(case.id)),
        *(projection_reads.assistance_read(i, projection) for i in await uow.assistance.of_case(case.id)),
        *(
            projection_reads.note_read(n, projection)
            for n in (await uow.notes.page(case.id, after=None, limit=PREVIEW_NOTES))[:PREVIEW_NOTES]
        ),
    ]
    shown = [read for read, view in views if view.returned]
    preview = TransferPreview(
        case=CaseSummary.model_validate(case, from_attributes=True),
        sections=terms.categories,
        withheld=[WithheldRead(category=c, reason=d.reason) for c, d in sorted(projection.withheld.items())],
        consent_still_covers=transfer.pending and not terms.not_covered(still),
        beneficiary=next((r for r in shown if isinstance(r, BeneficiaryRead)), None),
        assessments=[r for r in shown if isinstance(r, AssessmentRead)],
        plans=[r for r in shown if isinstance(r, PlanRead)],
        assistance=[r for r in shown if isinstance(r, AssistanceRead)],
        notes=[r for r in shown if isinstance(r, NoteRead)],
    )
    returned, _ = projection_reads.returned_and_withheld(view for _, view in views)
    projection_reads.audit_read(
        uow,
        actor,
        AuditAction.VIEW,
        resource_type=RESOURCE,
        resource_id=transfer.id,
        case_id=case.id,
        projection=projection,
        purpose=HANDOVER_PURPOSE,
        returned=returned,
    )
    return transfer, preview


async def list_transfers(
    uow: CaseUnitOfWork,
    *,
    actor: Principal,
    role: TransferRole | None,
    status: TransferStatus | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[CaseTransfer]:
    rows = await uow.transfers.page(office_id=_office(actor), role=role, status=status, after=after, limit=limit)
    uow.audit.record(actor, AuditAction.LIST, resource_type=RESOURCE, resource_id=None, purpose=HANDOVER_PURPOSE)
    return rows


async def _locked(uow: CaseUnitOfWork, transfer_id: UUID, actor: Principal) -> tuple[CaseTransfer, Case]:
    """The transfer and its case, both under row locks, always the case first: acceptance changes the case, and
    every writer of a case takes its lock before anything else, so two steps never deadlock."""
    seen = await _visible(uow, transfer_id, actor)
    case = await uow.cases.get(seen.case_id, for_update=True)
    transfer = await uow.transfers.get_visible(transfer_id, office_id=_office(actor), for_update=True)
    if case is None or transfer is None:
        raise TransferNotFound(transfer_id=transfer_id)
    return transfer, case


async def accept_transfer(
    uow: CaseUnitOfWork, transfer_id: UUID, *, actor: Principal, if_match: str | None, now: datetime
) -> tuple[CaseTransfer, Case]:
    """The recipient takes the case over. Consent is checked again now: every previewed category must still be
    covered, or nothing changes (403 `consent-required`; the sweep then cancels the transfer).

    Ownership moves to the recipient with everything recorded on the case: plan, assessments, assistance history
    and notes. Categories the manifest withheld stay on the case but are held back from the new owner
    (:func:`case_service.domain.transfers.held_back`). The former owner keeps a `view` share, which the policy
    bounds by consent like any share. Emits `case.transferred` and `case.shared`.
    """
    transfer, case = await _locked(uow, transfer_id, actor)
    if _office(actor) != transfer.to_office_id:
        raise NotTransferRecipient(transfer_id=transfer.id)
    require_if_match(if_match, transfer.version)
    if not is_active(case.stage):
        raise CaseNotActive(stage=case.stage)
    facts = await case_facts(uow, case, now=now)
    try:
        transfer.accept(
            office_id=_office(actor), by=actor.subject, now=now, still_covered=_still_covered(transfer, facts, now)
        )
    except ConsentRequired:
        _audit_refusal(uow, actor, case.id, transfer.id)
        raise
    former_owner = case.owner_office_id
    case.owner_office_id, case.owner_organisation_id = transfer.to_office_id, transfer.to_organisation_id
    case.assigned_worker = None  # the receiving office assigns its own case manager (referrals.md §8.2 ACCEPTED)
    case.version += 1  # under the case's row lock: concurrent writers of the case serialise here
    share = CaseShare(
        case_id=case.id, office_id=former_owner, mode=ShareMode.VIEW, granted_by=actor.subject, granted_at=now
    )
    uow.shares.add(share)
    uow.outbox.emit(
        CaseTransferred(
            case_id=case.id,
            transfer_id=transfer.id,
            from_office_id=transfer.from_office_id,
            to_office_id=transfer.to_office_id,
            to_organisation_id=transfer.to_organisation_id,
            case_version=case.version,
            transferred_at=now,
        )
    )
    uow.outbox.emit(
        CaseShared(
            case_id=case.id,
            share_id=share.id,
            owner_office_id=case.owner_office_id,
            office_id=former_owner,
            mode=ShareMode.VIEW,
            expires_at=None,
        )
    )
    _audit(uow, actor, AuditAction.DISCLOSE, transfer)
    uow.audit.record(
        actor,
        AuditAction.UPDATE,
        resource_type="case",
        resource_id=case.id,
        categories=[str(c) for c in transfer.terms().categories],
        purpose=HANDOVER_PURPOSE,
    )
    await monitoring.emit_profile(uow, case, now=now)  # the new owner organisation's consent decides now
    return transfer, case


async def decline_transfer(
    uow: CaseUnitOfWork,
    transfer_id: UUID,
    command: DeclineTransfer,
    *,
    actor: Principal,
    if_match: str | None,
    now: datetime,
) -> CaseTransfer:
    """The recipient refuses the case; ownership stays with the sender. Emits `case.transfer_ended` (declined)."""
    transfer, _ = await _locked(uow, transfer_id, actor)
    if if_match is not None:
        require_if_match(if_match, transfer.version)
    transfer.decline(office_id=_office(actor), by=actor.subject, reason=command.reason, now=now)
    uow.outbox.emit(_ended(transfer, TransferOutcome.DECLINED))
    _audit(uow, actor, AuditAction.UPDATE, transfer)
    return transfer


async def cancel_transfer(
    uow: CaseUnitOfWork,
    transfer_id: UUID,
    command: CancelTransfer,
    *,
    actor: Principal,
    if_match: str | None,
    now: datetime,
) -> CaseTransfer:
    """The sender withdraws its proposal before it is answered. Emits `case.transfer_ended` (cancelled)."""
    transfer, _ = await _locked(uow, transfer_id, actor)
    if if_match is not None:
        require_if_match(if_match, transfer.version)
    transfer.cancel(office_id=_office(actor), by=actor.subject, reason=command.reason, now=now)
    uow.outbox.emit(_ended(transfer, TransferOutcome.CANCELLED))
    _audit(uow, actor, AuditAction.UPDATE, transfer)
    return transfer


async def remind_or_expire(uow: CaseUnitOfWork, *, now: datetime, limit: int) -> int:
    """One batch of due transfers: past the deadline → expired (`case.transfer_ended`); past the reminder time
    and not yet reminded → `case.transfer_reminder_due`, once. Rows another worker holds are skipped. Returns
    how many rows the batch claimed; the job's next round takes the rest."""
    due = await uow.transfers.claim_due(now=now, limit=limit)
    for transfer in due:
        if transfer.overdue(now):
            transfer.end_unanswered(TransferOutcome.EXPIRED, by=WORKER.subject, reason=None, now=now)
            uow.outbox.emit(_ended(transfer, TransferOutcome.EXPIRED))
        else:
            transfer.mark_reminded(now)
            uow.outbox.emit(
                CaseTransferReminderDue(
                    case_id=transfer.case_id,
                    transfer_id=transfer.id,
                    from_office_id=transfer.from_office_id,
                    to_office_id=transfer.to_office_id,
                    respond_by=transfer.respond_by,
                )
            )
        _audit(uow, WORKER, AuditAction.UPDATE, transfer)
    return len(due)


async def cancel_uncovered(uow: CaseUnitOfWork, *, now: datetime) -> int:
    """Every pending transfer whose consent no longer covers every previewed category is cancelled with reason
    `consent_withdrawn` (data-protection.md §2.4 item 5). There is at most one pending transfer per case, so one
    pass over them all fits a transaction; rows another worker holds are skipped. Returns how many it cancelled."""
    cancelled = 0
    for transfer in await uow.transfers.claim_pending():
        case = await uow.cases.get(transfer.case_id)
        if case is None:
            raise CaseNotFound(case_id=transfer.case_id)
        if not transfer.terms().not_covered(_still_covered(transfer, await case_facts(uow, case, now=now), now)):
            continue
        transfer.end_unanswered(TransferOutcome.CANCELLED, by=WORKER.subject, reason=CONSENT_WITHDRAWN_REASON, now=now)
        uow.outbox.emit(_ended(transfer, TransferOutcome.CANCELLED))
        _audit(uow, WORKER, AuditAction.UPDATE, transfer)
        cancelled += 1
    return cancelled
