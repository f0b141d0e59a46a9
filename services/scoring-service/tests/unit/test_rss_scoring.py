from fractions import Fraction

import pytest

from scoring_service.domain.errors import AnswersInvalid
from scoring_service.domain.instruments import InstrumentDocument
from scoring_service.domain.scoring import Answer, Band, band, check_answers, score
from scoring_service.instruments import shipped
from scoring_service.instruments.worked_examples import T1, T2, T3, T4, T5, T6


@pytest.fixture(scope="module")
def rss() -> InstrumentDocument:
    return next(d for d in shipped() if d.version == "rss-default-v0")


def f(fraction: str) -> float:
    return float(Fraction(fraction))


@pytest.mark.parametrize(
    ("answers", "economic", "social", "psychosocial", "composite", "dimension_mean", "dk_dwa", "flag"),
    [
        (T1, 1.0, 1.0, 1.0, 1.0, 1.0, 0, False),
        (T2, 0.0, 0.0, 0.0, 0.0, 0.0, 0, False),
        (T3, f("3/20"), f("68/110"), f("625/1100"), 0.4546875, None, 0, False),
        (T4, 0.15625, f("4125/7000"), f("55/80"), f("10875/23000"), None, 8, True),
        (T5, f("3/20"), f("68/110"), f("725/1100"), 0.4859375, None, 0, False),
        (T6, 0.15625, f("4125/7000"), 0.55, f("10875/25000"), None, 7, False),
    ],
    ids=["T1", "T2", "T3", "T4", "T5", "T6"],
)
def test_the_worked_cases_score_exactly_as_the_spec_says(
    rss: InstrumentDocument,
    answers: dict[str, Answer],
    economic: float,
    social: float,
    psychosocial: float,
    composite: float,
    dimension_mean: float | None,
    dk_dwa: int,
    flag: bool,
) -> None:
    result = score(rss, answers)
    assert result.dimension("economic") == pytest.approx(economic, abs=1e-12)
    assert result.dimension("social") == pytest.approx(social, abs=1e-12)
    assert result.dimension("psychosocial") == pytest.approx(psychosocial, abs=1e-12)
    assert result.composite == pytest.approx(composite, abs=1e-12)
    expected_mean = dimension_mean if dimension_mean is not None else (economic + social + psychosocial) / 3
    assert result.composite_dimension_mean == pytest.approx(expected_mean, abs=1e-12)
    assert (result.dk_dwa_count, result.low_accuracy_flag) == (dk_dwa, flag)


@pytest.mark.parametrize(
    ("answers", "composite_mean_4dp", "bands", "reached"),
    [
        (T1, 1.0, ["hands_off", "hands_off", "hands_off", "hands_off"], True),
        (T2, 0.0, ["intensified", "intensified", "intensified", "intensified"], False),
        (T3, 0.4455, ["intensified", "standard", "standard", "standard"], False),
        (T4, 0.4777, ["intensified", "standard", "hands_off", "standard"], False),
        (T5, 0.4758, ["intensified", "standard", "standard", "standard"], False),
        (T6, 0.4318, ["intensified", "standard", "standard", "standard"], False),
    ],
    ids=["T1", "T2", "T3", "T4", "T5", "T6"],
)
def test_the_worked_cases_get_the_spec_bands_and_dimension_means(
    rss: InstrumentDocument, answers: dict[str, Answer], composite_mean_4dp: float, bands: list[str], reached: bool
) -> None:
    result = score(rss, answers)
    assert [d.band for d in result.dimensions] + [result.composite_band] == bands
    assert round(result.composite_dimension_mean or 0.0, 4) == composite_mean_4dp
    assert result.target_reached is reached


def test_t3_contributions_explain_the_economic_score(rss: InstrumentDocument) -> None:
    result = score(rss, T3)
    economic = [c for c in result.contributions if c.dimension == "economic"]
    assert [(c.question, c.value, c.weight) for c in economic][:2] == [("Q1", 0.25, 1.0), ("Q2", 0.25, 2.0)]
    assert sum(c.contribution or 0.0 for c in economic) == pytest.approx(0.15)
    q21 = next(c for c in result.contributions if c.question == "Q21")
    assert (q21.value, q21.indicator) == (pytest.approx(0.55), "S5")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.3299, Band.INTENSIFIED), (0.33, Band.STANDARD), (0.66, Band.STANDARD), (0.6601, Band.HANDS_OFF)],
)
def test_band_edges(value: float, expected: Band) -> None:
    assert band(value) is expected


