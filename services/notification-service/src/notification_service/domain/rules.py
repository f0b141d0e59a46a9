"""Who is told what: CloudEvent type → the inbox notices it produces. A new rule is one entry in RULES."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from uuid import UUID

from casebridge_common.events.contracts.case import (
    BreakGlassUsed,
    CaseFollowUpDue,
    CaseOpened,
    CaseShared,
    CaseTransferEnded,
    CaseTransferProposed,
    CaseTransferred,
    CaseTransferReminderDue,
    FollowUpPhase,
    Programme,
    TransferOutcome,
    VisitKind,
)
from casebridge_common.events.contracts.consent import ConsentWithdrawalReceiptOverdue
from casebridge_common.events.contracts.scoring import Administration, SurveyDue
from notification_service.domain.models import InboxKind


@dataclass(frozen=True, slots=True)
class Notice:
    """One inbox item to create: for an office or an organisation, optionally for one user of it."""

    kind: InboxKind
    title: str
    case_id: UUID | None
    office_id: str | None = None
    organisation_id: str | None = None
    recipient_subject: str | None = None
    params: dict[str, str] = field(default_factory=dict)  # the e-mail templates' variables: no personal data
    urgent: bool = False  # mailed and texted at once: no quiet hours, no digest
    # created at most once per key, whichever event (or re-emission of it) carries it
    once_key: str | None = None


Rule = Callable[[Mapping[str, object]], list[Notice]]

_PROGRAMME_LABEL = {
    Programme.RETURN_REINTEGRATION: "return & reintegration",
    Programme.RESETTLEMENT_INTEGRATION: "resettlement & integration",
}


def case_opened(data: Mapping[str, object]) -> list[Notice]:
    opened = CaseOpened.model_validate(data)
    return [
        Notice(
            kind=InboxKind.CASE_OPENED,
            title=f"New {_PROGRAMME_LABEL[opened.programme]} case opened",
            case_id=opened.case_id,
            office_id=opened.owner_office_id,
            params={"case_id": str(opened.case_id), "programme": _PROGRAMME_LABEL[opened.programme]},
        )
    ]


def survey_due(data: Mapping[str, object]) -> list[Notice]:
    due = SurveyDue.model_validate(data)
    label = {Administration.BASELINE: "Baseline", Administration.INTERMEDIARY: "Intermediary"}.get(
        due.administration, "Final"
    )
    return [
        Notice(
            kind=InboxKind.SURVEY_DUE,
            title=f"{label} {due.instrument} survey due by {due.due_on.isoformat()}",
            case_id=due.case_id,
            office_id=due.owner_office_id,
            params={
                "case_id": str(due.case_id),
                "administration": due.administration.value,
                "instrument": due.instrument,
                "due_on": due.due_on.isoformat(),
            },
        )
    ]


def case_shared(data: Mapping[str, object]) -> list[Notice]:
    shared = CaseShared.model_validate(data)
    return [
        Notice(
            kind=InboxKind.CASE_SHARED,
            title=f"Case shared with your office by {shared.owner_office_id} ({shared.mode.value})",
            case_id=shared.case_id,
            office_id=shared.office_id,
            params={
                "case_id": str(shared.case_id),
                "owner_office_id": shared.owner_office_id,
                "mode": shared.mode.value,
                "expires_at": "" if shared.expires_at is None else shared.expires_at.date().isoformat(),
            },
        )
    ]


def case_transfer_proposed(data: Mapping[str, object]) -> list[Notice]:
    proposed = CaseTransferProposed.model_validate(data)
    respond_by = proposed.respond_by.date().isoformat()
    return [
        Notice(
            kind=InboxKind.CASE_TRANSFER_PROPOSED,
            title=f"Case transfer proposed by {proposed.from_office_id}: answer by {respond_by}",
            case_id=proposed.case_id,
            office_id=proposed.to_office_id,
            params=_transfer_params(proposed.case_id, proposed.from_office_id, proposed.to_office_id)
            | {"transfer_id": str(proposed.transfer_id), "respond_by": respond_by},
        )
    ]


def case_transfer_reminder_due(data: Mapping[str, object]) -> list[Notice]:
    due = CaseTransferReminderDue.model_validate(data)
    respond_by = due.respond_by.date().isoformat()
    return [
        Notice(
            kind=InboxKind.CASE_TRANSFER_REMINDER,
            title=f"Reminder: the case transfer from {due.from_office_id} awaits your answer by {respond_by}",
            case_id=due.case_id,
            office_id=due.to_office_id,
            params=_transfer_params(due.case_id, due.from_office_id, due.to_office_id)
            | {"transfer_id": str(due.transfer_id), "respond_by": respond_by},
        )
    ]


def case_transferred(data: Mapping[str, object]) -> list[Notice]:
    transferred = CaseTransferred.model_validate(data)
    return [
        Notice(
            kind=InboxKind.CASE_TRANSFERRED,
            title=f"Case transfer accepted: {transferred.to_office_id} owns the case now",
            case_id=transferred.case_id,
            office_id=transferred.from_office_id,
            params=_transfer_params(transferred.case_id, transferred.from_office_id, transferred.to_office_id),
        )
    ]


_OUTCOME_LABEL = {
    TransferOutcome.DECLINED: "declined",
    TransferOutcome.EXPIRED: "expired unanswered",
    TransferOutcome.CANCELLED: "cancelled",
}


def case_transfer_ended(data: Mapping[str, object]) -> list[Notice]:
    """The sender is told; so is the receiving office when the proposal it holds lapsed without its answer."""
    ended = CaseTransferEnded.model_validate(data)
    outcome = _OUTCOME_LABEL[ended.outcome]
    params = _transfer_params(ended.case_id, ended.from_office_id, ended.to_office_id) | {
        "outcome": ended.outcome.value
    }
    offices = [ended.from_office_id]
    if ended.outcome is not TransferOutcome.DECLINED:
        offices.append(ended.to_office_id)
    return [
        Notice(
            kind=InboxKind.CASE_TRANSFER_ENDED,
            title=f"Case transfer from {ended.from_office_id} to {ended.to_office_id} {outcome}",
            case_id=ended.case_id,
            office_id=office_id,
            params=params,
        )
        for office_id in offices
    ]


def break_glass_used(data: Mapping[str, object]) -> list[Notice]:
    """data-protection.md §5: the owner office is told at once that someone outside the case's access rules
    opened it; the justification stays in case-service's audit log."""
    used = BreakGlassUsed.model_validate(data)
    actor = used.actor_subject if used.actor_office_id is None else f"{used.actor_subject} ({used.actor_office_id})"
    until = f"{used.expires_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    return [
        Notice(
            kind=InboxKind.BREAK_GLASS_USED,
            title=f"Urgent: emergency access to a case by {actor}, until {until}",
            case_id=used.case_id,
            office_id=used.owner_office_id,
            params={
                "case_id": str(used.case_id),
                "actor": actor,
                "expires_at": until,
            },
            urgent=True,
        )
    ]


