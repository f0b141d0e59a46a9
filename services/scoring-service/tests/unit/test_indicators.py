import random
import uuid
from collections.abc import Sequence
from datetime import date
from statistics import median

import pytest
from pydantic import ValidationError

from scoring_service.domain.errors import IndicatorPeriodNotQuarterly
from scoring_service.domain.indicators import (
    NOT_APPLICABLE,
    UNDISCLOSED,
    CaseGroupBy,
    Cell,
    GroupBy,
    Profile,
    ScoreFact,
    TimelineCell,
    TimelineFact,
    aggregate,
    cell_key,
    check_quarterly,
    perturb_count,
    perturb_mean,
    perturb_median_days,
    quarter,
    return_to_plan,
    suppressed_cells,
    thinnest_slice,
    uniform,
)
from scoring_service.settings import Settings

KEY = b"unit-test-perturbation-key-0123456789"
BANDS = ("intensified", "standard", "hands_off")


def cells(
    facts: Sequence[ScoreFact], *group_by: GroupBy, minimum: int = 5, instrument: str = "rss", key: bytes = KEY
) -> list[Cell]:
    return aggregate(
        facts, group_by=list(group_by), minimum_count=minimum, perturbation_key=key, instrument=instrument, bands=BANDS
    )


def plans(facts: Sequence[TimelineFact], *group_by: CaseGroupBy, minimum: int = 5) -> list[TimelineCell]:
    return return_to_plan(facts, group_by=list(group_by), minimum_count=minimum, perturbation_key=KEY)


def near(count: int | None, exact: int) -> bool:
    """A perturbed count: within 2 of the exact one."""
    return count is not None and abs(count - exact) <= 2


def within(value: float | None, exact: float, cases: int) -> bool:
    """A perturbed mean over `cases` cases: within half a person's weight, and the rounding."""
    return value is not None and abs(value - exact) <= 0.5 / cases + 5e-4


def shared(value: float | None, count: int, of: int) -> bool:
    """A perturbed share `count / of`: a numerator within 2, clamped, over a denominator within 2."""
    return value in {
        round(min(n, max(0, c)) / n, 3) for c in range(count - 2, count + 3) for n in range(max(1, of - 2), of + 3)
    }


def fact(office: str = "de-berlin", composite: float | None = 0.6, **extra: object) -> ScoreFact:
    """An administration of a case of its own unless `case_id` is given."""
    values: dict[str, object] = {
        "case_id": uuid.uuid4(),
        "programme": "return_reintegration",
        "office": office,
        "administration": "baseline",
        "interviewed_on": date(2026, 12, 1),
        "instrument_version": "rss-default-v0",
        "composite": composite,
        "target_reached": None if composite is None else composite >= 0.5,
        "dimensions": (("economic", composite, "standard"),),
        **extra,
    }
    return ScoreFact(**values)  # type: ignore[arg-type]


def test_a_cell_below_the_minimum_count_shows_no_figures() -> None:
    facts = [fact() for _ in range(7)] + [fact(office="sn-dakar") for _ in range(4)]
    facts += [fact(office="iq-erbil") for _ in range(3)]
    berlin, dakar, erbil = sorted(cells(facts, GroupBy.OFFICE), key=str)
    assert (berlin.group, berlin.suppressed) == ((("office", "de-berlin"),), False)
    assert near(berlin.administrations, 7)
    assert (dakar.suppressed, dakar.administrations, dakar.mean_composite, dakar.share_by_band) == (
        True,
        None,
        None,
        {},
    )
    assert erbil.suppressed


def test_shares_and_means_over_the_scored_administrations() -> None:
    facts = [fact(composite=0.4), fact(composite=0.5), fact(composite=0.9, low_accuracy=True), fact(composite=0.6)]
    facts.append(fact(discarded=True, composite=None, dimensions=()))
    [cell] = cells(facts, minimum=2)
    assert near(cell.administrations, 5)
    assert near(cell.discarded, 1)
    assert shared(cell.share_target_reached, 3, 4)
    assert within(cell.mean_composite, 0.6, 4)
    assert cell.share_by_band.keys() == {"economic"}
    assert shared((cell.share_by_band["economic"] or {})["standard"], 4, 4)
    assert shared(cell.share_low_accuracy, 1, 4)


