import uuid
from datetime import UTC, date, datetime, timedelta, timezone

from casebridge_common.access import ShareMode
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
from notification_service.domain.emails import render
from notification_service.domain.models import InboxKind, Language
from notification_service.domain.rules import RULES, Notice, notices_for


def a_case_opened(office: str = "sn-dakar") -> CaseOpened:
    return CaseOpened(
        case_id=uuid.uuid4(),
        case_version=1,
        beneficiary_id=uuid.uuid4(),
        programme=Programme.RESETTLEMENT_INTEGRATION,
        owner_office_id=office,
        owner_organisation_id="iom-senegal",
        opened_at=datetime.now(UTC),
    )


def test_case_opened_goes_to_the_owning_office_without_personal_data() -> None:
    opened = a_case_opened()
    [notice] = notices_for(CaseOpened.type, opened.model_dump(mode="json"))
    assert notice == Notice(
        kind=InboxKind.CASE_OPENED,
        title="New resettlement & integration case opened",
        case_id=opened.case_id,
        office_id="sn-dakar",
        params={"case_id": str(opened.case_id), "programme": "resettlement & integration"},
    )
    assert str(opened.beneficiary_id) not in notice.title + str(notice.params)


def test_survey_due_goes_to_the_owning_office_with_the_due_date() -> None:
    due = SurveyDue(
        survey_schedule_id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        owner_office_id="de-berlin",
        administration=Administration.BASELINE,
        instrument="rss",
        due_on=date(2027, 1, 3),
    )
    [notice] = notices_for(SurveyDue.type, due.model_dump(mode="json"))
    assert (notice.kind, notice.office_id, notice.case_id) == (InboxKind.SURVEY_DUE, "de-berlin", due.case_id)
    assert notice.title == "Baseline rss survey due by 2027-01-03"


def test_each_administration_has_its_own_label() -> None:
    titles = set()
    for administration in Administration:
        due = SurveyDue(
            survey_schedule_id=uuid.uuid4(),
            case_id=uuid.uuid4(),
            owner_office_id="de-berlin",
            administration=administration,
            instrument="rss",
            due_on=date(2027, 1, 3),
        )
        titles.add(notices_for(SurveyDue.type, due.model_dump(mode="json"))[0].title.split()[0])
    assert titles == {"Baseline", "Intermediary", "Final"}


def test_an_event_type_without_a_rule_tells_nobody() -> None:
    assert notices_for("casebridge.beneficiary.registered.v1", {"beneficiary_id": str(uuid.uuid4())}) == []
    assert set(RULES) == {
        CaseOpened.type,
        SurveyDue.type,
        CaseShared.type,
        CaseTransferProposed.type,
        CaseTransferReminderDue.type,
        CaseTransferred.type,
        CaseTransferEnded.type,
        BreakGlassUsed.type,
        CaseFollowUpDue.type,
        ConsentWithdrawalReceiptOverdue.type,
    }


CASE_ID = uuid.uuid4()
TRANSFER = {
    "case_id": CASE_ID,
    "transfer_id": uuid.uuid4(),
    "from_office_id": "de-berlin",
    "to_office_id": "sn-dakar",
}


def addressed(event_type: str, data: dict[str, object]) -> list[tuple[InboxKind, str | None, uuid.UUID | None]]:
    return [(n.kind, n.office_id, n.case_id) for n in notices_for(event_type, data)]


def test_a_proposed_transfer_goes_to_the_receiving_office_with_its_answer_date() -> None:
    proposed = CaseTransferProposed(
        **TRANSFER,
        proposed_at=datetime(2026, 12, 1, 10, tzinfo=UTC),
        remind_at=datetime(2026, 12, 5, 10, tzinfo=UTC),
        respond_by=datetime(2026, 12, 8, 10, tzinfo=UTC),
    )
    [notice] = notices_for(CaseTransferProposed.type, proposed.model_dump(mode="json"))
    assert (notice.kind, notice.office_id, notice.case_id) == (InboxKind.CASE_TRANSFER_PROPOSED, "sn-dakar", CASE_ID)
    assert notice.title == "Case transfer proposed by de-berlin: answer by 2026-12-08"
    assert notice.params["respond_by"] == "2026-12-08"


