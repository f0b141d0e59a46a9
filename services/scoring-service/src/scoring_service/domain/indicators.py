"""Programme indicators over stored scores (indicators.md section 4) and case timelines, with small-cell
suppression and cell-key perturbation.

A cell with fewer distinct cases than the minimum count shows no figures at all, so that an aggregate cannot
point at a person; this holds for every disaggregation and every combination of them (R-E11). Cases, not
administrations: one person surveyed five times is one person. The minimum applies to the cases behind the
figures: a cell is suppressed unless its scored (not discarded) administrations come from enough cases, and a
figure within a shown cell (a dimension's mean, its band shares, the share reaching the target) is withheld when
fewer cases have a value for it. The date filters take whole calendar quarters only, and a cell or figure is also
suppressed when any of its non-empty slices by programme and quarter (of interview for scores, of return for the
timeline) has fewer cases than the minimum. Every request's cell is a union of such slices, so two requests that
differ only in their filters differ by whole slices, each empty or of at least the minimum: a filter one day, one
quarter or one programme narrower cannot isolate a person's contribution. A lone suppressed cell would still be
recoverable by subtracting the others from a total published elsewhere, so the next-smallest cell of the same
table, and of the same line of a table of several dimensions, is suppressed with it (secondary suppression). Only
primary scores count; what-if re-scores are comparisons, not outcomes.

Suppression per table cannot stop the differencing of linked tables (different `group_by` and filters). So every
published figure is perturbed by the cell-key method (ONS and ABS practice for flexible tables): the cell key is
HMAC-SHA256 under a secret of the cell's sorted scored administrations (instrument, case id, administration, date
of interview; for the timeline the case id, quarter of return and days to the plan), and each figure draws a
uniform number in [0, 1) from that key and its own name. Counts move by an integer in -2..+2 (never below 0), drawn
from the key and the count itself, so that the same count in one cell always reads the same; a cell whose
perturbed count of scored cases falls below the minimum is suppressed. A share is a perturbed count over a
perturbed count: its numerator moves like a count, clamped to [0, the perturbed denominator], so that neither the
share times n nor the share's fraction gives an exact count. A mean over n cases moves by up to half a person's
weight (0.5 / n of its range), clamped to the range and rounded to 3 decimals; the median days from return to plan
by up to 30 / n days, rounded to 1 decimal. Every shown cell lists every band of the instrument for each of its
dimensions, zero shares included, so that which bands appear says nothing. The same records always get the same
noise, so
repeating or re-slicing a request cannot average it away, and a difference of cells carries the noise of every
cell in it; a new survey of a case already in the cell gives the cell new noise, so the request repeated after it
does not give that survey's score either.

Sex, age group, the countries, the quarter of return, the mode of return, the host country and the band of the
length of absence come from the case's pseudonymous monitoring profile: a fact the beneficiary did not consent to
disclose for M&E, or a case with no profile yet, counts in the `undisclosed` cell. A resettlement case has no
return profile: its mode of return, host country and length of absence are `not_applicable`.
"""

import hashlib
import hmac
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from statistics import median
from uuid import UUID

from casebridge_common.events.contracts.case import quarter
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
    share_by_band: dict[str, dict[str, float] | None] = field(default_factory=dict)
    share_low_accuracy: float | None = None


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


Range = tuple[float, float]
UNIT: Range = (0.0, 1.0)
# The widest count perturbation, either way.
COUNT_NOISE = 2
# The noise on a median of days over n cases is at most this many days over n.
MEDIAN_DAYS_NOISE = 30.0


def cell_key(secret: bytes, records: Iterable[str]) -> bytes:
    """The cell's key: HMAC-SHA256 under the secret of its sorted records (a scored administration as instrument,
    case id, administration and date of interview; a timeline's case as its id, quarter of return and days). The
    same records, the same key."""
    return hmac.new(secret, "\n".join(sorted(set(records))).encode(), hashlib.sha256).digest()


def _record(instrument: str, fact: ScoreFact) -> str:
    return f"{instrument}/{fact.case_id}/{fact.administration}/{fact.interviewed_on.isoformat()}"


