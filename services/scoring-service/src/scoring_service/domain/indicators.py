"""Programme indicators over stored scores (indicators.md section 4), with small-cell suppression.

A cell with fewer administrations than the minimum count shows no figures at all, so that an aggregate cannot
point at a person; this holds for every disaggregation and every combination of them (R-E11). Only primary
scores count; what-if re-scores are comparisons, not outcomes.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class GroupBy(StrEnum):
    PROGRAMME = "programme"
    OFFICE = "office"
    ADMINISTRATION = "administration"
    PERIOD = "period"
    INSTRUMENT_VERSION = "instrument_version"
    # The quarter the case was opened: scoring-service's stand-in for the date of return (a cohort, D-RSS).
    COHORT = "cohort"
    # The band of the case's latest vulnerability (DoMV) screening, or `not_screened` (D-RSS, D-core).
    VULNERABILITY = "vulnerability"


NOT_SCREENED = "not_screened"


@dataclass(frozen=True, slots=True)
class ScoreFact:
    """One scored (or discarded) administration, reduced to what the indicators need: no person, no answers."""

    programme: str
    office: str
    administration: str
    interviewed_on: date
    instrument_version: str
    discarded: bool = False
    composite: float | None = None
    target_reached: bool | None = None
    low_accuracy: bool = False
    dimensions: tuple[tuple[str, float | None, str | None], ...] = ()  # (dimension, score, band)
    opened_on: date | None = None  # the case's opening
    vulnerability: str = NOT_SCREENED  # the band of the case's latest DoMV screening


@dataclass(frozen=True, slots=True)
class Cell:
    group: tuple[tuple[str, str], ...]
    suppressed: bool
    administrations: int | None = None
    discarded: int | None = None
    share_target_reached: float | None = None
    mean_composite: float | None = None
    mean_by_dimension: dict[str, float | None] = field(default_factory=dict)
    share_by_band: dict[str, dict[str, float]] = field(default_factory=dict)
    share_low_accuracy: float | None = None


def quarter(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _key(fact: ScoreFact, group_by: Sequence[GroupBy]) -> tuple[tuple[str, str], ...]:
    values = {
        GroupBy.PROGRAMME: fact.programme,
        GroupBy.OFFICE: fact.office,
        GroupBy.ADMINISTRATION: fact.administration,
        GroupBy.PERIOD: quarter(fact.interviewed_on),
        GroupBy.INSTRUMENT_VERSION: fact.instrument_version,
        GroupBy.COHORT: "" if fact.opened_on is None else quarter(fact.opened_on),
        GroupBy.VULNERABILITY: fact.vulnerability,
    }
    return tuple((g.value, values[g]) for g in group_by)


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _cell(key: tuple[tuple[str, str], ...], facts: Sequence[ScoreFact], minimum: int) -> Cell:
    if len(facts) < minimum:
        return Cell(group=key, suppressed=True)
    scored = [f for f in facts if not f.discarded]
    composites = [f.composite for f in scored if f.composite is not None]
    per_dimension: dict[str, list[float]] = defaultdict(list)
    bands: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for fact in scored:
        for name, value, band in fact.dimensions:
            if value is not None:
                per_dimension[name].append(value)
            if band is not None:
                bands[name][band] += 1
    return Cell(
        group=key,
        suppressed=False,
        administrations=len(facts),
        discarded=len(facts) - len(scored),
        share_target_reached=_mean([1.0 if f.target_reached else 0.0 for f in scored if f.target_reached is not None]),
        mean_composite=_mean(composites),
        mean_by_dimension={name: _mean(values) for name, values in sorted(per_dimension.items())},
        share_by_band={
            name: {band: n / sum(counts.values()) for band, n in sorted(counts.items())}
            for name, counts in sorted(bands.items())
        },
        share_low_accuracy=_mean([1.0 if f.low_accuracy else 0.0 for f in scored]),
    )


def aggregate(facts: Sequence[ScoreFact], *, group_by: Sequence[GroupBy], minimum_count: int) -> list[Cell]:
    """One cell per combination of the grouping values present, in a stable order."""
    groups: dict[tuple[tuple[str, str], ...], list[ScoreFact]] = defaultdict(list)
    for fact in facts:
        groups[_key(fact, group_by)].append(fact)
    return [_cell(key, groups[key], minimum_count) for key in sorted(groups)]