@pytest.mark.parametrize(("day", "label"), [(date(2026, 1, 1), "2026-Q1"), (date(2026, 12, 31), "2026-Q4")])
def test_periods_are_calendar_quarters(day: date, label: str) -> None:
    assert quarter(day) == label


def test_cohorts_and_vulnerability_bands_are_disaggregations_with_the_same_suppression() -> None:
    spring, autumn = date(2026, 4, 2), date(2026, 10, 1)
    facts = [fact(opened_on=spring, vulnerability="high") for _ in range(5)]
    facts += [fact(opened_on=autumn, vulnerability="high") for _ in range(2)]
    facts += [fact(opened_on=spring) for _ in range(5)]
    facts += [fact(opened_on=autumn) for _ in range(6)]
    table = cells(facts, GroupBy.COHORT, GroupBy.VULNERABILITY)
    # one small cell in a 2 x 2 table: its row, its column and so the whole table go (secondary suppression)
    assert [(dict(c.group), c.suppressed, c.administrations) for c in table] == [
        ({"cohort": "2026-Q2", "vulnerability": "high"}, True, None),
        ({"cohort": "2026-Q2", "vulnerability": "not_screened"}, True, None),
        ({"cohort": "2026-Q4", "vulnerability": "high"}, True, None),
        ({"cohort": "2026-Q4", "vulnerability": "not_screened"}, True, None),
    ]
    by_cohort = cells(facts, GroupBy.COHORT)
    assert [dict(c.group) for c in by_cohort] == [{"cohort": "2026-Q2"}, {"cohort": "2026-Q4"}]
    assert [near(c.administrations, n) for c, n in zip(by_cohort, (10, 8), strict=True)] == [True, True]
    by_band = cells(facts, GroupBy.VULNERABILITY)
    assert [dict(c.group) for c in by_band] == [{"vulnerability": "high"}, {"vulnerability": "not_screened"}]
    assert [near(c.administrations, n) for c, n in zip(by_band, (7, 11), strict=True)] == [True, True]


def key(**values: str) -> tuple[tuple[str, str], ...]:
    return tuple(values.items())


def test_a_lone_suppressed_cell_takes_the_next_smallest_with_it() -> None:
    counts = {key(sex="female"): 9, key(sex="male"): 7, key(sex="other"): 2, key(sex=UNDISCLOSED): 12}
    assert suppressed_cells(counts, 5) == {key(sex="other"), key(sex="male")}


def test_two_suppressed_cells_need_no_secondary_suppression() -> None:
    counts = {key(office="a"): 9, key(office="b"): 3, key(office="c"): 4}
    assert suppressed_cells(counts, 5) == {key(office="b"), key(office="c")}


def test_nothing_small_means_nothing_suppressed_and_a_single_cell_stands_alone() -> None:
    assert suppressed_cells({key(office="a"): 5, key(office="b"): 6}, 5) == frozenset()
    assert suppressed_cells({key(office="a"): 3}, 5) == {key(office="a")}


def test_in_a_cross_table_every_row_and_column_keeps_zero_or_at_least_two_suppressed_cells() -> None:
    grid = {("r1", "c1"): 2, ("r1", "c2"): 10, ("r1", "c3"): 10}
    grid |= {("r2", "c1"): 10, ("r2", "c2"): 10, ("r2", "c3"): 10}
    grid |= {("r3", "c1"): 10, ("r3", "c2"): 10, ("r3", "c3"): 12}
    counts = {key(row=r, col=c): n for (r, c), n in grid.items()}
    hidden = suppressed_cells(counts, 5)
    assert hidden == {key(row=r, col=c) for r in ("r1", "r2") for c in ("c1", "c2")}
    for line in [[key(row=r, col=c) for c in ("c1", "c2", "c3")] for r in ("r1", "r2", "r3")] + [
        [key(row=r, col=c) for r in ("r1", "r2", "r3")] for c in ("c1", "c2", "c3")
    ]:
        assert sum(k in hidden for k in line) != 1