def uniform(key: bytes, figure: str) -> float:
    """A number in [0, 1) fixed by the cell's key and the figure's name, so that the figures of one cell draw
    independent noise."""
    digest = hmac.new(key, figure.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def perturb_count(count: int, u: float) -> int:
    """The count moved by an integer in -2..+2 (each equally likely), never below 0."""
    return max(0, count + min(2 * COUNT_NOISE, int(u * (2 * COUNT_NOISE + 1))) - COUNT_NOISE)


def noisy_count(key: bytes, count: int) -> int:
    """A count of the cell perturbed by noise drawn from the cell's key and the count itself: one true count, one
    published value, whichever figure publishes or divides by it."""
    return perturb_count(count, uniform(key, f"count:{count}"))


def perturb_share(count: int, of: int, u: float) -> float:
    """The share `count / of` published as c' / n': the numerator moved like a count by `u`, clamped to
    [0, n'], over the denominator's published count n' (at least 1), to 3 decimals."""
    published = max(1, of)
    return round(min(published, perturb_count(count, u)) / published, 3)


def perturb_mean(value: float, cases: int, u: float, *, bounds: Range = UNIT) -> float:
    """A mean or share over `cases` cases moved by up to 0.5 / cases of its range, clamped, to 3 decimals."""
    low, high = bounds
    noisy = value + (2 * u - 1) * 0.5 * (high - low) / cases
    return round(min(high, max(low, noisy)), 3)


def perturb_median_days(value: float, cases: int, u: float) -> float:
    """A median of days over `cases` cases moved by up to 30 / cases days, to 1 decimal."""
    return round(value + (2 * u - 1) * MEDIAN_DAYS_NOISE / cases, 1)


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
    """The fewest distinct cases in any non-empty slice of a cell, from its (case, slice) pairs; 0 when empty."""
    by_slice: dict[Slice, set[UUID]] = defaultdict(set)
    for case_id, part in members:
        by_slice[part].add(case_id)
    return min((len(cases) for cases in by_slice.values()), default=0)


def enough(members: Sequence[tuple[UUID, Slice]], minimum: int) -> bool:
    """Whether a figure's (case, slice) pairs reach the minimum in distinct cases and in every slice."""
    return len({case_id for case_id, _ in members}) >= minimum and thinnest_slice(members) >= minimum


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


@dataclass(frozen=True, slots=True)
class _Members:
    """The (case, slice) pairs of a cell: of every administration, and of those behind its figures; and the
    cell's key."""

    every: list[tuple[UUID, Slice]]
    counted: list[tuple[UUID, Slice]]
    key: bytes


def _suppressed(members: Mapping[Key, _Members], minimum: int) -> frozenset[Key]:
    """Primary suppression by the counted cases (true and perturbed) and by the thinnest slice, then secondary
    suppression."""
    cases = {key: len({case_id for case_id, _ in found.counted}) for key, found in members.items()}
    thin = {
        key
        for key, found in members.items()
        if not enough(found.counted, minimum)
        or thinnest_slice(found.every) < minimum
        or noisy_count(found.key, cases[key]) < minimum
    }
    return suppressed_cells(cases, minimum, thin=thin)


# One fact behind a figure: the case, its slice, the value.
Value = tuple[UUID, Slice, float]


class _Figures:
    """The perturbed figures of one shown cell, each drawing its own noise from the cell's key."""

    def __init__(self, key: bytes, minimum: int) -> None:
        self._key, self._minimum = key, minimum

    def enough(self, values: Sequence[Value]) -> bool:
        return enough([(case_id, part) for case_id, part, _ in values], self._minimum)

    def mean(self, name: str, values: Sequence[Value], *, bounds: Range = UNIT) -> float | None:
        """Withheld (None) when fewer cases than the minimum, in all or in a slice, have a value for it."""
        if not self.enough(values):
            return None
        mean = sum(value for _, _, value in values) / len(values)
        return perturb_mean(mean, len({case_id for case_id, _, _ in values}), uniform(self._key, name), bounds=bounds)

    def _share(self, name: str, values: Sequence[Value]) -> float:
        count = sum(1 for _, _, value in values if value)
        return perturb_share(count, self.count(len(values)), uniform(self._key, name))

    def share(self, name: str, values: Sequence[Value]) -> float | None:
        """The share of the values that are 1 (the administrations with the property), its numerator and
        denominator perturbed as counts; withheld like a mean."""
        return self._share(name, values) if self.enough(values) else None

    def shares(
        self, name: str, banded: Sequence[tuple[UUID, Slice, str]], bands: Sequence[str]
    ) -> dict[str, float] | None:
        """The share of each of the instrument's bands among the administrations with one, zeros included,
        withheld as a whole like a mean."""
        if not self.enough([(case_id, part, 1.0) for case_id, part, _ in banded]):
            return None
        return {
            band: self._share(f"band:{name}:{band}", [(c, p, 1.0 if b == band else 0.0) for c, p, b in banded])
            for band in bands
        }

    def count(self, count: int) -> int:
        return noisy_count(self._key, count)


def _cell(
    key: Key,
    facts: Sequence[ScoreFact],
    *,
    suppressed: bool,
    minimum: int,
    cell_secret: bytes,
    score_range: Range,
    bands: Sequence[str],
) -> Cell:
    if suppressed:
        return Cell(group=key, suppressed=True)
    scored = [(f, (f.programme, quarter(f.interviewed_on))) for f in facts if not f.discarded]
    figures = _Figures(cell_secret, minimum)
    per_dimension: dict[str, list[Value]] = defaultdict(list)
    by_band: dict[str, list[tuple[UUID, Slice, str]]] = defaultdict(list)
    names = sorted({name for fact, _ in scored for name, _, _ in fact.dimensions})
    for fact, part in scored:
        for name, value, band in fact.dimensions:
            if value is not None:
                per_dimension[name].append((fact.case_id, part, value))
            if band is not None:
                by_band[name].append((fact.case_id, part, band))
    return Cell(
        group=key,
        suppressed=False,
        administrations=figures.count(len(facts)),
        discarded=figures.count(len(facts) - len(scored)),
        share_target_reached=figures.share(
            "share_target_reached",
            [(f.case_id, p, 1.0 if f.target_reached else 0.0) for f, p in scored if f.target_reached is not None],
        ),
        mean_composite=figures.mean(
            "mean_composite",
            [(f.case_id, p, f.composite) for f, p in scored if f.composite is not None],
            bounds=score_range,
        ),
        mean_by_dimension={
            name: figures.mean(f"dimension:{name}", per_dimension[name], bounds=score_range) for name in names
        },
        share_by_band={name: figures.shares(name, by_band[name], bands) for name in names},
        share_low_accuracy=figures.share(
            "share_low_accuracy", [(f.case_id, p, 1.0 if f.low_accuracy else 0.0) for f, p in scored]
        ),
    )


def aggregate(
    facts: Sequence[ScoreFact],
    *,
    group_by: Sequence[GroupBy],
    minimum_count: int,
    perturbation_key: bytes,
    instrument: str,
    bands: Sequence[str],
    score_range: Range = UNIT,
) -> list[Cell]:
    """One cell per combination of the grouping values present, in a stable order; sliced by the quarter of
    interview and perturbed under `perturbation_key`. `instrument` is the code of the facts' instrument (part of
    every record of the cell key), `bands` every band of its dimensions, in order; `score_range` bounds the mean
    scores (the DoMV's reach from -1 to 1)."""
    groups: dict[Key, list[ScoreFact]] = defaultdict(list)
    for fact in facts:
        groups[_key(fact, group_by)].append(fact)
    members = {
        key: _Members(
            every=[(f.case_id, (f.programme, quarter(f.interviewed_on))) for f in found],
            counted=[(f.case_id, (f.programme, quarter(f.interviewed_on))) for f in found if not f.discarded],
            key=cell_key(perturbation_key, (_record(instrument, f) for f in found if not f.discarded)),
        )
        for key, found in groups.items()
    }
    hidden = _suppressed(members, minimum_count)
    return [
        _cell(
            key,
            groups[key],
            suppressed=key in hidden,
            minimum=minimum_count,
            cell_secret=members[key].key,
            score_range=score_range,
            bands=bands,
        )
        for key in sorted(groups)
    ]


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


def _timeline_record(fact: TimelineFact) -> str:
    return f"{fact.case_id}/{fact.return_quarter}/{fact.days_return_to_plan}"


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
    facts: Sequence[TimelineFact], *, group_by: Sequence[CaseGroupBy], minimum_count: int, perturbation_key: bytes
) -> list[TimelineCell]:
    """Time from return to the first plan approval (DQ-9, indicators.md §13): the number of cases and the
    median days per cell, with the same suppression and perturbation as the score indicators, sliced by the
    quarter of return. A plan approved before the return counts with negative days."""
    groups: dict[Key, list[TimelineFact]] = defaultdict(list)
    for fact in facts:
        groups[_timeline_key(fact, group_by)].append(fact)
    members = {
        key: _Members(
            every=[(f.case_id, (f.programme, f.return_quarter)) for f in found],
            counted=[(f.case_id, (f.programme, f.return_quarter)) for f in found],
            key=cell_key(perturbation_key, (_timeline_record(f) for f in found)),
        )
        for key, found in groups.items()
    }
    hidden = _suppressed(members, minimum_count)
    cells = []
    for key in sorted(groups):
        found = groups[key]
        if key in hidden:
            cells.append(TimelineCell(group=key, suppressed=True))
            continue
        cell = members[key].key
        cells.append(
            TimelineCell(
                group=key,
                suppressed=False,
                cases=noisy_count(cell, len(found)),
                median_days_return_to_plan=perturb_median_days(
                    float(median(f.days_return_to_plan for f in found)), len(found), uniform(cell, "median_days")
                ),
            )
        )
    return cells
