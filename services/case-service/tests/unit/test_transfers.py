"""The transfer state machine and its guards, without I/O: time is an argument."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from case_service.domain.errors import (
    ConsentRequired,
    InvalidTransferDeadline,
    NotTransferRecipient,
    NotTransferSender,
    TransferNotPending,
    TransferToOwnOffice,
)
from case_service.domain.transfers import (
    CaseTransfer,
    TransferManifest,
    TransferStatus,
    held_back,
    hold_back,
    new_transfer,
    owner_projection,
    reminder_time,
)
from casebridge_common.access import CaseFacts, DataCategory, Decision, Party, Projection, Reason
from casebridge_common.events.contracts.case import TransferOutcome

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
CONSENT = UUID("5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d")
DAKAR = Party(office_id="sn-dakar", organisation_id="iom-senegal", country="SN")
ALLOWED = Decision(True, Reason.CONSENT, CONSENT)
NOT_COVERED = Decision(False, Reason.CONSENT_NOT_COVERING)
HANDED_OVER = (DataCategory.IDENTITY_BIODATA, DataCategory.REINTEGRATION_PLAN)


def dry_run(allowed: tuple[DataCategory, ...] = HANDED_OVER) -> Projection:
    return Projection(
        visible=True,
        allowed=dict.fromkeys(allowed, ALLOWED),
        withheld={c: NOT_COVERED for c in DataCategory if c not in allowed},
    )


def proposed(allowed: tuple[DataCategory, ...] = HANDED_OVER, respond_by: datetime | None = None) -> CaseTransfer:
    return new_transfer(
        case_id=uuid4(),
        from_office_id="de-berlin",
        from_organisation_id="iom-germany",
        recipient=DAKAR,
        proposed_by="anna.schmidt",
        dry_run=dry_run(allowed),
        now=NOW,
        respond_by=respond_by or NOW + timedelta(days=7),
        remind_after=timedelta(days=4),
    )


def still(*categories: DataCategory) -> dict[DataCategory, Decision]:
    return {c: ALLOWED if c in categories else NOT_COVERED for c in HANDED_OVER}


def test_a_proposal_stores_the_previewed_manifest_and_its_timers() -> None:
    transfer = proposed()
    terms = transfer.terms()
    assert (transfer.status, transfer.version) == (TransferStatus.PROPOSED, 1)
    assert terms.categories == sorted(HANDED_OVER)
    assert terms.consent_ids == [CONSENT]
    assert DataCategory.HEALTH_CLINICAL in {w.category for w in terms.withheld}
    assert {w.reason for w in terms.withheld} == {"consent-does-not-cover"}
    assert (transfer.remind_at, transfer.respond_by) == (NOW + timedelta(days=4), NOW + timedelta(days=7))
    assert transfer.recipient == DAKAR


def test_no_consented_category_refuses_the_proposal() -> None:
    with pytest.raises(ConsentRequired):
        proposed(allowed=())


def test_a_transfer_to_the_owner_office_is_refused() -> None:
    with pytest.raises(TransferToOwnOffice):
        new_transfer(
            case_id=uuid4(),
            from_office_id="sn-dakar",
            from_organisation_id=None,
            recipient=DAKAR,
            proposed_by="x",
            dry_run=dry_run(),
            now=NOW,
            respond_by=NOW + timedelta(days=7),
            remind_after=timedelta(days=4),
        )


@pytest.mark.parametrize("respond_by", [NOW, NOW - timedelta(hours=1), NOW + timedelta(days=91)])
def test_a_deadline_in_the_past_or_too_far_out_is_refused(respond_by: datetime) -> None:
    with pytest.raises(InvalidTransferDeadline):
        proposed(respond_by=respond_by)


def test_the_reminder_comes_half_way_when_the_deadline_is_sooner_than_the_reminder_interval() -> None:
    assert reminder_time(
        now=NOW, respond_by=NOW + timedelta(days=2), remind_after=timedelta(days=4)
    ) == NOW + timedelta(days=1)
    assert reminder_time(
        now=NOW, respond_by=NOW + timedelta(days=7), remind_after=timedelta(days=4)
    ) == NOW + timedelta(days=4)


def test_the_recipient_accepts_while_every_previewed_category_is_still_consented() -> None:
    transfer = proposed()
    transfer.accept(
        office_id="sn-dakar", by="moussa.diop", now=NOW + timedelta(days=1), still_covered=still(*HANDED_OVER)
    )
    assert (transfer.status, transfer.decided_by, transfer.version) == (TransferStatus.ACCEPTED, "moussa.diop", 2)


def test_acceptance_is_refused_when_the_consent_no_longer_covers_a_previewed_category() -> None:
    transfer = proposed()
    with pytest.raises(ConsentRequired) as refused:
        transfer.accept(office_id="sn-dakar", by="m", now=NOW, still_covered=still(DataCategory.IDENTITY_BIODATA))
    assert refused.value.context["categories"] == [DataCategory.REINTEGRATION_PLAN]
    assert (transfer.status, transfer.version) == (TransferStatus.PROPOSED, 1)


def test_only_the_recipient_accepts_or_declines_and_only_the_sender_cancels() -> None:
    transfer = proposed()
    with pytest.raises(NotTransferRecipient):
        transfer.accept(office_id="de-berlin", by="a", now=NOW, still_covered=still(*HANDED_OVER))
    with pytest.raises(NotTransferRecipient):
        transfer.decline(office_id="iq-erbil", by="k", reason="no", now=NOW)
    with pytest.raises(NotTransferSender):
        transfer.cancel(office_id="sn-dakar", by="m", reason=None, now=NOW)
    assert transfer.pending


def _decline(t: CaseTransfer) -> None:
    t.decline(office_id="sn-dakar", by="m", reason="outside_area", now=NOW)


def _cancel(t: CaseTransfer) -> None:
    t.cancel(office_id="de-berlin", by="a", reason=None, now=NOW)


def _expire(t: CaseTransfer) -> None:
    t.end_unanswered(TransferOutcome.EXPIRED, by="job", reason=None, now=NOW)


def _accept(t: CaseTransfer) -> None:
    t.accept(office_id="sn-dakar", by="m", now=NOW, still_covered=still(*HANDED_OVER))


def _withdraw_consent(t: CaseTransfer) -> None:
    t.end_unanswered(TransferOutcome.CANCELLED, by="job", reason="consent_withdrawn", now=NOW)


ENDINGS: list[Callable[[CaseTransfer], None]] = [_decline, _cancel, _expire, _accept]


@pytest.mark.parametrize("end", ENDINGS)
def test_an_ended_transfer_accepts_no_further_transition(end: Callable[[CaseTransfer], None]) -> None:
    transfer = proposed()
    end(transfer)
    for again in [*ENDINGS, _withdraw_consent]:
        with pytest.raises(TransferNotPending):
            again(transfer)


def test_at_the_deadline_the_recipient_can_no_longer_answer_but_the_sender_can_still_cancel() -> None:
    transfer = proposed()
    deadline = transfer.respond_by
    with pytest.raises(TransferNotPending):
        transfer.accept(office_id="sn-dakar", by="m", now=deadline, still_covered=still(*HANDED_OVER))
    with pytest.raises(TransferNotPending):
        transfer.decline(office_id="sn-dakar", by="m", reason="late", now=deadline)
    assert transfer.overdue(deadline)
    assert not transfer.overdue(deadline - timedelta(seconds=1))
    transfer.cancel(office_id="de-berlin", by="a", reason=None, now=deadline)
    assert transfer.status is TransferStatus.CANCELLED


def test_the_reminder_is_due_once_between_the_reminder_time_and_the_deadline() -> None:
    transfer = proposed()
    assert not transfer.reminder_due(transfer.remind_at - timedelta(seconds=1))
    assert not transfer.reminder_due(transfer.respond_by)
    at = transfer.remind_at + timedelta(hours=1)
    assert transfer.reminder_due(at)
    transfer.mark_reminded(at)
    assert (transfer.reminded_at, transfer.version) == (at, 2)
    assert not transfer.reminder_due(at)
    with pytest.raises(TransferNotPending):
        transfer.mark_reminded(at)


@pytest.mark.parametrize(
    ("outcome", "status"),
    [(TransferOutcome.EXPIRED, TransferStatus.EXPIRED), (TransferOutcome.CANCELLED, TransferStatus.CANCELLED)],
)
def test_the_job_ends_an_unanswered_transfer(outcome: TransferOutcome, status: TransferStatus) -> None:
    transfer = proposed()
    transfer.end_unanswered(outcome, by="case-service", reason="consent_withdrawn", now=NOW)
    assert (transfer.status, transfer.reason, transfer.decided_at) == (status, "consent_withdrawn", NOW)


def test_the_manifest_names_what_a_fresh_consent_check_no_longer_allows() -> None:
    manifest = TransferManifest.of(dry_run())
    assert manifest.not_covered(still(*HANDED_OVER)) == []
    assert manifest.not_covered({DataCategory.IDENTITY_BIODATA: ALLOWED}) == [DataCategory.REINTEGRATION_PLAN]


def test_the_new_owner_is_held_back_from_what_the_accepted_manifest_did_not_hand_over() -> None:
    transfer = proposed()
    assert held_back([transfer], "sn-dakar") == {}  # not accepted yet: nothing moved
    transfer.accept(office_id="sn-dakar", by="m", now=NOW, still_covered=still(*HANDED_OVER))
    kept_back = held_back([transfer], "sn-dakar")
    assert kept_back[DataCategory.HEALTH_CLINICAL] == Decision(False, Reason.CONSENT_NOT_COVERING, transfer.id)
    assert kept_back.keys().isdisjoint(HANDED_OVER)
    assert held_back([transfer], "de-berlin") == {}

    owner = Projection(visible=True, allowed=dict.fromkeys(DataCategory, Decision(True, Reason.OWNER, "sn-dakar")))
    narrowed = hold_back(owner, kept_back)
    assert set(narrowed.allowed) == set(HANDED_OVER)
    assert narrowed.withheld == kept_back
    assert narrowed.visible
    assert hold_back(owner, {}) is owner


def test_only_the_owner_that_received_the_case_is_held_back() -> None:
    transfer = proposed()
    transfer.accept(office_id="sn-dakar", by="m", now=NOW, still_covered=still(*HANDED_OVER))
    everything = Projection(visible=True, allowed=dict.fromkeys(DataCategory, ALLOWED))
    dakar_owns = CaseFacts(case_id=transfer.case_id, owner_office_id="sn-dakar")
    narrowed = owner_projection(everything, dakar_owns, reader_office_id="sn-dakar", transfers=[transfer])
    assert set(narrowed.allowed) == set(HANDED_OVER)
    for reader in ("de-berlin", None):
        assert owner_projection(everything, dakar_owns, reader_office_id=reader, transfers=[transfer]) is everything