def test_profile_dimensions_put_undisclosed_facts_in_their_own_cell() -> None:
    female = Profile(sex="female", age_group="25-34", country_of_origin="SN", country_of_return="SN")
    facts = [fact(profile=female) for _ in range(8)] + [fact() for _ in range(7)]
    facts += [fact(profile=Profile(sex="male")) for _ in range(2)] + [fact(profile=Profile(sex="other"))]
    by_sex = cells(facts, GroupBy.SEX)
    assert [(dict(c.group), c.suppressed) for c in by_sex] == [
        ({"sex": "female"}, False),
        ({"sex": "male"}, True),
        ({"sex": "other"}, True),
        ({"sex": UNDISCLOSED}, False),
    ]
    assert [near(by_sex[0].administrations, 8), near(by_sex[3].administrations, 7)] == [True, True]
    by_origin = cells(facts, GroupBy.AGE_GROUP, GroupBy.COUNTRY_OF_ORIGIN)
    assert [(dict(c.group), c.suppressed) for c in by_origin] == [
        ({"age_group": "25-34", "country_of_origin": "SN"}, False),
        ({"age_group": UNDISCLOSED, "country_of_origin": UNDISCLOSED}, False),
    ]
    assert near(by_origin[1].administrations, 10)


def timeline(
    days: int, profile: Profile | None = None, *, returned: str = "2026-Q4", programme: str = "return_reintegration"
) -> TimelineFact:
    return TimelineFact(
        case_id=uuid.uuid4(),
        programme=programme,
        office="sn-dakar",
        return_quarter=returned,
        days_return_to_plan=days,
        profile=profile or Profile(),
    )


def test_time_from_return_to_plan_approval_is_the_median_in_days_per_cell() -> None:
    facts = [timeline(days, Profile(sex="female")) for days in (3, 10, 20, 27, 30, 14, 16)]
    facts += [timeline(1, Profile(sex="male")) for _ in range(5)]
    facts.append(timeline(31))
    by_sex = plans(facts, CaseGroupBy.SEX)
    assert [(dict(c.group), c.suppressed, c.cases, c.median_days_return_to_plan) for c in by_sex[1:]] == [
        ({"sex": "male"}, True, None, None),  # the next-smallest beside the lone undisclosed cell
        ({"sex": UNDISCLOSED}, True, None, None),
    ]
    female = by_sex[0]
    assert (dict(female.group), female.suppressed, near(female.cases, 7)) == ({"sex": "female"}, False, True)
    assert female.median_days_return_to_plan == pytest.approx(16.0, abs=30 / 7 + 0.05)
    [total] = plans(facts, CaseGroupBy.COHORT)
    assert (dict(total.group), near(total.cases, 13)) == ({"cohort": "2026-Q4"}, True)
    assert total.median_days_return_to_plan == pytest.approx(10.0, abs=30 / 13 + 0.05)


def test_the_return_profile_dimensions_count_undisclosed_and_resettlement_cases_apart() -> None:
    deported = Profile(mode_of_return="forced_deported", host_country="DE", length_of_absence="3-5")
    facts = [fact(profile=deported) for _ in range(7)]
    facts += [fact(profile=Profile(mode_of_return="avrr_voluntary", host_country="IT")) for _ in range(8)]
    facts += [fact() for _ in range(7)]  # no M&E consent to migration history
    facts += [fact(programme="resettlement_integration") for _ in range(7)]
    by_mode = cells(facts, GroupBy.MODE_OF_RETURN)
    assert [(dict(c.group), c.suppressed) for c in by_mode] == [
        ({"mode_of_return": "avrr_voluntary"}, False),
        ({"mode_of_return": "forced_deported"}, False),
        ({"mode_of_return": NOT_APPLICABLE}, False),
        ({"mode_of_return": UNDISCLOSED}, False),
    ]
    by_absence = cells(facts, GroupBy.LENGTH_OF_ABSENCE, minimum=9)
    assert [(dict(c.group), c.suppressed, c.administrations) for c in by_absence[:2]] == [
        ({"length_of_absence": "3-5"}, True, None),
        ({"length_of_absence": NOT_APPLICABLE}, True, None),  # 7 below 9 too
    ]
    assert (dict(by_absence[2].group), near(by_absence[2].administrations, 15)) == (
        {"length_of_absence": UNDISCLOSED},
        True,
    )
    crossed = cells(facts, GroupBy.HOST_COUNTRY, GroupBy.MODE_OF_RETURN)
    assert [dict(c.group)["host_country"] for c in crossed if not c.suppressed] == [
        "DE",
        "IT",
        NOT_APPLICABLE,
        UNDISCLOSED,
    ]


