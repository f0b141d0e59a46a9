"""Referral deadlines and MHPSS urgency rules (referrals.md §6.3, §7). Pure: the time is an argument."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from casebridge_common.events.contracts.referral import Deadline, MhpssLevel, ServiceCategory, Urgency
from referral_service.domain.errors import MhpssLevelNeedsMhpssCategory, UrgencyBelowMhpssLevel
from referral_service.domain.lifecycle import ReferralStatus

S = ReferralStatus
URGENCY_ORDER = [Urgency.ROUTINE, Urgency.PRIORITY, Urgency.URGENT, Urgency.EMERGENCY]
# Handbook levels → minimum urgency: level 1 is "immediate, life-saving" (L1959), level 2 refers to a
# psychologist "in a timely manner", level 3 is generic psychosocial support.
MHPSS_MINIMUM_URGENCY = {
    MhpssLevel.IMMEDIATE_LIFE_SAVING: Urgency.EMERGENCY,
    MhpssLevel.PSYCHOLOGICAL_COUNSELLING: Urgency.PRIORITY,
    MhpssLevel.PSYCHOSOCIAL_SUPPORT: Urgency.ROUTINE,
}
MHPSS_CATEGORIES = frozenset(
    {ServiceCategory.PSYCHIATRIC, ServiceCategory.PSYCHOLOGICAL, ServiceCategory.PSYCHOSOCIAL, ServiceCategory.HEALTH}
)
# The step that meets each deadline has happened once the referral has left these statuses.
PENDING_WHILE = {
    Deadline.ACKNOWLEDGE: frozenset({S.REQUESTED}),
    Deadline.FIRST_CONTACT: frozenset({S.REQUESTED, S.RECEIVED, S.ACCEPTED}),
    Deadline.OUTCOME: frozenset({S.REQUESTED, S.RECEIVED, S.ACCEPTED, S.IN_PROGRESS}),
}


@dataclass(frozen=True, slots=True)
class SlaProfile:
    acknowledge: timedelta
    first_contact: timedelta
    outcome: timedelta
    business_days: bool  # day-sized periods skip Saturdays and Sundays


@dataclass(frozen=True, slots=True)
class DueDates:
    acknowledge: datetime
    first_contact: datetime
    outcome: datetime

    def of(self, deadline: Deadline) -> datetime:
        return {
            Deadline.ACKNOWLEDGE: self.acknowledge,
            Deadline.FIRST_CONTACT: self.first_contact,
            Deadline.OUTCOME: self.outcome,
        }[deadline]


def resolve_urgency(urgency: Urgency | None, mhpss_level: MhpssLevel | None, category: ServiceCategory) -> Urgency:
    """The urgency to use: the requested one, never below what the MHPSS level requires (default: that minimum)."""
    if mhpss_level is None:
        return urgency or Urgency.ROUTINE
    if category not in MHPSS_CATEGORIES:
        raise MhpssLevelNeedsMhpssCategory(category=str(category), mhpss_level=str(mhpss_level))
    minimum = MHPSS_MINIMUM_URGENCY[mhpss_level]
    if urgency is None:
        return minimum
    if URGENCY_ORDER.index(urgency) < URGENCY_ORDER.index(minimum):
        raise UrgencyBelowMhpssLevel(urgency=str(urgency), mhpss_level=str(mhpss_level), minimum=str(minimum))
    return urgency


def add_period(start: datetime, period: timedelta, *, business_days: bool) -> datetime:
    """`start + period`; with business days, whole days are counted Monday to Friday only."""
    if not business_days or period.days == 0:
        return start + period
    moment, remaining = start, period.days
    while remaining > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            remaining -= 1
    return moment + (period - timedelta(days=period.days))


def due_dates(sent_at: datetime, profile: SlaProfile, *, acknowledge_within: timedelta | None = None) -> DueDates:
    """Deadlines fixed when the referral is sent; `acknowledge_within` overrides the profile (local/test only)."""
    acknowledge = (
        sent_at + acknowledge_within
        if acknowledge_within is not None
        else add_period(sent_at, profile.acknowledge, business_days=profile.business_days)
    )
    return DueDates(
        acknowledge=acknowledge,
        first_contact=add_period(sent_at, profile.first_contact, business_days=profile.business_days),
        outcome=add_period(sent_at, profile.outcome, business_days=profile.business_days),
    )


def missed_deadlines(status: ReferralStatus, due: DueDates | None, *, now: datetime) -> list[Deadline]:
    """Deadlines that have passed while the step they guard is still pending."""
    if due is None:
        return []
    return [d for d in Deadline if status in PENDING_WHILE[d] and due.of(d) <= now]


def is_expired(status: ReferralStatus, sent_at: datetime | None, expiry: timedelta, *, now: datetime) -> bool:
    """A referral nobody accepted or declined within the expiry window expires."""
    return status in {S.REQUESTED, S.RECEIVED} and sent_at is not None and sent_at + expiry <= now
