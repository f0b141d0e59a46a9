"""The consent lifecycle rules, without I/O: validation, renew, narrow, withdraw, expire, withdrawn scopes."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from case_service.domain.consent import (
    ConsentMethod,
    ConsentRecord,
    HolderState,
    WithdrawalChannel,
    WithdrawalStatus,
    allows_at_most,
    answer,
    check_record,
    expire,
    has_lapsed,
    holder_state,
    narrow,
    overdue_holders,
    remaining_after,
    renew,
    withdraw,
    withdrawal_status,
    withdrawn_scopes,
)
from case_service.domain.errors import (
    CapacityAssessmentRequired,
    ConsentNarrowingUnchanged,
    ConsentNarrowingWidens,
    ConsentNotActive,
    ConsentNotRequested,
    ForbiddenPurpose,
    GuardianConsentRequired,
    InvalidValidityPeriod,
)
from casebridge_common.access import ConsentStatus, DataCategory, GivenBy, Purpose
from casebridge_common.events.contracts.consent import ScopeTerms

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
ID, CONTACT, SKILLS = DataCategory.IDENTITY_BIODATA, DataCategory.CONTACT, DataCategory.SKILLS_EMPLOYMENT
REFERRAL, M_AND_E = Purpose.REFERRAL_SERVICE_DELIVERY, Purpose.M_AND_E


def scope(
    categories: list[DataCategory],
    purposes: list[Purpose] | None = None,
    organisations: list[str] | None = None,
    countries: list[str] | None = None,
) -> ScopeTerms:
    return ScopeTerms(
        data_categories=categories,
        purposes=purposes or [REFERRAL],
        organisations=["cfp-dakar"] if organisations is None else organisations,
        countries=countries or [],
    )


def a_record(
    *scopes: ScopeTerms,
    given_by: GivenBy = GivenBy.SELF,
    capacity_assessed_by: str | None = None,
    child_assent: bool = False,
    child_views: str | None = None,
    valid_until: datetime | None = None,
    status: ConsentStatus = ConsentStatus.GIVEN,
) -> ConsentRecord:
    return ConsentRecord(
        beneficiary_id=uuid.uuid4(),
        status=status,
        given_by=given_by,
        capacity_assessed_by=capacity_assessed_by,
        child_assent=child_assent,
        child_views=child_views,
        method=ConsentMethod.WRITTEN,
        notice_version="notice-2026-01",
        scopes=[s.model_dump(mode="json") for s in scopes or (scope([ID, CONTACT, SKILLS]),)],
        valid_from=NOW - timedelta(days=30),
        valid_until=valid_until,
        recorded_by="anna.schmidt",
        recorded_by_office_id="de-berlin",
        recorded_at=NOW - timedelta(days=30),
    )


def narrowed(old: ConsentRecord, scopes: list[ScopeTerms]) -> tuple[ConsentRecord, list[ScopeTerms]]:
    return narrow(
        old,
        scopes,
        evidence_ref=None,
        subject_is_minor=False,
        recorded_by="anna.schmidt",
        office_id="de-berlin",
        now=NOW,
    )


# --- validation ----------------------------------------------------------------------------------------------------


def test_an_adults_own_consent_is_valid() -> None:
    check_record(a_record(), subject_is_minor=False)


def test_consent_for_immigration_enforcement_is_refused() -> None:
    record = a_record(scope([ID]), scope([CONTACT], purposes=[REFERRAL, Purpose.IMMIGRATION_ENFORCEMENT]))
    with pytest.raises(ForbiddenPurpose) as raised:
        check_record(record, subject_is_minor=False)
    assert raised.value.context == {"pointer": "#/scopes/1/purposes"}


def test_validity_must_end_after_it_starts() -> None:
    record = a_record(valid_until=NOW - timedelta(days=30))
    with pytest.raises(InvalidValidityPeriod):
        check_record(record, subject_is_minor=False)


@pytest.mark.parametrize(
    ("given_by", "child_assent", "child_views", "pointer"),
    [
        (GivenBy.SELF, True, "I want to go home", "#/given_by"),
        (GivenBy.CAREGIVER, True, "I want to go home", "#/given_by"),
        (GivenBy.PARENT, False, "I want to go home", "#/child_assent"),
        (GivenBy.LEGAL_GUARDIAN, True, None, "#/child_views"),
    ],
)
def test_a_minors_consent_needs_a_guardian_the_childs_assent_and_views(
    given_by: GivenBy, child_assent: bool, child_views: str | None, pointer: str
) -> None:
    record = a_record(
        given_by=given_by, capacity_assessed_by="anna.schmidt", child_assent=child_assent, child_views=child_views
    )
    with pytest.raises(GuardianConsentRequired) as raised:
        check_record(record, subject_is_minor=True)
    assert raised.value.context == {"pointer": pointer}


def test_a_guardians_consent_with_assent_and_views_is_valid_for_a_minor() -> None:
    record = a_record(
        given_by=GivenBy.PARENT, capacity_assessed_by="anna.schmidt", child_assent=True, child_views="I agree"
    )
    check_record(record, subject_is_minor=True)


def test_consent_on_someones_behalf_names_who_assessed_capacity() -> None:
    with pytest.raises(CapacityAssessmentRequired):
        check_record(a_record(given_by=GivenBy.SUBSTITUTE_PER_LAW), subject_is_minor=False)


# --- renew ---------------------------------------------------------------------------------------------------------


def test_renewal_keeps_the_terms_in_a_new_renewed_record_and_retires_the_old_one() -> None:
    old = a_record(valid_until=NOW + timedelta(days=1))
    renewal = renew(
        old,
        valid_until=NOW + timedelta(days=365),
        method=ConsentMethod.VERBAL_PHONE,
        notice_version=None,
        evidence_ref="attachments/2",
        subject_is_minor=False,
        recorded_by="anna.schmidt",
        office_id="de-berlin",
        now=NOW,
    )
    assert (renewal.status, renewal.supersedes, renewal.scopes, renewal.valid_from) == (
        ConsentStatus.RENEWED,
        old.id,
        old.scopes,
        NOW,
    )
    assert (renewal.method, renewal.notice_version, renewal.evidence_ref) == (
        ConsentMethod.VERBAL_PHONE,
        "notice-2026-01",
        "attachments/2",
    )
    assert (old.status, old.version) == (ConsentStatus.EXPIRED, 2)
    assert renewal.to_facts().in_force(NOW)
    assert not old.to_facts().in_force(NOW)


@pytest.mark.parametrize("status", [ConsentStatus.WITHDRAWN, ConsentStatus.NARROWED, ConsentStatus.EXPIRED])
def test_only_a_consent_in_force_can_be_renewed(status: ConsentStatus) -> None:
    old = a_record(status=status)
    with pytest.raises(ConsentNotActive):
        renew(
            old,
            valid_until=None,
            method=None,
            notice_version=None,
            evidence_ref=None,
            subject_is_minor=False,
            recorded_by="anna.schmidt",
            office_id="de-berlin",
            now=NOW,
        )
    assert old.version == 1


def test_a_renewal_that_ends_before_it_starts_changes_nothing() -> None:
    old = a_record()
    with pytest.raises(InvalidValidityPeriod):
        renew(
            old,
            valid_until=NOW - timedelta(hours=1),
            method=None,
            notice_version=None,
            evidence_ref=None,
            subject_is_minor=False,
            recorded_by="anna.schmidt",
            office_id="de-berlin",
            now=NOW,
        )
    assert (old.status, old.version) == (ConsentStatus.GIVEN, 1)


# --- narrow --------------------------------------------------------------------------------------------------------


def test_narrowing_writes_a_given_record_and_reports_the_categories_withdrawn() -> None:
    old = a_record(scope([ID, CONTACT, SKILLS]))
    narrower, withdrawn = narrowed(old, [scope([ID, CONTACT])])
    assert (narrower.status, narrower.supersedes, narrower.terms()) == (
        ConsentStatus.GIVEN,
        old.id,
        [scope([ID, CONTACT])],
    )
    assert (old.status, old.version) == (ConsentStatus.NARROWED, 2)
    assert withdrawn == [scope([SKILLS])]


def test_narrowing_that_adds_a_category_widens_and_is_refused() -> None:
    old = a_record(scope([ID, CONTACT]))
    with pytest.raises(ConsentNarrowingWidens):
        narrowed(old, [scope([ID, SKILLS])])
    assert old.status is ConsentStatus.GIVEN


@pytest.mark.parametrize(
    "wider",
    [
        scope([ID], purposes=[REFERRAL, M_AND_E]),
        scope([ID], organisations=["cfp-dakar", "another-partner"]),
        scope([ID], countries=["SN"]),
    ],
)
def test_narrowing_that_adds_a_purpose_or_recipient_widens(wider: ScopeTerms) -> None:
    with pytest.raises(ConsentNarrowingWidens):
        narrowed(a_record(scope([ID, CONTACT])), [wider])


def test_narrowing_to_the_same_terms_is_refused() -> None:
    old = a_record(scope([ID, CONTACT]))
    with pytest.raises(ConsentNarrowingUnchanged):
        narrowed(old, [scope([CONTACT]), scope([ID])])


def test_terms_are_compared_as_sets_so_one_scope_may_be_covered_by_several() -> None:
    old = [scope([ID]), scope([CONTACT])]
    assert allows_at_most([scope([ID, CONTACT])], old)
    assert not allows_at_most([scope([ID, CONTACT], purposes=[M_AND_E])], old)


def test_a_cut_purpose_reports_the_whole_scope_for_its_purposes_and_recipients() -> None:
    old = [scope([ID, CONTACT], purposes=[REFERRAL, M_AND_E]), scope([SKILLS], organisations=["other"])]
    new = [scope([ID, CONTACT], purposes=[REFERRAL]), scope([SKILLS], organisations=["other"])]
    assert withdrawn_scopes(old, new) == [scope([ID, CONTACT], purposes=[REFERRAL, M_AND_E])]


def test_withdrawn_scopes_are_empty_when_nothing_is_lost() -> None:
    assert withdrawn_scopes([scope([ID])], [scope([ID])]) == []


# --- partial withdrawal --------------------------------------------------------------------------------------------


def test_withdrawing_one_category_leaves_the_rest_of_the_scope() -> None:
    assert remaining_after([scope([ID, CONTACT, SKILLS])], [scope([SKILLS])]) == [scope([ID, CONTACT])]


def test_withdrawing_one_purpose_keeps_the_others_for_the_categories_it_covered() -> None:
    terms = [scope([ID, CONTACT], purposes=[REFERRAL, M_AND_E])]
    remaining = remaining_after(terms, [scope([CONTACT], purposes=[M_AND_E])])
    assert remaining == [scope([ID], purposes=[REFERRAL, M_AND_E]), scope([CONTACT], purposes=[REFERRAL])]
    assert allows_at_most(remaining, terms)
    assert not allows_at_most([scope([CONTACT], purposes=[M_AND_E])], remaining)


def test_withdrawing_one_recipient_keeps_the_others() -> None:
    terms = [scope([ID], organisations=["cfp-dakar", "other"])]
    assert remaining_after(terms, [scope([ID], organisations=["other"])]) == [scope([ID], organisations=["cfp-dakar"])]


def test_withdrawing_everything_leaves_nothing() -> None:
    assert remaining_after([scope([ID, CONTACT])], [scope([ID, CONTACT])]) == []


def test_a_withdrawal_that_does_not_overlap_leaves_the_scope_as_it_was() -> None:
    assert remaining_after([scope([ID])], [scope([CONTACT])]) == [scope([ID])]


# --- withdraw and expire -------------------------------------------------------------------------------------------


def test_withdrawal_stops_the_consent_at_once_and_returns_its_scopes() -> None:
    record = a_record(scope([ID]), scope([CONTACT]))
    withdrawn = withdraw(record, channel=WithdrawalChannel.SELF_SERVICE, now=NOW)
    assert withdrawn == [scope([ID]), scope([CONTACT])]
    assert (record.status, record.withdrawn_at, record.withdrawal_channel, record.version) == (
        ConsentStatus.WITHDRAWN,
        NOW,
        "self_service",
        2,
    )
    assert not record.to_facts().in_force(NOW)


def test_a_requested_consent_authorises_only_once_it_is_given() -> None:
    record = a_record(status=ConsentStatus.REQUESTED)
    assert not record.to_facts().in_force(NOW)
    answer(record, given=True, method=ConsentMethod.VERBAL_IN_PERSON, evidence_ref="audio/1", now=NOW)
    assert (record.status, record.method, record.evidence_ref, record.version) == (
        ConsentStatus.GIVEN,
        ConsentMethod.VERBAL_IN_PERSON,
        "audio/1",
        2,
    )
    assert record.valid_from == NOW  # it authorises from the answer on, not from the request
    assert record.to_facts().in_force(NOW)


def test_a_refused_consent_never_authorises() -> None:
    record = a_record(status=ConsentStatus.REQUESTED)
    answer(record, given=False, method=None, evidence_ref=None, now=NOW)
    assert (record.status, record.method) == (ConsentStatus.REFUSED, ConsentMethod.WRITTEN)
    assert not record.to_facts().in_force(NOW + timedelta(days=1))


@pytest.mark.parametrize("status", [s for s in ConsentStatus if s is not ConsentStatus.REQUESTED])
def test_only_a_requested_consent_can_be_answered(status: ConsentStatus) -> None:
    record = a_record(status=status)
    with pytest.raises(ConsentNotRequested):
        answer(record, given=True, method=None, evidence_ref=None, now=NOW)
    assert record.status is status


def test_a_withdrawn_consent_cannot_be_withdrawn_again() -> None:
    record = a_record(status=ConsentStatus.WITHDRAWN)
    with pytest.raises(ConsentNotActive):
        withdraw(record, channel=WithdrawalChannel.STAFF, now=NOW)


def test_a_consent_past_its_validity_expires() -> None:
    record = a_record(valid_until=NOW - timedelta(seconds=1))
    assert has_lapsed(record, NOW)
    assert expire(record, now=NOW) == record.terms()
    assert (record.status, record.version) == (ConsentStatus.EXPIRED, 2)
    assert not has_lapsed(record, NOW)


@pytest.mark.parametrize(
    "record",
    [
        a_record(valid_until=NOW + timedelta(seconds=1)),
        a_record(valid_until=None),
        a_record(valid_until=NOW - timedelta(days=1), status=ConsentStatus.WITHDRAWN),
    ],
)
def test_a_consent_still_valid_or_already_ended_does_not_expire(record: ConsentRecord) -> None:
    assert not has_lapsed(record, NOW)
    with pytest.raises(ConsentNotActive):
        expire(record, now=NOW)


# --- acknowledgements ----------------------------------------------------------------------------------------------

HOLDERS = ["referral-service", "scoring-service"]


def test_a_withdrawal_is_pending_then_overdue_until_every_expected_holder_acknowledged() -> None:
    deadline = NOW + timedelta(hours=24)
    assert (
        withdrawal_status(HOLDERS, ["referral-service"], acknowledge_by=deadline, now=NOW) is WithdrawalStatus.PENDING
    )
    late = deadline + timedelta(seconds=1)
    assert (
        withdrawal_status(HOLDERS, ["referral-service"], acknowledge_by=deadline, now=late) is WithdrawalStatus.OVERDUE
    )
    assert withdrawal_status(HOLDERS, HOLDERS, acknowledge_by=deadline, now=late) is WithdrawalStatus.COMPLETE


def test_an_unexpected_holders_acknowledgement_does_not_complete_a_withdrawal() -> None:
    status = withdrawal_status(HOLDERS, ["referral-service", "partner-x"], acknowledge_by=NOW, now=NOW)
    assert status is WithdrawalStatus.OVERDUE


def test_a_holder_is_acknowledged_pending_or_overdue() -> None:
    assert holder_state(True, acknowledge_by=NOW, now=NOW + timedelta(days=1)) is HolderState.ACKNOWLEDGED
    assert holder_state(False, acknowledge_by=NOW + timedelta(hours=1), now=NOW) is HolderState.PENDING
    assert holder_state(False, acknowledge_by=NOW, now=NOW) is HolderState.OVERDUE


def test_holders_without_a_receipt_are_reported_only_after_the_deadline_and_only_once() -> None:
    everyone = [*HOLDERS, "notification-service"]
    assert overdue_holders(everyone, [], [], acknowledge_by=NOW + timedelta(seconds=1), now=NOW) == []
    assert overdue_holders(everyone, ["scoring-service"], [], acknowledge_by=NOW, now=NOW) == [
        "referral-service",
        "notification-service",
    ]
    assert overdue_holders(everyone, ["scoring-service"], ["referral-service"], acknowledge_by=NOW, now=NOW) == [
        "notification-service"
    ]
    assert overdue_holders(everyone, ["scoring-service"], everyone, acknowledge_by=NOW, now=NOW) == []


def test_an_unexpected_holders_receipt_is_no_answer_and_an_unexpected_holder_is_never_reported() -> None:
    assert overdue_holders(HOLDERS, ["partner-x"], [], acknowledge_by=NOW, now=NOW) == HOLDERS
    assert overdue_holders([], ["partner-x"], [], acknowledge_by=NOW, now=NOW) == []