def test_return_to_plan_takes_the_return_profile_dimensions_too() -> None:
    facts = [timeline(10, Profile(length_of_absence=">10")) for _ in range(7)]
    facts += [timeline(20, Profile(length_of_absence="<1")) for _ in range(7)]
    by_absence = plans(facts, CaseGroupBy.LENGTH_OF_ABSENCE)
    assert [dict(c.group) for c in by_absence] == [{"length_of_absence": "<1"}, {"length_of_absence": ">10"}]
    for cell, days in zip(by_absence, (20.0, 10.0), strict=True):
        assert near(cell.cases, 7)
        assert cell.median_days_return_to_plan == pytest.approx(days, abs=30 / 7 + 0.05)
    assert set(CaseGroupBy) >= {CaseGroupBy.MODE_OF_RETURN, CaseGroupBy.HOST_COUNTRY}


def test_the_minimum_counts_distinct_cases_and_the_figure_stays_administrations() -> None:
    surveyed_often = uuid.uuid4()
    facts = [fact(case_id=surveyed_often, administration=f"follow_up_{n}") for n in range(5)]
    [alone] = cells(facts)
    assert (alone.suppressed, alone.administrations) == (True, None)  # five surveys, one person
    facts += [fact() for _ in range(6)]
    [cell] = cells(facts)
    assert (cell.suppressed, near(cell.administrations, 11)) == (False, True)  # seven people, eleven surveys


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (None, None),
        (date(2026, 1, 1), date(2026, 3, 31)),
        (date(2026, 4, 1), date(2026, 6, 30)),
        (date(2026, 7, 1), date(2027, 9, 30)),
        (date(2026, 10, 1), None),
        (None, date(2026, 12, 31)),
    ],
)
def test_whole_quarter_bounds_are_accepted(start: date | None, end: date | None) -> None:
    check_quarterly(start, end, names=("interviewed_from", "interviewed_to"))


@pytest.mark.parametrize(
    ("start", "end", "parameter"),
    [
        (date(2026, 1, 2), None, "returned_from"),
        (date(2026, 2, 1), date(2026, 3, 31), "returned_from"),
        (None, date(2026, 3, 30), "returned_to"),
        (date(2026, 4, 1), date(2026, 6, 1), "returned_to"),
        (date(2026, 12, 31), date(2026, 12, 31), "returned_from"),  # a single day
        (date(2026, 10, 1), date(2026, 10, 1), "returned_to"),
    ],
)
def test_a_bound_inside_a_quarter_is_refused_naming_the_parameter(
    start: date | None, end: date | None, parameter: str
) -> None:
    with pytest.raises(IndicatorPeriodNotQuarterly) as refused:
        check_quarterly(start, end, names=("returned_from", "returned_to"))
    assert refused.value.code == "indicator-period-not-quarterly"
    assert refused.value.context == {"parameter": parameter}


def test_the_thinnest_slice_counts_distinct_cases_per_programme_and_quarter() -> None:
    one, two = uuid.uuid4(), uuid.uuid4()
    q1, q2 = ("return_reintegration", "2026-Q1"), ("return_reintegration", "2026-Q2")
    assert thinnest_slice([(one, q1), (one, q1), (two, q1), (one, q2)]) == 1
    assert thinnest_slice([(one, q1), (two, q1)]) == 2


