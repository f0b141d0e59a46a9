"""Partner scorecards: how a provider answers its referrals over a period (referrals.md §10 metrics). Pure."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ScorecardCounts:
    sent: int
    acknowledged: int
    accepted: int
    declined: int
    completed: int
    acknowledge_deadlines_missed: int
    outcome_deadlines_missed: int
    median_hours_to_acknowledge: float | None
    median_days_to_complete: float | None


@dataclass(frozen=True, slots=True)
class Scorecard:
    counts: ScorecardCounts
    acknowledgement_rate: float | None  # acknowledged / sent
    acceptance_rate: float | None  # accepted / (accepted + declined)
    completion_rate: float | None  # completed / accepted ("were referred people actually served?")
    on_time_acknowledgement_rate: float | None  # 1 - missed acknowledgement deadlines / sent


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def scorecard(counts: ScorecardCounts) -> Scorecard:
    return Scorecard(
        counts=counts,
        acknowledgement_rate=_ratio(counts.acknowledged, counts.sent),
        acceptance_rate=_ratio(counts.accepted, counts.accepted + counts.declined),
        completion_rate=_ratio(counts.completed, counts.accepted),
        on_time_acknowledgement_rate=_ratio(counts.sent - counts.acknowledge_deadlines_missed, counts.sent),
    )