def test_an_unanswered_transfer_reminds_the_receiving_office() -> None:
    due = CaseTransferReminderDue(**TRANSFER, respond_by=datetime(2026, 12, 8, 10, tzinfo=UTC))
    assert addressed(CaseTransferReminderDue.type, due.model_dump(mode="json")) == [
        (InboxKind.CASE_TRANSFER_REMINDER, "sn-dakar", CASE_ID)
    ]


def test_an_accepted_transfer_informs_the_sender() -> None:
    transferred = CaseTransferred(
        **TRANSFER, to_organisation_id="iom-senegal", case_version=7, transferred_at=datetime.now(UTC)
    )
    [notice] = notices_for(CaseTransferred.type, transferred.model_dump(mode="json"))
    assert (notice.kind, notice.office_id) == (InboxKind.CASE_TRANSFERRED, "de-berlin")
    assert "sn-dakar" in notice.title


def test_a_declined_transfer_informs_the_sender_and_a_lapsed_one_both_offices() -> None:
    def ended(outcome: TransferOutcome) -> dict[str, object]:
        return CaseTransferEnded(**TRANSFER, outcome=outcome, reason=None, ended_at=datetime.now(UTC)).model_dump(
            mode="json"
        )

    assert addressed(CaseTransferEnded.type, ended(TransferOutcome.DECLINED)) == [
        (InboxKind.CASE_TRANSFER_ENDED, "de-berlin", CASE_ID)
    ]
    for lapsed in (TransferOutcome.EXPIRED, TransferOutcome.CANCELLED):
        assert [office for _, office, _ in addressed(CaseTransferEnded.type, ended(lapsed))] == [
            "de-berlin",
            "sn-dakar",
        ]


def test_emergency_access_is_an_urgent_notice_for_the_owner_office_in_utc() -> None:
    used = BreakGlassUsed(
        case_id=CASE_ID,
        grant_id=uuid.uuid4(),
        owner_office_id="de-berlin",
        actor_subject="karwan.aziz",
        actor_office_id="iq-erbil",
        granted_at=datetime(2026, 12, 1, 10, tzinfo=UTC),
        expires_at=datetime(2026, 12, 1, 17, tzinfo=timezone(timedelta(hours=3))),
    )
    [notice] = notices_for(BreakGlassUsed.type, used.model_dump(mode="json"))
    assert (notice.kind, notice.office_id, notice.urgent) == (InboxKind.BREAK_GLASS_USED, "de-berlin", True)
    assert notice.title == "Urgent: emergency access to a case by karwan.aziz (iq-erbil), until 2026-12-01 14:00 UTC"


def test_a_share_goes_to_the_office_shared_with() -> None:
    shared = CaseShared(
        case_id=CASE_ID,
        share_id=uuid.uuid4(),
        owner_office_id="de-berlin",
        office_id="sn-dakar",
        mode=ShareMode.EDIT,
        expires_at=None,
    )
    [notice] = notices_for(CaseShared.type, shared.model_dump(mode="json"))
    assert (notice.kind, notice.office_id, notice.params["expires_at"]) == (InboxKind.CASE_SHARED, "sn-dakar", "")
    assert notice.title == "Case shared with your office by de-berlin (edit)"


def an_overdue_visit(
    phase: FollowUpPhase = FollowUpPhase.FOLLOW_UP, kind: VisitKind = VisitKind.HOME_VISIT
) -> CaseFollowUpDue:
    return CaseFollowUpDue(
        case_id=CASE_ID,
        visit_id=uuid.uuid4(),
        owner_office_id="sn-dakar",
        phase=phase,
        kind=kind,
        planned_on=date(2026, 12, 1),
        overdue_at=datetime(2026, 12, 9, tzinfo=UTC),
    )