def test_a_cell_with_a_thin_slice_is_suppressed_however_large_it_is() -> None:
    spring = [fact(interviewed_on=date(2026, 4, 15)) for _ in range(9)]
    summer = [fact(interviewed_on=date(2026, 7, 3)) for _ in range(2)]
    [cell] = cells(spring + summer)
    assert cell.suppressed  # eleven cases, but two in the summer quarter
    by_period = cells(spring + summer, GroupBy.PERIOD)
    assert [(dict(c.group), c.suppressed) for c in by_period] == [
        ({"period": "2026-Q2"}, True),  # secondary: the summer cell alone would be the total minus this one
        ({"period": "2026-Q3"}, True),
    ]
    resettled = [fact(programme="resettlement_integration") for _ in range(2)]
    [mixed] = cells(spring + resettled)
    assert mixed.suppressed  # two resettlement cases in the quarter: a thin programme slice


def test_requests_a_day_or_a_programme_apart_no_longer_isolate_one_person() -> None:
    """The leak: the same cell with and without one person's administration, by a one-day-wider filter (or no
    programme filter), gave that person's score as the difference of two published means."""
    others = [fact(composite=0.5, interviewed_on=date(2026, 12, 1)) for _ in range(7)]
    person = fact(composite=0.9, interviewed_on=date(2027, 1, 1))
    [narrow] = cells(others)  # interviewed up to 31 December
    wide = cells([*others, person])  # up to 1 January, or 31 March now
    assert (narrow.suppressed, within(narrow.mean_composite, 0.5, 7)) == (False, True)
    assert [(c.suppressed, c.mean_composite) for c in wide] == [(True, None)]  # the 2027-Q1 slice holds one case

    resettled = fact(programme="resettlement_integration", composite=0.1, interviewed_on=date(2026, 12, 2))
    unfiltered = cells([*others, resettled])
    assert [c.suppressed for c in unfiltered] == [True]  # against `programme=return_reintegration`

    # once the new slices are large enough the wide cell shows, and the difference is a whole slice of five
    newcomers = [fact(composite=0.7, interviewed_on=date(2027, 2, 1)) for _ in range(4)]
    [shown] = cells([*others, person, *newcomers])
    assert (shown.suppressed, near(shown.administrations, 12)) == (False, True)


def test_return_to_plan_is_sliced_by_programme_and_quarter_of_return() -> None:
    autumn = [timeline(10) for _ in range(7)]
    late = timeline(90, returned="2027-Q1")
    [alone] = plans(autumn)
    assert (alone.suppressed, near(alone.cases, 7)) == (False, True)
    assert [(c.suppressed, c.cases) for c in plans([*autumn, late])] == [(True, None)]
    resettled = timeline(40, programme="resettlement_integration")
    by_cohort = plans([*autumn, resettled], CaseGroupBy.COHORT)
    assert [(dict(c.group), c.suppressed) for c in by_cohort] == [({"cohort": "2026-Q4"}, True)]


def test_scores_disaggregate_by_the_disclosed_quarter_of_return() -> None:
    facts = [fact(profile=Profile(return_quarter="2026-Q3")) for _ in range(7)]
    facts += [fact(profile=Profile(return_quarter="2026-Q4")) for _ in range(7)]
    facts += [fact() for _ in range(7)]  # no consent to migration history, or not returned yet
    facts += [fact(programme="resettlement_integration", profile=Profile(return_quarter="2026-Q4")) for _ in range(7)]
    by_return = cells(facts, GroupBy.RETURN_COHORT)
    assert [(dict(c.group), c.suppressed) for c in by_return] == [
        ({"return_cohort": "2026-Q3"}, False),
        ({"return_cohort": "2026-Q4"}, False),
        ({"return_cohort": UNDISCLOSED}, False),
    ]
    assert [near(c.administrations, n) for c, n in zip(by_return, (7, 14, 7), strict=True)] == [True] * 3


def test_cases_with_only_a_discarded_survey_do_not_make_up_the_minimum() -> None:
    """The leak: four cases with only an interrupted survey and one scored case made a cell of five, which
    showed that one person's exact mean."""
    facts = [fact(discarded=True, composite=None, dimensions=()) for _ in range(4)] + [fact(composite=0.83)]
    assert [(c.suppressed, c.mean_composite, c.administrations) for c in cells(facts)] == [(True, None, None)]


