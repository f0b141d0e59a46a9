from datetime import UTC, datetime, timedelta

import pytest

from casebridge_common.events.contracts.referral import Deadline, MhpssLevel, ServiceCategory, Urgency
from referral_service.domain.deadlines import (
    DueDates,
    SlaProfile,
    add_period,
    due_dates,
    is_expired,
    missed_deadlines,
    resolve_urgency,
)
from referral_service.domain.errors import MhpssLevelNeedsMhpssCategory, UrgencyBelowMhpssLevel
from referral_service.domain.lifecycle import ReferralStatus
from referral_service.settings import Settings

S = ReferralStatus
FRIDAY = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
ROUTINE = SlaProfile(timedelta(days=5), timedelta(days=10), timedelta(days=60), business_days=True)
EMERGENCY = SlaProfile(timedelta(hours=1), timedelta(hours=4), timedelta(days=7), business_days=False)
DUE = DueDates(
    acknowledge=FRIDAY + timedelta(hours=1),
    first_contact=FRIDAY + timedelta(hours=2),
    outcome=FRIDAY + timedelta(hours=3),
)


def test_business_days_skip_the_weekend() -> None:
    assert add_period(FRIDAY, timedelta(days=1), business_days=True) == FRIDAY + timedelta(days=3)
    assert add_period(FRIDAY, timedelta(days=5), business_days=True) == FRIDAY + timedelta(days=7)
    assert add_period(FRIDAY, timedelta(days=1), business_days=False) == FRIDAY + timedelta(days=1)
    assert add_period(FRIDAY, timedelta(hours=4), business_days=True) == FRIDAY + timedelta(hours=4)


def test_deadlines_are_fixed_from_the_profile_and_the_override_only_moves_the_acknowledgement() -> None:
    assert due_dates(FRIDAY, EMERGENCY) == DueDates(
        FRIDAY + timedelta(hours=1), FRIDAY + timedelta(hours=4), FRIDAY + timedelta(days=7)
    )
    overridden = due_dates(FRIDAY, ROUTINE, acknowledge_within=timedelta(seconds=2))
    assert overridden.acknowledge == FRIDAY + timedelta(seconds=2)
    assert overridden.first_contact == FRIDAY + timedelta(days=14)  # ten business days


def test_the_default_profiles_are_the_cb_defaults() -> None:
    profiles = Settings(database_url="postgresql+asyncpg://x/y", oidc_issuer="http://idp").sla_profiles()
    assert (profiles[Urgency.EMERGENCY].acknowledge, profiles[Urgency.EMERGENCY].first_contact) == (
        timedelta(hours=1),
        timedelta(hours=4),
    )
    assert profiles[Urgency.URGENT].acknowledge == timedelta(hours=24)
    assert (profiles[Urgency.PRIORITY].acknowledge, profiles[Urgency.ROUTINE].first_contact) == (
        timedelta(days=2),
        timedelta(days=10),
    )
    assert [u for u, p in profiles.items() if p.business_days] == [Urgency.ROUTINE, Urgency.PRIORITY]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (S.DRAFT, []),
        (S.REQUESTED, [Deadline.ACKNOWLEDGE, Deadline.FIRST_CONTACT, Deadline.OUTCOME]),
        (S.RECEIVED, [Deadline.FIRST_CONTACT, Deadline.OUTCOME]),
        (S.ACCEPTED, [Deadline.FIRST_CONTACT, Deadline.OUTCOME]),
        (S.IN_PROGRESS, [Deadline.OUTCOME]),
        (S.COMPLETED, []),
        (S.REJECTED, []),
        (S.CANCELLED, []),
        (S.EXPIRED, []),
    ],
)
def test_a_deadline_is_missed_only_while_its_step_is_pending(status: ReferralStatus, expected: list[Deadline]) -> None:
    assert missed_deadlines(status, DUE, now=FRIDAY + timedelta(hours=3)) == expected


def test_nothing_is_missed_before_its_due_time_or_without_due_dates() -> None:
    assert missed_deadlines(S.REQUESTED, DUE, now=FRIDAY + timedelta(minutes=59)) == []
    assert missed_deadlines(S.REQUESTED, DUE, now=FRIDAY + timedelta(hours=1)) == [Deadline.ACKNOWLEDGE]
    assert missed_deadlines(S.REQUESTED, None, now=FRIDAY) == []


@pytest.mark.parametrize(
    ("status", "expired"),
    [(S.REQUESTED, True), (S.RECEIVED, True), (S.ACCEPTED, False), (S.IN_PROGRESS, False), (S.DRAFT, False)],
)
def test_only_unanswered_referrals_expire(status: ReferralStatus, expired: bool) -> None:
    assert is_expired(status, FRIDAY, timedelta(days=30), now=FRIDAY + timedelta(days=30)) is expired
    assert is_expired(status, FRIDAY, timedelta(days=30), now=FRIDAY + timedelta(days=29)) is False


@pytest.mark.parametrize(
    ("level", "minimum"),
    [
        (MhpssLevel.IMMEDIATE_LIFE_SAVING, Urgency.EMERGENCY),
        (MhpssLevel.PSYCHOLOGICAL_COUNSELLING, Urgency.PRIORITY),
        (MhpssLevel.PSYCHOSOCIAL_SUPPORT, Urgency.ROUTINE),
    ],
)
def test_an_mhpss_level_sets_the_minimum_urgency(level: MhpssLevel, minimum: Urgency) -> None:
    assert resolve_urgency(None, level, ServiceCategory.PSYCHOLOGICAL) == minimum
    assert resolve_urgency(Urgency.EMERGENCY, level, ServiceCategory.PSYCHIATRIC) == Urgency.EMERGENCY


def test_an_urgency_below_the_mhpss_level_or_a_non_mhpss_category_is_refused() -> None:
    with pytest.raises(UrgencyBelowMhpssLevel):
        resolve_urgency(Urgency.URGENT, MhpssLevel.IMMEDIATE_LIFE_SAVING, ServiceCategory.PSYCHIATRIC)
    with pytest.raises(MhpssLevelNeedsMhpssCategory):
        resolve_urgency(None, MhpssLevel.PSYCHOSOCIAL_SUPPORT, ServiceCategory.TVET)
    assert resolve_urgency(None, None, ServiceCategory.TVET) == Urgency.ROUTINE
