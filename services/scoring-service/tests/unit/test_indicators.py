import uuid
from datetime import date

import pytest

from scoring_service.domain.errors import IndicatorPeriodNotQuarterly
from scoring_service.domain.indicators import (
    NOT_APPLICABLE,
    UNDISCLOSED,
    CaseGroupBy,
    GroupBy,
    Profile,
    ScoreFact,
    TimelineFact,
    aggregate,
    check_quarterly,
    quarter,
    return_to_plan,
    suppressed_cells,
    thinnest_slice,
)


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
    facts = [fact() for _ in range(5)] + [fact(office="sn-dakar") for _ in range(4)]
    facts += [fact(office="iq-erbil") for _ in range(3)]
    berlin, dakar, erbil = sorted(aggregate(facts, group_by=[GroupBy.OFFICE], minimum_count=5), key=str)
    assert (berlin.group, berlin.suppressed, berlin.administrations) == ((("office", "de-berlin"),), False, 5)
    assert (dakar.suppressed, dakar.administrations, dakar.mean_composite, dakar.share_by_band) == (
        True,
        None,
        None,
        {},
    )
    assert erbil.suppressed


def test_shares_and_means_over_the_scored_administrations() -> None:
    facts = [fact(composite=0.4), fact(composite=0.5), fact(composite=0.9, low_accuracy=True)]
    facts.append(fact(discarded=True, composite=None, dimensions=()))
    [cell] = aggregate(facts, group_by=[], minimum_count=3)
    assert (cell.administrations, cell.discarded) == (4, 1)
    assert cell.share_target_reached == pytest.approx(2 / 3)
    assert cell.mean_composite == pytest.approx(0.6)
    assert cell.share_by_band == {"economic": {"standard": 1.0}}
    assert cell.share_low_accuracy == pytest.approx(1 / 3)


@pytest.mark.parametrize(("day", "label"), [(date(2026, 1, 1), "2026-Q1"), (date(2026, 12, 31), "2026-Q4")])
def test_periods_are_calendar_quarters(day: date, label: str) -> None:
    assert quarter(day) == label


def test_cohorts_and_vulnerability_bands_are_disaggregations_with_the_same_suppression() -> None:
    spring, autumn = date(2026, 4, 2), date(2026, 10, 1)
    facts = [fact(opened_on=spring, vulnerability="high") for _ in range(5)]
    facts += [fact(opened_on=autumn, vulnerability="high") for _ in range(2)]
    facts += [fact(opened_on=spring) for _ in range(5)]
    facts += [fact(opened_on=autumn) for _ in range(6)]
    cells = aggregate(facts, group_by=[GroupBy.COHORT, GroupBy.VULNERABILITY], minimum_count=5)
    # one small cell in a 2 x 2 table: its row, its column and so the whole table go (secondary suppression)
    assert [(dict(c.group), c.suppressed, c.administrations) for c in cells] == [
        ({"cohort": "2026-Q2", "vulnerability": "high"}, True, None),
        ({"cohort": "2026-Q2", "vulnerability": "not_screened"}, True, None),
        ({"cohort": "2026-Q4", "vulnerability": "high"}, True, None),
        ({"cohort": "2026-Q4", "vulnerability": "not_screened"}, True, None),
    ]
    by_cohort = aggregate(facts, group_by=[GroupBy.COHORT], minimum_count=5)
    assert [(dict(c.group), c.administrations) for c in by_cohort] == [
        ({"cohort": "2026-Q2"}, 10),
        ({"cohort": "2026-Q4"}, 8),
    ]
    by_band = aggregate(facts, group_by=[GroupBy.VULNERABILITY], minimum_count=6)
    assert [(dict(c.group), c.administrations) for c in by_band] == [
        ({"vulnerability": "high"}, 7),
        ({"vulnerability": "not_screened"}, 11),
    ]


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
    facts = [fact(profile=female) for _ in range(6)] + [fact() for _ in range(5)]
    facts += [fact(profile=Profile(sex="male")) for _ in range(2)] + [fact(profile=Profile(sex="other"))]
    cells = aggregate(facts, group_by=[GroupBy.SEX], minimum_count=5)
    assert [(dict(c.group), c.suppressed, c.administrations) for c in cells] == [
        ({"sex": "female"}, False, 6),
        ({"sex": "male"}, True, None),
        ({"sex": "other"}, True, None),
        ({"sex": UNDISCLOSED}, False, 5),
    ]
    by_origin = aggregate(facts, group_by=[GroupBy.AGE_GROUP, GroupBy.COUNTRY_OF_ORIGIN], minimum_count=5)
    assert [(dict(c.group), c.administrations) for c in by_origin] == [
        ({"age_group": "25-34", "country_of_origin": "SN"}, 6),
        ({"age_group": UNDISCLOSED, "country_of_origin": UNDISCLOSED}, 8),
    ]


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
    facts = [timeline(days, Profile(sex="female")) for days in (3, 10, 20, 27, 30, 14)]
    facts += [timeline(1, Profile(sex="male")) for _ in range(5)]
    facts.append(timeline(31))
    cells = return_to_plan(facts, group_by=[CaseGroupBy.SEX], minimum_count=5)
    assert [(dict(c.group), c.suppressed, c.cases, c.median_days_return_to_plan) for c in cells] == [
        ({"sex": "female"}, False, 6, 17.0),
        ({"sex": "male"}, True, None, None),  # the next-smallest beside the lone undisclosed cell
        ({"sex": UNDISCLOSED}, True, None, None),
    ]
    [total] = return_to_plan(facts, group_by=[CaseGroupBy.COHORT], minimum_count=5)
    assert (dict(total.group), total.cases, total.median_days_return_to_plan) == ({"cohort": "2026-Q4"}, 12, 6.5)