def test_a_figure_fewer_cases_than_the_minimum_have_a_value_for_is_withheld() -> None:
    answered = (("economic", 0.6, "standard"), ("safety", 0.4, "standard"))
    facts = [fact(dimensions=answered)] + [fact(dimensions=(("economic", 0.6, "standard"),)) for _ in range(7)]
    facts += [fact(composite=None, dimensions=(("economic", 0.6, "standard"),)) for _ in range(1)]
    [cell] = cells(facts)
    assert not cell.suppressed
    assert cell.mean_by_dimension["safety"] is None  # one person's dimension score
    assert cell.share_by_band["safety"] is None
    assert within(cell.mean_by_dimension["economic"], 0.6, 9)
    assert within(cell.mean_composite, 0.6, 8)  # the composite over the eight cases that have one
    late = [fact(interviewed_on=date(2027, 1, 5), dimensions=answered)]  # a thin slice behind the figure
    [sliced] = cells([*facts, *(fact(interviewed_on=date(2027, 1, 5)) for _ in range(6)), *late])
    assert not sliced.suppressed
    assert sliced.mean_by_dimension["safety"] is None  # two cases: the 2026-Q4 one and the 2027-Q1 one


def test_the_same_cases_always_get_the_same_noise_in_any_order_or_request() -> None:
    facts = [
        fact(case_id=uuid.UUID(int=n + 1), composite=round(0.06 * n, 2), office=("de-berlin", "sn-dakar")[n % 2])
        for n in range(16)
    ]
    first = cells(facts, GroupBy.OFFICE)
    assert cells(list(reversed(facts)), GroupBy.OFFICE) == first
    # the Berlin cell re-sliced out of another request (a programme filter, a wider table) is the same cell
    berlin = [f for f in facts if f.office == "de-berlin"]
    assert cells(berlin, GroupBy.OFFICE) == [first[0]]
    wider = cells(facts, GroupBy.OFFICE, GroupBy.PROGRAMME)
    assert next(c for c in wider if c.group[0] == ("office", "de-berlin")).mean_composite == first[0].mean_composite
    other_key = cells(facts, GroupBy.OFFICE, key=b"another-key" * 3)
    assert [c.mean_composite for c in other_key] != [c.mean_composite for c in first]


def test_a_new_survey_of_a_case_already_in_the_cell_gives_the_cell_new_noise() -> None:
    """Keyed on the cases alone, the request repeated after one person's follow-up would keep its noise, and the
    exact change of the mean would give that survey's score."""
    baseline = [fact(case_id=uuid.UUID(int=n + 1), composite=0.5) for n in range(8)]
    follow_up = fact(case_id=uuid.UUID(int=1), composite=0.5, administration="follow_up_1")
    [before], [after] = cells(baseline), cells([*baseline, follow_up])
    assert (before.suppressed, after.suppressed) == (False, False)
    assert before.mean_composite != after.mean_composite  # the same exact mean, 0.5, under new noise
    assert cells(baseline) == [before]


