"""Programme indicators over stored scores (indicators.md section 4) and case timelines, with small-cell
suppression.

A cell with fewer distinct cases than the minimum count shows no figures at all, so that an aggregate cannot
point at a person; this holds for every disaggregation and every combination of them (R-E11). Cases, not
administrations: one person surveyed five times is one person. The date filters take whole calendar quarters only,
and a cell is also suppressed when any of its non-empty slices by programme and quarter (of interview for scores,
of return for the timeline) has fewer cases than the minimum. Every request's cell is a union of such slices, so
two requests that differ only in their filters differ by whole slices, each empty or of at least the minimum: a
filter one day, one quarter or one programme narrower cannot isolate a person's contribution. A lone suppressed
cell would still be recoverable by subtracting the others from a total published elsewhere, so the next-smallest
cell of the same table, and of the same line of a table of several dimensions, is suppressed with it (secondary
suppression). Only primary scores count; what-if re-scores are comparisons, not outcomes.

Sex, age group, the countries, the quarter of return, the mode of return, the host country and the band of the
length of absence come from the case's pseudonymous monitoring profile: a fact the beneficiary did not consent to
disclose for M&E, or a case with no profile yet, counts in the `undisclosed` cell. A resettlement case has no
return profile: its mode of return, host country and length of absence are `not_applicable`.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from statistics import median
from uuid import UUID

from scoring_service.domain.errors import IndicatorPeriodNotQuarterly


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
    # From the monitoring profile (D-RSS, D-core), `undisclosed` without consent.
    SEX = "sex"
    AGE_GROUP = "age_group"  # at case opening; `0-17` is a child
    COUNTRY_OF_ORIGIN = "country_of_origin"
    COUNTRY_OF_RETURN = "country_of_return"  # of return or of resettlement, by programme
    MODE_OF_RETURN = "mode_of_return"  # avrr_voluntary, forced_deported, spontaneous, other
    HOST_COUNTRY = "host_country"  # the country returned from
    LENGTH_OF_ABSENCE = "length_of_absence"  # <1, 1-2, 3-5, 6-10, >10 completed years
    RETURN_COHORT = "return_cohort"  # the quarter of return (D-RSS: date of return)


class CaseGroupBy(StrEnum):
    """The disaggregations of indicators counted per case rather than per administration."""

    PROGRAMME = "programme"
    OFFICE = "office"
    COHORT = "cohort"  # here the quarter of the return itself (D-RSS: date of return)
    SEX = "sex"
    AGE_GROUP = "age_group"
    COUNTRY_OF_ORIGIN = "country_of_origin"
    COUNTRY_OF_RETURN = "country_of_return"
    MODE_OF_RETURN = "mode_of_return"
    HOST_COUNTRY = "host_country"
    LENGTH_OF_ABSENCE = "length_of_absence"


NOT_SCREENED = "not_screened"
UNDISCLOSED = "undisclosed"
NOT_APPLICABLE = "not_applicable"
RETURN_PROGRAMME = "return_reintegration"
Key = tuple[tuple[str, str], ...]
# The unit of the slice rule: a programme and a calendar quarter.
Slice = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Profile:
    """The banded facts of a case's monitoring profile; None is not disclosed."""

    sex: str | None = None
    age_group: str | None = None
    country_of_origin: str | None = None
    country_of_return: str | None = None
    mode_of_return: str | None = None
    host_country: str | None = None
    length_of_absence: str | None = None  # the band
    return_quarter: str | None = None  # `2026-Q4`

    def value(self, dimension: str, *, programme: str) -> str:
        if dimension in _RETURN_PROFILE and programme != RETURN_PROGRAMME:
            return NOT_APPLICABLE
        found: str | None = {
            "sex": self.sex,
            "age_group": self.age_group,
            "country_of_origin": self.country_of_origin,
            "country_of_return": self.country_of_return,
            "mode_of_return": self.mode_of_return,
            "host_country": self.host_country,
            "length_of_absence": self.length_of_absence,
            "return_cohort": self.return_quarter,
        }[dimension]
        return UNDISCLOSED if found is None else found


@dataclass(frozen=True, slots=True)
class ScoreFact:
    """One scored (or discarded) administration, reduced to what the indicators need: no person, no answers. The
    case id only counts distinct cases for suppression; it never leaves this module."""

    case_id: UUID
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
    profile: Profile = field(default_factory=Profile)


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


_QUARTER_STARTS = frozenset({(1, 1), (4, 1), (7, 1), (10, 1)})
_QUARTER_ENDS = frozenset({(3, 31), (6, 30), (9, 30), (12, 31)})


def check_quarterly(start: date | None, end: date | None, *, names: tuple[str, str]) -> None:
    """Date filters are whole calendar quarters: `start` the first day of one, `end` the last day of one. A
    narrower filter would let two requests differ by a single person's administrations or return."""
    if start is not None and (start.month, start.day) not in _QUARTER_STARTS:
        raise IndicatorPeriodNotQuarterly(
            f"{names[0]} must be the first day of a calendar quarter (1 January, April, July or October)",
            parameter=names[0],
        )
    if end is not None and (end.month, end.day) not in _QUARTER_ENDS:
        raise IndicatorPeriodNotQuarterly(
            f"{names[1]} must be the last day of a calendar quarter (31 March, 30 June, 30 September or 31 December)",
            parameter=names[1],
        )


_RETURN_PROFILE = frozenset({"mode_of_return", "host_country", "length_of_absence"})
_PROFILED = frozenset({"sex", "age_group", "country_of_origin", "country_of_return", "return_cohort"}) | _RETURN_PROFILE