def test_the_return_profile_dimensions_count_undisclosed_and_resettlement_cases_apart() -> None:
    deported = Profile(mode_of_return="forced_deported", host_country="DE", length_of_absence="3-5")
    facts = [fact(profile=deported) for _ in range(5)]
    facts += [fact(profile=Profile(mode_of_return="avrr_voluntary", host_country="IT")) for _ in range(6)]
    facts += [fact() for _ in range(5)]  # no M&E consent to migration history
    facts += [fact(programme="resettlement_integration") for _ in range(5)]
    by_mode = aggregate(facts, group_by=[GroupBy.MODE_OF_RETURN], minimum_count=5)
    assert [(dict(c.group), c.administrations) for c in by_mode] == [
        ({"mode_of_return": "avrr_voluntary"}, 6),
        ({"mode_of_return": "forced_deported"}, 5),
        ({"mode_of_return": NOT_APPLICABLE}, 5),
        ({"mode_of_return": UNDISCLOSED}, 5),
    ]
    by_absence = aggregate(facts, group_by=[GroupBy.LENGTH_OF_ABSENCE], minimum_count=6)
    assert [(dict(c.group), c.suppressed, c.administrations) for c in by_absence] == [
        ({"length_of_absence": "3-5"}, True, None),
        ({"length_of_absence": NOT_APPLICABLE}, True, None),  # 5 below 6 too
        ({"length_of_absence": UNDISCLOSED}, False, 11),
    ]
    crossed = aggregate(facts, group_by=[GroupBy.HOST_COUNTRY, GroupBy.MODE_OF_RETURN], minimum_count=5)
    assert [dict(c.group)["host_country"] for c in crossed if not c.suppressed] == [
        "DE",
        "IT",
        NOT_APPLICABLE,
        UNDISCLOSED,
    ]


def test_return_to_plan_takes_the_return_profile_dimensions_too() -> None:
    facts = [timeline(10, Profile(length_of_absence=">10")) for _ in range(5)]
    facts += [timeline(20, Profile(length_of_absence="<1")) for _ in range(5)]
    cells = return_to_plan(facts, group_by=[CaseGroupBy.LENGTH_OF_ABSENCE], minimum_count=5)
    assert [(dict(c.group), c.cases, c.median_days_return_to_plan) for c in cells] == [
        ({"length_of_absence": "<1"}, 5, 20.0),
        ({"length_of_absence": ">10"}, 5, 10.0),
    ]
    assert set(CaseGroupBy) >= {CaseGroupBy.MODE_OF_RETURN, CaseGroupBy.HOST_COUNTRY}


