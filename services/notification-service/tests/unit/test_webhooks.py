import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from notification_service.domain.errors import WebhookUrlNotAllowed
from notification_service.domain.webhooks import (
    RetryPolicy,
    check_endpoint,
    matches_filter,
    signature_header,
    verify_signature,
    visible_to,
)

SECRET = "whsec_test"
BODY = b'{"id":"e-1","type":"casebridge.case.opened.v1"}'


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert signature_header(SECRET, 1700000000, BODY) == f"t=1700000000,v1={expected}"


def test_a_fresh_signature_verifies() -> None:
    assert verify_signature(SECRET, signature_header(SECRET, 1000, BODY), BODY, now=1100)


@pytest.mark.parametrize(
    ("header", "body", "now"),
    [
        (signature_header("another-secret", 1000, BODY), BODY, 1000),  # wrong key
        (signature_header(SECRET, 1000, BODY), BODY + b" ", 1000),  # body changed
        (signature_header(SECRET, 1000, BODY), BODY, 1000 + 301),  # too old: a replayed request
        (signature_header(SECRET, 1000, BODY).replace("t=1000", "t=1001"), BODY, 1000),  # timestamp changed
        ("v1=abc", BODY, 1000),  # no timestamp
        ("t=soon,v1=abc", BODY, 1000),
        ("", BODY, 1000),
    ],
)
def test_a_tampered_stale_or_malformed_signature_is_refused(header: str, body: bytes, now: int) -> None:
    assert not verify_signature(SECRET, header, body, now=now)


@pytest.mark.parametrize(
    ("url", "environment"),
    [
        ("https://partner.example/hooks", "production"),
        ("https://partner.example/hooks", "local"),
        ("http://127.0.0.1:9000/hooks", "local"),
        ("http://127.0.0.1:9000/hooks", "test"),
    ],
)
def test_https_endpoints_and_local_loopback_http_are_accepted(url: str, environment: str) -> None:
    check_endpoint(url, environment=environment)


@pytest.mark.parametrize(
    ("url", "environment"),
    [
        ("http://partner.example/hooks", "production"),
        ("http://partner.example/hooks", "local"),
        ("http://127.0.0.1:9000/hooks", "staging"),
        ("http://127.0.0.1:9000/hooks", "production"),
        ("http://localhost:9000/hooks", "local"),
        ("ftp://partner.example/hooks", "local"),
        ("https:///nohost", "production"),
    ],
)
def test_plain_http_elsewhere_and_other_schemes_are_refused(url: str, environment: str) -> None:
    with pytest.raises(WebhookUrlNotAllowed):
        check_endpoint(url, environment=environment)


@pytest.mark.parametrize(
    ("data", "office", "organisation", "visible"),
    [
        ({"owner_office_id": "de-berlin"}, "de-berlin", "iom-germany", True),
        ({"office_id": "de-berlin"}, "de-berlin", None, True),
        ({"owner_office_id": "de-berlin"}, "iq-erbil", "iom-iraq", False),
        ({"owner_office_id": "de-berlin", "owner_organisation_id": "iom-germany"}, None, "iom-germany", False),
        ({"to_organisation_id": "cfp-dakar"}, None, "cfp-dakar", True),
        ({"organisation_id": "cfp-dakar"}, "sn-dakar", "cfp-dakar", True),
        ({"to_organisation_id": "cfp-dakar"}, None, "another-org", False),
        ({"case_id": "c-1"}, "de-berlin", "iom-germany", False),  # names no office: never delivered
        ({"owner_office_id": "de-berlin"}, None, None, False),
    ],
)
def test_a_subscriber_sees_only_its_offices_events_or_those_addressed_to_its_organisation(
    data: dict[str, object], office: str | None, organisation: str | None, visible: bool
) -> None:
    assert visible_to(data, office_id=office, organisation_id=organisation) is visible


def test_the_filter_compares_top_level_fields_as_text() -> None:
    data: dict[str, object] = {"programme": "return_reintegration", "case_version": 1}
    assert matches_filter(data, {})
    assert matches_filter(data, {"programme": "return_reintegration", "case_version": "1"})
    assert not matches_filter(data, {"programme": "resettlement_integration"})
    assert not matches_filter(data, {"missing": "x"})


NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_backoff_doubles_per_attempt_within_the_jitter_band_and_is_capped() -> None:
    policy = RetryPolicy(base_delay_s=10, max_delay_s=100, max_attempts=10, pause_after_failures=5)
    for attempts, full in [(1, 10), (2, 20), (3, 40), (4, 80), (5, 100), (9, 100)]:
        assert policy.next_attempt_at(attempts, NOW, 1.0) == NOW + timedelta(seconds=full)
        assert policy.next_attempt_at(attempts, NOW, 0.0) == NOW + timedelta(seconds=full / 2)
    assert policy.next_attempt_at(1, NOW, 7.0) == NOW + timedelta(seconds=10)  # jitter clamped to [0, 1]


def test_attempts_are_bounded_and_repeated_failures_pause() -> None:
    policy = RetryPolicy(max_attempts=3, pause_after_failures=2)
    assert [policy.gives_up(n) for n in (1, 2, 3, 4)] == [False, False, True, True]
    assert [policy.pauses(n) for n in (0, 1, 2, 3)] == [False, False, True, True]
