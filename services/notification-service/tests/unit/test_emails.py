from datetime import UTC, datetime, time

import pytest

from notification_service.domain.emails import TEMPLATES, Schedule, preference_key, render, render_digest
from notification_service.domain.models import InboxKind, Language

PARAMS = {
    "title": "t",
    "case_id": "7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11",
    "programme": "return & reintegration",
    "administration": "baseline",
    "instrument": "rss",
    "due_on": "2027-01-03",
    "subscription_id": "5a0f7a52-3c0e-4a8f-9f4f-1c2d3e4f5a6b",
    "owner_office_id": "de-berlin",
    "mode": "view",
    "expires_at": "2027-01-03",
    "transfer_id": "2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a",
    "from_office_id": "de-berlin",
    "to_office_id": "sn-dakar",
    "respond_by": "2026-12-08",
    "outcome": "declined",
    "actor": "karwan.aziz (iq-erbil)",
    "visit_id": "4f5a6b7c-8d9e-4f0a-1b2c-3d4e5f6a7b8c",
    "phase": "follow_up",
    "visit_kind": "home_visit",
    "planned_on": "2026-12-01",
    "withdrawal_id": "6b7c8d9e-0f1a-4b2c-9d3e-4f5a6b7c8d9e",
    "consent_id": "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d",
    "holder": "scoring-service",
    "acknowledge_by": "2026-12-11 09:00 UTC",
}


@pytest.mark.parametrize("kind", list(InboxKind))
@pytest.mark.parametrize("language", list(Language))
def test_every_kind_has_a_template_in_every_language(kind: InboxKind, language: Language) -> None:
    mail = render(kind, language, PARAMS)
    assert mail.subject
    assert mail.text.strip()
    assert f'lang="{language.value}"' in mail.html


def test_arabic_is_right_to_left_and_the_others_left_to_right() -> None:
    assert 'dir="rtl"' in render(InboxKind.SURVEY_DUE, Language.AR, PARAMS).html
    assert 'dir="ltr"' in render(InboxKind.SURVEY_DUE, Language.FR, PARAMS).html


def test_the_html_part_escapes_and_the_text_part_does_not() -> None:
    mail = render(InboxKind.CASE_OPENED, Language.EN, PARAMS)
    assert "return & reintegration" in mail.text
    assert "return &amp; reintegration" in mail.html


def test_a_french_survey_reminder_names_the_due_date() -> None:
    mail = render(InboxKind.SURVEY_DUE, Language.FR, PARAMS)
    assert mail.subject == "Enquête à réaliser avant le 2027-01-03"


def test_a_digest_holds_every_notice_in_one_mail() -> None:
    parts = [render(InboxKind.CASE_OPENED, Language.EN, PARAMS), render(InboxKind.SURVEY_DUE, Language.EN, PARAMS)]
    digest = render_digest(Language.EN, parts)
    assert digest.subject == "CaseBridge: 2 notifications"
    assert all(p.subject in digest.text and p.subject in digest.html for p in parts)


def test_templates_cover_exactly_the_inbox_kinds() -> None:
    assert set(TEMPLATES) == set(InboxKind)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, 1, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (at(12), at(12)),  # outside quiet hours: now
        (at(21), datetime(2026, 12, 2, 7, 0, tzinfo=UTC)),  # evening: tomorrow morning
        (at(3), at(7)),  # after midnight: this morning
        (at(7), at(7)),  # the end is not quiet
        (at(20), datetime(2026, 12, 2, 7, 0, tzinfo=UTC)),  # the start is quiet
    ],
)
def test_quiet_hours_spanning_midnight_hold_mail_until_they_end(now: datetime, expected: datetime) -> None:
    assert Schedule(quiet_start=time(20), quiet_end=time(7)).send_at(now) == expected


def test_quiet_hours_are_local_to_the_recipients_time_zone() -> None:
    schedule = Schedule(timezone="Asia/Baghdad", quiet_start=time(22), quiet_end=time(6))  # UTC+3
    assert schedule.send_at(at(20)) == at(20).replace(day=2, hour=3)  # 23:00 in Erbil → 06:00 local
    assert schedule.send_at(at(12)) == at(12)


def test_no_or_empty_quiet_hours_send_at_once() -> None:
    assert Schedule().send_at(at(3)) == at(3)
    assert Schedule(quiet_start=time(5), quiet_end=time(5)).send_at(at(5)) == at(5)


def test_a_digest_waits_for_the_next_digest_time() -> None:
    assert Schedule(digest=True).send_at(at(6)) == at(7)
    assert Schedule(digest=True).send_at(at(7)) == datetime(2026, 12, 2, 7, 0, tzinfo=UTC)


def test_preference_keys_separate_offices_organisations_and_users() -> None:
    assert preference_key("de-berlin", None, None) == "office:de-berlin"
    assert preference_key("de-berlin", None, "anna") == "office:de-berlin|user:anna"
    assert preference_key(None, "cfp-dakar", None) == "organisation:cfp-dakar"


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize(
    ("outcome", "words"),
    [
        ("declined", ("declined", "refusé", "رفض")),
        ("expired", ("expired", "expiré", "مهلة")),
        ("cancelled", ("cancelled", "annulé", "إلغاء")),
    ],
)
def test_an_ended_transfer_names_its_outcome_in_the_recipients_language(
    language: Language, outcome: str, words: tuple[str, str, str]
) -> None:
    mail = render(InboxKind.CASE_TRANSFER_ENDED, language, PARAMS | {"outcome": outcome})
    expected = dict(zip(Language, words, strict=True))[language]
    assert expected in mail.subject
    assert "sn-dakar" in mail.text


def test_a_share_without_an_end_date_says_none() -> None:
    open_ended = render(InboxKind.CASE_SHARED, Language.EN, PARAMS | {"expires_at": ""})
    assert "until" not in open_ended.text
    assert "until 2027-01-03" in render(InboxKind.CASE_SHARED, Language.EN, PARAMS).text
