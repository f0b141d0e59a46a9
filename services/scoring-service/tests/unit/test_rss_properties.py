"""Properties of the RSS arithmetic over every valid completed administration (hypothesis)."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring_service.domain.errors import AnswersInvalid
from scoring_service.domain.instruments import InstrumentDocument, Question
from scoring_service.domain.scoring import Answer, Answers, ScoreResult, check_answers, score
from scoring_service.instruments import shipped

RSS = next(d for d in shipped() if d.version == "rss-default-v0")
INTEGRATION = next(d for d in shipped() if d.code == "integration")


def _asked(question: Question, answers: dict[str, Answer]) -> bool:
    if question.ask_if is None:
        return True
    parent = answers.get(question.ask_if.question)
    return isinstance(parent, str) and parent in question.ask_if.in_


@st.composite
def administrations(draw: st.DrawFn, instrument: InstrumentDocument = RSS) -> dict[str, Answer]:
    """A completed administration that follows the routing, as an interviewer would record it."""
    answers: dict[str, Answer] = {}
    for question in instrument.questions:
        if question.derived is not None or not _asked(question, answers):
            continue
        if not question.required and draw(st.booleans()):
            continue
        codes = [o.code for o in question.options]
        if question.select == "one":
            answers[question.id] = draw(st.sampled_from(codes))
        elif draw(st.booleans()) and question.exclusive_options:
            answers[question.id] = [draw(st.sampled_from(question.exclusive_options))]
        else:
            plain = [c for c in codes if c not in question.exclusive_options]
            answers[question.id] = draw(st.lists(st.sampled_from(plain), min_size=1, unique=True))
    return answers


def _scores(result: ScoreResult) -> list[float | None]:
    return [*(d.score for d in result.dimensions), result.composite, result.composite_dimension_mean]


@settings(max_examples=300)
@given(administrations())
def test_every_valid_administration_scores_within_zero_and_one(answers: dict[str, Answer]) -> None:
    assert check_answers(RSS, answers) == []
    result = score(RSS, answers)
    assert all(0.0 <= s <= 1.0 for s in _scores(result) if s is not None)
    assert 0 <= result.dk_dwa_count <= len(answers)


@settings(max_examples=200)
@given(administrations(instrument=INTEGRATION))
def test_integration_profiles_score_within_zero_and_one(answers: dict[str, Answer]) -> None:
    result = score(INTEGRATION, answers)
    assert all(0.0 <= s <= 1.0 for s in _scores(result) if s is not None)


@settings(max_examples=300)
@given(administrations(), st.data())
def test_a_better_answer_never_lowers_any_score(answers: dict[str, Answer], data: st.DataObject) -> None:
    valued = [
        q
        for q in RSS.questions
        if q.scoring is not None
        and q.select == "one"
        and isinstance(answers.get(q.id), str)
        and answers[q.id] in q.scoring.values
    ]
    if not valued:
        return
    question = data.draw(st.sampled_from(valued))
    assert question.scoring is not None
    values = question.scoring.values
    current = answers[question.id]
    assert isinstance(current, str)
    better = data.draw(st.sampled_from([c for c, v in values.items() if v >= values[current]]))
    # A better answer can end a route (Q9 No skips Q10): the interviewer then does not ask the follow-up.
    changed = {**answers, question.id: better}
    improved: Answers = {
        k: v for k, v in changed.items() if (q := next(x for x in RSS.questions if x.id == k)) and _asked(q, changed)
    }
    before, after = score(RSS, answers), score(RSS, improved)
    dimension = question.dimension
    assert (after.dimension(dimension or "") or 0.0) >= (before.dimension(dimension or "") or 0.0) - 1e-12
    assert (after.composite or 0.0) >= (before.composite or 0.0) - 1e-12


@settings(max_examples=200)
@given(administrations(), st.randoms(use_true_random=False))
def test_the_order_of_answers_and_of_ticked_options_does_not_matter(
    answers: dict[str, Answer], rng: random.Random
) -> None:
    items = list(answers.items())
    rng.shuffle(items)
    shuffled: dict[str, Answer] = {}
    for key, value in items:
        shuffled[key] = value if isinstance(value, str) else rng.sample(list(value), len(value))
    assert score(RSS, shuffled) == score(RSS, answers)


@pytest.mark.parametrize("question", ["Q9", "Q30"])
def test_routing_follows_the_documented_reading(question: str) -> None:
    by_id = {q.id: q for q in RSS.questions}
    assert by_id["Q10"].ask_if is not None
    assert (by_id["Q10"].ask_if.question, by_id["Q10"].ask_if.in_) == ("Q9", ["yes"])
    assert by_id["Q31"].ask_if is not None
    assert (by_id["Q31"].ask_if.question, by_id["Q31"].ask_if.in_) == ("Q30", ["no"])
    assert by_id[question].routing is not None


FAULTS = ("unanswered", "foreign", "unknown", "derived", "list_for_one", "empty", "twice", "off_route")


@settings(max_examples=400)
@given(administrations(), st.sampled_from(FAULTS), st.data())
def test_scoring_refuses_exactly_what_check_answers_reports(
    answers: dict[str, Answer], fault: str, data: st.DataObject
) -> None:
    """The one-pass scorer gives up on a submission exactly when the full check finds a problem, and names them."""
    changed = dict(answers)
    question = data.draw(st.sampled_from(sorted(changed)))
    current = changed[question]
    if fault == "unanswered":
        del changed[question]
    elif fault == "foreign":
        changed[question] = "not_an_option"
    elif fault == "unknown":
        changed["Q99"] = "yes"
    elif fault == "derived":
        changed["Q21"] = "good"
    elif fault == "list_for_one":
        changed[question] = [current] if isinstance(current, str) else current
    elif fault == "empty":
        changed[question] = []
    elif fault == "twice":
        changed[question] = [current, current] if isinstance(current, str) else [*current, current[0]]
    else:
        changed["Q10"] = ["unemployed"]  # off route unless Q9 was answered "yes"
    problems = check_answers(RSS, changed)
    if not problems:
        assert isinstance(score(RSS, changed), ScoreResult)
        return
    with pytest.raises(AnswersInvalid) as refused:
        score(RSS, changed)
    assert refused.value.context["errors"] == [
        {"pointer": f"#/answers/{p.question}", "detail": p.detail} for p in problems
    ]