def test_an_overdue_visit_reminds_the_owning_office_once_per_visit_with_ids_and_due_date_only() -> None:
    due = an_overdue_visit()
    [notice] = notices_for(CaseFollowUpDue.type, due.model_dump(mode="json"))
    assert notice == Notice(
        kind=InboxKind.FOLLOW_UP_DUE,
        title="Overdue follow-up home visit planned for 2026-12-01",
        case_id=CASE_ID,
        office_id="sn-dakar",
        params={
            "case_id": str(CASE_ID),
            "visit_id": str(due.visit_id),
            "phase": "follow_up",
            "visit_kind": "home_visit",
            "planned_on": "2026-12-01",
        },
        once_key=f"follow-up-visit:{due.visit_id}",
    )
    again = CaseFollowUpDue.model_validate(due.model_dump() | {"overdue_at": datetime(2026, 12, 10, tzinfo=UTC)})
    assert notices_for(CaseFollowUpDue.type, again.model_dump(mode="json"))[0].once_key == notice.once_key


def test_an_overdue_post_closure_phone_call_is_named_so_in_every_language() -> None:
    due = an_overdue_visit(FollowUpPhase.POST_CLOSURE, VisitKind.PHONE)
    [notice] = notices_for(CaseFollowUpDue.type, due.model_dump(mode="json"))
    assert notice.title == "Overdue post-closure monitoring phone call planned for 2026-12-01"
    mails = {language: render(notice.kind, language, {"title": notice.title, **notice.params}) for language in Language}
    assert mails[Language.EN].subject == "Follow-up visit overdue: planned for 2026-12-01"
    assert "post-closure monitoring phone call planned for 2026-12-01" in mails[Language.EN].text
    assert "suivi post-clôture (appel téléphonique)" in mails[Language.FR].text
    assert "مكالمة هاتفية" in mails[Language.AR].text
    assert 'dir="rtl"' in mails[Language.AR].html
    for mail in mails.values():
        assert str(due.visit_id) in mail.text
        assert str(CASE_ID) in mail.text


def test_an_overdue_withdrawal_receipt_is_an_urgent_notice_for_the_owning_office_once_per_holder() -> None:
    overdue = ConsentWithdrawalReceiptOverdue(
        consent_id=uuid.uuid4(),
        beneficiary_id=uuid.uuid4(),
        case_ids=[CASE_ID],
        owner_office_id="de-berlin",
        withdrawal_id=uuid.uuid4(),
        holder="scoring-service",
        acknowledge_by=datetime(2026, 12, 11, 9, 0, tzinfo=UTC),
        reported_at=datetime(2026, 12, 11, 9, 1, tzinfo=UTC),
    )
    [notice] = notices_for(ConsentWithdrawalReceiptOverdue.type, overdue.model_dump(mode="json"))
    assert notice == Notice(
        kind=InboxKind.WITHDRAWAL_RECEIPT_OVERDUE,
        title="Urgent: scoring-service has not confirmed a consent withdrawal due 2026-12-11 09:00 UTC",
        case_id=None,  # about a withdrawal, not a case: a later withdrawal has nothing to redact in it
        office_id="de-berlin",
        params={
            "withdrawal_id": str(overdue.withdrawal_id),
            "consent_id": str(overdue.consent_id),
            "holder": "scoring-service",
            "acknowledge_by": "2026-12-11 09:00 UTC",
        },
        urgent=True,
        once_key=f"withdrawal-receipt:{overdue.withdrawal_id}:scoring-service",
    )
    mails = {language: render(notice.kind, language, {"title": notice.title, **notice.params}) for language in Language}
    assert "scoring-service" in mails[Language.FR].subject
    assert 'dir="rtl"' in mails[Language.AR].html
    for mail in mails.values():
        assert str(overdue.withdrawal_id) in mail.text