def test_the_noise_stays_within_its_bounds() -> None:
    assert (perturb_count(0, 0.0), perturb_count(5, 0.0), perturb_count(5, 0.5), perturb_count(5, 1 - 1e-12)) == (
        0,
        3,
        5,
        7,
    )
    assert (perturb_mean(0.5, 10, 0.0), perturb_mean(0.5, 10, 1 - 1e-12), perturb_mean(1.0, 2, 0.99)) == (
        0.45,
        0.55,
        1.0,
    )
    assert (perturb_mean(0.0, 4, 0.5, bounds=(-1.0, 1.0)), perturb_median_days(10.0, 20, 0.0)) == (0.0, 8.5)
    units = [uniform(cell_key(KEY, [str(uuid.UUID(int=n))]), "cases") for n in range(500)]
    assert all(0 <= u < 1 for u in units)
    assert {perturb_count(10, u) for u in units} == {8, 9, 10, 11, 12}
    rng = random.Random(7)  # noqa: S311 - reproducible test data, not a secret
    for _ in range(200):
        n = rng.randint(7, 30)  # always shown: a perturbed count of at least 5
        values = [rng.random() for _ in range(n)]
        [cell] = cells([fact(composite=v) for v in values])
        exact = sum(values) / n
        assert cell.mean_composite is not None
        assert 0 <= cell.mean_composite <= 1
        assert abs(cell.mean_composite - exact) <= 0.5 / n + 5e-4
        assert near(cell.administrations, n)
        assert near(cell.discarded, 0)
        assert cell.discarded is not None
        assert cell.discarded >= 0
        days = [rng.randint(-10, 200) for _ in range(n)]
        [plan] = plans([timeline(d) for d in days])
        ordered = sorted(days)
        middle = (ordered[(n - 1) // 2] + ordered[n // 2]) / 2
        assert plan.median_days_return_to_plan is not None
        assert abs(plan.median_days_return_to_plan - middle) <= 30 / n + 0.05


def seeded(rng: random.Random, n: int, day: date, sex: str | None) -> list[ScoreFact]:
    return [
        fact(
            case_id=uuid.UUID(int=rng.getrandbits(128)),
            composite=round(rng.random(), 3),
            interviewed_on=day,
            profile=Profile(sex=sex),
        )
        for _ in range(n)
    ]


def test_four_linked_tables_no_longer_recover_one_person_s_score() -> None:
    """The leak: Q2 total; Q2 by sex (the lone woman and undisclosed hidden, men shown); Q1-Q2 by sex; Q1 by sex.
    Then undisclosed(Q2) = undisclosed(Q1-Q2) - undisclosed(Q1) and woman = total(Q2) - male(Q2) - undisclosed(Q2),
    in sums of scores (the mean times the scored administrations)."""
    rng = random.Random(20260401)  # noqa: S311 - a seeded case set, not a secret
    spring, summer = date(2026, 2, 10), date(2026, 5, 10)
    q1 = seeded(rng, 8, spring, "female") + seeded(rng, 9, spring, "male") + seeded(rng, 14, spring, None)
    woman = seeded(rng, 1, summer, "female")
    q2 = woman + seeded(rng, 8, summer, "male") + seeded(rng, 7, summer, None)

    def published(facts: Sequence[ScoreFact], sex: str | None = None) -> float:
        found = [c for c in cells(facts, *([GroupBy.SEX] if sex else [])) if sex is None or c.group[0][1] == sex]
        [cell] = found
        assert not cell.suppressed, cell.group  # every figure the attack needs is published
        assert cell.mean_composite is not None
        assert cell.administrations is not None
        assert cell.discarded is not None
        return cell.mean_composite * (cell.administrations - cell.discarded)

    def exact(facts: Sequence[ScoreFact], sex: str | None = None) -> float:
        return sum(f.composite or 0.0 for f in facts if sex is None or f.profile.value("sex", programme="") == sex)

    hidden = {c.group[0][1] for c in cells(q2, GroupBy.SEX) if c.suppressed}
    assert hidden == {"female", UNDISCLOSED}
    assert "female" in {c.group[0][1] for c in cells(q1 + q2, GroupBy.SEX) if c.suppressed}

    def attack(figure: object) -> float:
        total = figure(q2)  # type: ignore[operator]
        male = figure(q2, "male")  # type: ignore[operator]
        undisclosed = figure(q1 + q2, UNDISCLOSED) - figure(q1, UNDISCLOSED)  # type: ignore[operator]
        return float(total - male - undisclosed)

    score = woman[0].composite or 0.0
    assert attack(exact) == pytest.approx(score)  # without the noise the arithmetic gives her exact score
    assert abs(attack(published) - score) >= 0.05  # the published figures' noise moves it away


def test_the_local_perturbation_key_is_refused_outside_development() -> None:
    local = {"database_url": "postgresql+asyncpg://x@h/db", "oidc_issuer": "https://id.example.org"}
    assert "localdev" in Settings(**local).indicators_perturbation_key.get_secret_value()  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="indicators_perturbation_key"):
        Settings(**local, environment="production")  # type: ignore[arg-type]
    real = "k" * 48
    production = Settings(**local, environment="production", indicators_perturbation_key=real)  # type: ignore[arg-type]
    assert production.indicators_perturbation_key.get_secret_value() == real


def test_every_band_of_the_instrument_is_listed_zeros_included() -> None:
    """The leak: a cell listed only the bands among its cases, so which keys appeared in linked tables gave a
    hidden person's band."""
    facts = [fact(dimensions=(("economic", 0.5, "standard"), ("safety", 0.9, "hands_off"))) for _ in range(9)]
    [cell] = cells(facts)
    assert list(cell.share_by_band) == ["economic", "safety"]
    for name, band in (("economic", "standard"), ("safety", "hands_off")):
        shares = cell.share_by_band[name] or {}
        assert list(shares) == list(BANDS)
        assert all(shared(shares[b], 9 if b == band else 0, 9) for b in BANDS)
    screened = aggregate(
        facts, group_by=[], minimum_count=5, perturbation_key=KEY, instrument="domv", bands=("low", "medium", "high")
    )
    assert [list(shares or {}) for shares in screened[0].share_by_band.values()] == [["low", "medium", "high"]] * 2


def test_a_share_times_its_count_no_longer_gives_the_exact_count() -> None:
    """The leak: a share moved by at most half of 1/n, so round(share * n) gave the count, and the four linked
    tables of the score attack gave the hidden woman's `target_reached` in 196 of 200 case sets."""
    recovered = 0
    for seed in range(200):
        rng = random.Random(seed)  # noqa: S311 - seeded case sets, not a secret
        spring, summer = date(2026, 2, 10), date(2026, 5, 10)
        q1 = seeded(rng, 8, spring, "female") + seeded(rng, 9, spring, "male") + seeded(rng, 14, spring, None)
        woman = seeded(rng, 1, summer, "female")
        q2 = woman + seeded(rng, 8, summer, "male") + seeded(rng, 7, summer, None)

        def reached(facts: Sequence[ScoreFact], sex: str | None = None) -> int:
            """The count the attacker reads: the share times the true number of scored administrations."""
            chosen = [f for f in facts if sex is None or f.profile.value("sex", programme="") == sex]
            [cell] = [c for c in cells(facts, *([GroupBy.SEX] if sex else [])) if c.group in ((), (("sex", sex),))]
            assert cell.share_target_reached is not None
            return round(cell.share_target_reached * len(chosen))

        attack = reached(q2) - reached(q2, "male") - (reached(q1 + q2, UNDISCLOSED) - reached(q1, UNDISCLOSED))
        recovered += attack == int(bool(woman[0].target_reached))
    assert recovered < 100  # was 196 of 200; 28 now, when the four noises happen to cancel


def test_rss_and_domv_cells_over_the_same_records_draw_different_noise() -> None:
    facts = [fact(case_id=uuid.UUID(int=n + 1), composite=0.5) for n in range(12)]
    [rss], [domv] = cells(facts), cells(facts, instrument="domv")
    figures = ("administrations", "share_target_reached", "mean_composite", "share_low_accuracy")
    assert [getattr(rss, f) for f in figures] != [getattr(domv, f) for f in figures]
    assert cells(facts) == [rss]


def test_a_changed_timeline_value_changes_the_cell_s_noise() -> None:
    """The leak: keyed on the case ids alone, correcting one case's date moved the median by exactly the true
    change."""
    ids = [uuid.UUID(int=n + 1) for n in range(9)]

    def noise(days: Sequence[int], returned: str = "2026-Q4") -> float:
        facts = [
            TimelineFact(
                case_id=i,
                programme="return_reintegration",
                office="sn-dakar",
                return_quarter=returned,
                days_return_to_plan=d,
            )
            for i, d in zip(ids, days, strict=True)
        ]
        [cell] = plans(facts)
        assert cell.median_days_return_to_plan is not None
        return cell.median_days_return_to_plan - float(median(days))

    before = noise([10] * 9)
    assert noise([10] * 8 + [11]) != before  # the median stays 10, the noise does not
    assert noise([10] * 9, returned="2026-Q3") != before
    assert noise([10] * 9) == before
