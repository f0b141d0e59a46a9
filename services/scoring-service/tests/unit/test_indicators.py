from datetime import date

import pytest

from scoring_service.domain.indicators import GroupBy, ScoreFact, aggregate, quarter


def fact(office: str = "de-berlin", composite: float | None = 0.6, **extra: object) -> ScoreFact:
    values: dict[str, object] = {
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
    berlin, dakar = aggregate(facts, group_by=[GroupBy.OFFICE], minimum_count=5)
    assert (berlin.group, berlin.suppressed, berlin.administrations) == ((("office", "de-berlin"),), False, 5)
    assert (dakar.suppressed, dakar.administrations, dakar.mean_composite, dakar.share_by_band) == (
        True,
        None,
        None,
        {},
    )


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
    cells = aggregate(facts, group_by=[GroupBy.COHORT, GroupBy.VULNERABILITY], minimum_count=5)
    assert [(dict(c.group), c.suppressed, c.administrations) for c in cells] == [
        ({"cohort": "2026-Q2", "vulnerability": "high"}, False, 5),
        ({"cohort": "2026-Q2", "vulnerability": "not_screened"}, False, 5),
        ({"cohort": "2026-Q4", "vulnerability": "high"}, True, None),
    ]
    by_band = aggregate(facts, group_by=[GroupBy.VULNERABILITY], minimum_count=6)
    assert [(dict(c.group), c.administrations) for c in by_band] == [
        ({"vulnerability": "high"}, 7),
        ({"vulnerability": "not_screened"}, None),
    ]