def test_a_composite_of_exactly_one_half_reaches_the_target(rss: InstrumentDocument) -> None:
    midpoint: dict[str, Answer] = {
        **dict.fromkeys(["Q2", "Q4", "Q22", "Q26"], "sometimes"),
        **dict.fromkeys(["Q6", "Q11", "Q13", "Q15", "Q17", "Q18", "Q19", "Q20", "Q23"], "fair"),
        **dict.fromkeys(["Q3", "Q16", "Q29"], "dk"),
        **dict.fromkeys(["Q7", "Q9", "Q27", "Q28"], "dwa"),
        "Q1": "ok",
        "Q5": "spending_larger",
        "Q8": ["dwa"],
        "Q12": "average",
        "Q14": "some_not_all",
        "Q24": "neither",
        "Q25": "neutral",
        "Q30": "no",
        "Q31": "wish_to_leave",
        "Q32": ["ngos"],
    }
    result = score(rss, midpoint)
    assert result.composite == pytest.approx(0.5)
    assert result.target_reached is True


def test_na_answers_are_missing_but_not_counted_as_dont_know(rss: InstrumentDocument) -> None:
    result = score(rss, {**T3, "Q5": "na", "Q7": "na"})
    assert result.dk_dwa_count == 0
    assert {c.question: c.value for c in result.contributions}["Q5"] is None
    assert result.dimension("economic") == pytest.approx(1.5 / 8)


def test_a_dimension_without_any_value_is_null_and_the_composite_uses_the_rest(rss: InstrumentDocument) -> None:
    economic_missing: dict[str, Answer] = {
        "Q1": "dwa",
        "Q2": "dwa",
        "Q3": "dk",
        "Q4": "dwa",
        "Q5": "na",
        "Q6": "dk",
        "Q7": "na",
        "Q8": ["dwa"],
        "Q9": "dwa",
    }
    answers = {k: v for k, v in T3.items() if k != "Q10"} | economic_missing
    result = score(rss, answers)
    assert result.dimension("economic") is None
    assert result.composite_dimension_mean is None
    assert result.composite == pytest.approx((6.8 + 6.25) / 22)
    assert result.dk_dwa_count == 7


def test_q30_no_without_q31_is_accepted_and_valued_zero(rss: InstrumentDocument) -> None:
    result = score(rss, {k: v for k, v in T3.items() if k != "Q31"})
    assert {c.question: c.value for c in result.contributions}["Q30"] == 0.0
    assert result.dimension("psychosocial") == pytest.approx(6.25 / 11)


@pytest.mark.parametrize(
    ("change", "question"),
    [
        ({"Q17": None, "Q18": None}, "Q17"),  # an interrupted survey: answers stop early
        ({"Q9": "dwa"}, "Q10"),  # Q10 answered while Q9 is not Yes
        ({"Q30": "yes"}, "Q31"),  # Q31 answered while Q30 is not No
        ({"Q8": ["land", "no"]}, "Q8"),  # an exclusive option combined with others
        ({"Q32": ["no_one", "family"]}, "Q32"),
        ({"Q6": "dwa"}, "Q6"),  # Q6 has no "I don't wish to answer"
        ({"Q99": "yes"}, "Q99"),
        ({"Q21": "good"}, "Q21"),  # derived, never asked
        ({"Q1": ["ok"]}, "Q1"),  # select one takes one code
        ({"Q9": "yes", "Q10": None}, "Q10"),  # routed to Q10 but it is unanswered
    ],
)
def test_invalid_administrations_are_rejected_naming_the_question(
    rss: InstrumentDocument, change: dict[str, Answer | None], question: str
) -> None:
    answers = {k: v for k, v in {**T3, **change}.items() if v is not None}
    if "Q17" in change:
        answers = {k: v for k, v in answers.items() if int(k[1:]) < 17}
    assert question in {p.question for p in check_answers(rss, answers)}
    with pytest.raises(AnswersInvalid) as raised:
        score(rss, answers)
    errors = raised.value.context["errors"]
    assert isinstance(errors, list)
    assert f"#/answers/{question}" in [e["pointer"] for e in errors]


def test_another_model_version_scores_the_same_answers_differently_without_touching_the_first(
    rss: InstrumentDocument,
) -> None:
    raw = rss.model_dump(mode="json", by_alias=True)
    raw["version"] = "test-q2-weight-3"
    for question in raw["questions"]:
        if question["id"] == "Q2":
            question["scoring"]["weight"] = 3
    heavier = InstrumentDocument.model_validate(raw)
    first, second = score(rss, T3), score(heavier, T3)
    assert first.dimension("economic") == pytest.approx(0.15)
    assert second.dimension("economic") == pytest.approx(1.75 / 11)
    assert score(rss, T3) == first