def test_the_minimum_counts_distinct_cases_and_the_figure_stays_administrations() -> None:
    surveyed_often = uuid.uuid4()
    facts = [fact(case_id=surveyed_often, administration=f"follow_up_{n}") for n in range(5)]
    [alone] = aggregate(facts, group_by=[], minimum_count=5)
    assert (alone.suppressed, alone.administrations) == (True, None)  # five surveys, one person
    facts += [fact() for _ in range(4)]
    [cell] = aggregate(facts, group_by=[], minimum_count=5)
    assert (cell.suppressed, cell.administrations) == (False, 9)  # five people, nine surveys


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
    [cell] = aggregate(spring + summer, group_by=[], minimum_count=5)
    assert cell.suppressed  # eleven cases, but two in the summer quarter
    by_period = aggregate(spring + summer, group_by=[GroupBy.PERIOD], minimum_count=5)
    assert [(dict(c.group), c.suppressed) for c in by_period] == [
        ({"period": "2026-Q2"}, True),  # secondary: the summer cell alone would be the total minus this one
        ({"period": "2026-Q3"}, True),
    ]
    resettled = [fact(programme="resettlement_integration") for _ in range(2)]
    [mixed] = aggregate(spring + resettled, group_by=[], minimum_count=5)
    assert mixed.suppressed  # two resettlement cases in the quarter: a thin programme slice


def test_requests_a_day_or_a_programme_apart_no_longer_isolate_one_person() -> None:
    """The leak: the same cell with and without one person's administration, by a one-day-wider filter (or no
    programme filter), gave that person's score as the difference of two published means."""
    others = [fact(composite=0.5, interviewed_on=date(2026, 12, 1)) for _ in range(5)]
    person = fact(composite=0.9, interviewed_on=date(2027, 1, 1))
    narrow = aggregate(others, group_by=[], minimum_count=5)  # interviewed up to 31 December
    wide = aggregate([*others, person], group_by=[], minimum_count=5)  # up to 1 January, or 31 March now
    assert [(c.suppressed, c.mean_composite) for c in narrow] == [(False, 0.5)]
    assert [(c.suppressed, c.mean_composite) for c in wide] == [(True, None)]  # the 2027-Q1 slice holds one case

    resettled = fact(programme="resettlement_integration", composite=0.1, interviewed_on=date(2026, 12, 2))
    unfiltered = aggregate([*others, resettled], group_by=[], minimum_count=5)
    assert [c.suppressed for c in unfiltered] == [True]  # against `programme=return_reintegration`

    # once the new slices are large enough the wide cell shows, and the difference is a whole slice of five
    newcomers = [fact(composite=0.7, interviewed_on=date(2027, 2, 1)) for _ in range(4)]
    [shown] = aggregate([*others, person, *newcomers], group_by=[], minimum_count=5)
    assert (shown.suppressed, shown.administrations) == (False, 10)


def test_return_to_plan_is_sliced_by_programme_and_quarter_of_return() -> None:
    autumn = [timeline(10) for _ in range(5)]
    late = timeline(90, returned="2027-Q1")
    assert [c.cases for c in return_to_plan(autumn, group_by=[], minimum_count=5)] == [5]
    assert [(c.suppressed, c.cases) for c in return_to_plan([*autumn, late], group_by=[], minimum_count=5)] == [
        (True, None)
    ]
    resettled = timeline(40, programme="resettlement_integration")
    by_cohort = return_to_plan([*autumn, resettled], group_by=[CaseGroupBy.COHORT], minimum_count=5)
    assert [(dict(c.group), c.suppressed) for c in by_cohort] == [({"cohort": "2026-Q4"}, True)]


def test_scores_disaggregate_by_the_disclosed_quarter_of_return() -> None:
    facts = [fact(profile=Profile(return_quarter="2026-Q3")) for _ in range(5)]
    facts += [fact(profile=Profile(return_quarter="2026-Q4")) for _ in range(6)]
    facts += [fact() for _ in range(5)]  # no consent to migration history, or not returned yet
    facts += [fact(programme="resettlement_integration", profile=Profile(return_quarter="2026-Q4")) for _ in range(5)]
    cells = aggregate(facts, group_by=[GroupBy.RETURN_COHORT], minimum_count=5)
    assert [(dict(c.group), c.suppressed, c.administrations) for c in cells] == [
        ({"return_cohort": "2026-Q3"}, False, 5),
        ({"return_cohort": "2026-Q4"}, False, 11),
        ({"return_cohort": UNDISCLOSED}, False, 5),
    ]