_VISIT_LABEL = {VisitKind.HOME_VISIT: "home visit", VisitKind.PHONE: "phone call", VisitKind.OFFICE: "office visit"}
_PHASE_LABEL = {FollowUpPhase.FOLLOW_UP: "follow-up", FollowUpPhase.POST_CLOSURE: "post-closure monitoring"}


def case_follow_up_due(data: Mapping[str, object]) -> list[Notice]:
    """reintegration.md (follow-up and review): an overdue visit escalates to the owning office's case team,
    once per visit. Only what the event carries: the ids, the visit's kind, phase and planned day."""
    due = CaseFollowUpDue.model_validate(data)
    planned_on = due.planned_on.isoformat()
    return [
        Notice(
            kind=InboxKind.FOLLOW_UP_DUE,
            title=f"Overdue {_PHASE_LABEL[due.phase]} {_VISIT_LABEL[due.kind]} planned for {planned_on}",
            case_id=due.case_id,
            office_id=due.owner_office_id,
            params={
                "case_id": str(due.case_id),
                "visit_id": str(due.visit_id),
                "phase": due.phase.value,
                "visit_kind": due.kind.value,
                "planned_on": planned_on,
            },
            once_key=f"follow-up-visit:{due.visit_id}",
        )
    ]


def withdrawal_receipt_overdue(data: Mapping[str, object]) -> list[Notice]:
    """data-protection.md §2.4.4: a holder of copies did not confirm a consent withdrawal in time; the owning
    office's data controller follows it up. Addressed to the office (the inbox has no role addressing), urgent,
    once per withdrawal and holder; no case id, so the notice names only the withdrawal and the holder."""
    overdue = ConsentWithdrawalReceiptOverdue.model_validate(data)
    deadline = f"{overdue.acknowledge_by.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    return [
        Notice(
            kind=InboxKind.WITHDRAWAL_RECEIPT_OVERDUE,
            title=f"Urgent: {overdue.holder} has not confirmed a consent withdrawal due {deadline}",
            case_id=None,
            office_id=overdue.owner_office_id,
            params={
                "withdrawal_id": str(overdue.withdrawal_id),
                "consent_id": str(overdue.consent_id),
                "holder": overdue.holder,
                "acknowledge_by": deadline,
            },
            urgent=True,
            once_key=f"withdrawal-receipt:{overdue.withdrawal_id}:{overdue.holder}",
        )
    ]


def _transfer_params(case_id: UUID, from_office_id: str, to_office_id: str) -> dict[str, str]:
    return {"case_id": str(case_id), "from_office_id": from_office_id, "to_office_id": to_office_id}


RULES: dict[str, Rule] = {
    CaseOpened.type: case_opened,
    SurveyDue.type: survey_due,
    CaseShared.type: case_shared,
    CaseTransferProposed.type: case_transfer_proposed,
    CaseTransferReminderDue.type: case_transfer_reminder_due,
    CaseTransferred.type: case_transferred,
    CaseTransferEnded.type: case_transfer_ended,
    BreakGlassUsed.type: break_glass_used,
    CaseFollowUpDue.type: case_follow_up_due,
    ConsentWithdrawalReceiptOverdue.type: withdrawal_receipt_overdue,
}


def notices_for(event_type: str, data: Mapping[str, object]) -> list[Notice]:
    """The notices an event produces; an event type without a rule produces none."""
    rule = RULES.get(event_type)
    return rule(data) if rule is not None else []