def _key(fact: ScoreFact, group_by: Sequence[GroupBy]) -> Key:
    values: dict[str, str] = {
        GroupBy.PROGRAMME: fact.programme,
        GroupBy.OFFICE: fact.office,
        GroupBy.ADMINISTRATION: fact.administration,
        GroupBy.PERIOD: quarter(fact.interviewed_on),
        GroupBy.INSTRUMENT_VERSION: fact.instrument_version,
        GroupBy.COHORT: "" if fact.opened_on is None else quarter(fact.opened_on),
        GroupBy.VULNERABILITY: fact.vulnerability,
    }
    return tuple(
        (g.value, fact.profile.value(g, programme=fact.programme) if g in _PROFILED else values[g]) for g in group_by
    )


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _lines(keys: Sequence[Key]) -> Iterator[list[Key]]:
    """The sets of cells whose sum another query publishes: the whole table, and with several dimensions
    every line along one of them (the others fixed)."""
    yield list(keys)
    width = len(keys[0]) if keys else 0
    if width > 1:
        for dimension in range(width):
            lines: dict[Key, list[Key]] = defaultdict(list)
            for key in keys:
                lines[key[:dimension] + key[dimension + 1 :]].append(key)
            yield from lines.values()


def thinnest_slice(members: Iterable[tuple[UUID, Slice]]) -> int:
    """The fewest distinct cases in any non-empty slice of a cell, from its (case, slice) pairs."""
    by_slice: dict[Slice, set[UUID]] = defaultdict(set)
    for case_id, part in members:
        by_slice[part].add(case_id)
    return min(len(cases) for cases in by_slice.values())


def suppressed_cells(counts: Mapping[Key, int], minimum: int, *, thin: Set[Key] = frozenset()) -> frozenset[Key]:
    """Cells below the minimum count of cases or with a thin slice (primary), and for each table or line with
    exactly one of those, its next-smallest cell too (secondary, smallest count first, then the key), repeated
    until nothing changes."""
    hidden = {key for key, n in counts.items() if n < minimum} | set(thin)
    keys = sorted(counts)
    changed = True
    while changed:
        changed = False
        for line in _lines(keys):
            shown = [key for key in line if key not in hidden]
            if len(line) - len(shown) == 1 and shown:
                hidden.add(min(shown, key=lambda key: (counts[key], key)))
                changed = True
    return frozenset(hidden)


def _cell(key: Key, facts: Sequence[ScoreFact], *, suppressed: bool) -> Cell:
    if suppressed:
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


def _suppressed(members: Mapping[Key, Sequence[tuple[UUID, Slice]]], minimum: int) -> frozenset[Key]:
    """Primary suppression by distinct cases and by the thinnest slice, then secondary suppression."""
    cases = {key: len({case_id for case_id, _ in found}) for key, found in members.items()}
    thin = {key for key, found in members.items() if thinnest_slice(found) < minimum}
    return suppressed_cells(cases, minimum, thin=thin)


def aggregate(facts: Sequence[ScoreFact], *, group_by: Sequence[GroupBy], minimum_count: int) -> list[Cell]:
    """One cell per combination of the grouping values present, in a stable order; sliced by the quarter of
    interview."""
    groups: dict[Key, list[ScoreFact]] = defaultdict(list)
    for fact in facts:
        groups[_key(fact, group_by)].append(fact)
    members = {
        key: [(f.case_id, (f.programme, quarter(f.interviewed_on))) for f in found] for key, found in groups.items()
    }
    hidden = _suppressed(members, minimum_count)
    return [_cell(key, groups[key], suppressed=key in hidden) for key in sorted(groups)]


@dataclass(frozen=True, slots=True)
class TimelineFact:
    """One case with a known quarter of return and days to its first plan approval, from its consented
    monitoring profile: no person; the case id only counts distinct cases."""

    case_id: UUID
    programme: str
    office: str
    return_quarter: str
    days_return_to_plan: int
    profile: Profile = field(default_factory=Profile)


@dataclass(frozen=True, slots=True)
class TimelineCell:
    group: Key
    suppressed: bool
    cases: int | None = None
    median_days_return_to_plan: float | None = None


def _timeline_key(fact: TimelineFact, group_by: Sequence[CaseGroupBy]) -> Key:
    values = {
        CaseGroupBy.PROGRAMME: fact.programme,
        CaseGroupBy.OFFICE: fact.office,
        CaseGroupBy.COHORT: fact.return_quarter,
    }
    return tuple(
        (g.value, fact.profile.value(g, programme=fact.programme) if g in _PROFILED else values[g]) for g in group_by
    )


def return_to_plan(
    facts: Sequence[TimelineFact], *, group_by: Sequence[CaseGroupBy], minimum_count: int
) -> list[TimelineCell]:
    """Time from return to the first plan approval (DQ-9, indicators.md §13): the number of cases and the
    median days per cell, with the same suppression as the score indicators, sliced by the quarter of return.
    A plan approved before the return counts with negative days."""
    groups: dict[Key, list[TimelineFact]] = defaultdict(list)
    for fact in facts:
        groups[_timeline_key(fact, group_by)].append(fact)
    members = {key: [(f.case_id, (f.programme, f.return_quarter)) for f in found] for key, found in groups.items()}
    hidden = _suppressed(members, minimum_count)
    return [
        TimelineCell(group=key, suppressed=True)
        if key in hidden
        else TimelineCell(
            group=key,
            suppressed=False,
            cases=len(groups[key]),
            median_days_return_to_plan=float(median(f.days_return_to_plan for f in groups[key])),
        )
        for key in sorted(groups)
    ]
