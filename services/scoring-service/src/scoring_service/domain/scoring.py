"""Pure scoring: answers checked against an instrument, then item values, dimension and composite scores.

RSS arithmetic (rss-survey.md section 6, CaseBridge default): each answered item has a value x in [0, 1] and a
weight w; a dimension is sum(w*x) / sum(w) over its items with a value, the composite the same over every item.
DK, DWA, N/A and skipped questions have no value and are left out, with the weights re-normalised.
"""

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import NamedTuple

from scoring_service.domain.errors import AnswersInvalid
from scoring_service.domain.instruments import Compiled, InstrumentDocument, InstrumentKind

Answer = str | Sequence[str]
Answers = Mapping[str, Answer]
COMPOSITE = "composite"


class Band(StrEnum):
    INTENSIFIED = "intensified"
    STANDARD = "standard"
    HANDS_OFF = "hands_off"


class RiskBand(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class AnswerProblem(NamedTuple):
    question: str
    detail: str


class Contribution(NamedTuple):
    """Why a score is what it is: one item's value, weight and share of its dimension score."""

    question: str
    dimension: str
    indicator: str | None
    value: float | None
    weight: float
    contribution: float | None


class DimensionScore(NamedTuple):
    dimension: str
    score: float | None
    band: Band | RiskBand | None


class ScoreResult(NamedTuple):
    dimensions: tuple[DimensionScore, ...]
    composite: float | None
    composite_band: Band | RiskBand | None
    composite_dimension_mean: float | None
    dk_dwa_count: int
    low_accuracy_flag: bool
    target_reached: bool | None
    red_flags: tuple[str, ...]
    # Items as (question, dimension, indicator, weight) and their values, explained as contributions on demand.
    items: tuple[tuple[str, str, str | None, float], ...]
    values: tuple[float | None, ...]
    answered_weight: tuple[tuple[str, float], ...] = ()

    @property
    def contributions(self) -> tuple[Contribution, ...]:
        """Why a score is what it is: each item's value, weight and share of its dimension score."""
        total = dict(self.answered_weight)
        return tuple(
            Contribution(q, d, i, v, w, None if v is None or not total.get(d) else v * w / total[d])
            for (q, d, i, w), v in zip(self.items, self.values, strict=True)
        )

    def dimension(self, code: str) -> float | None:
        return next(d.score for d in self.dimensions if d.dimension == code)


def band(score: float, *, intensified_below: float = 0.33, hands_off_above: float = 0.66) -> Band:
    """Exactly 0.33 and exactly 0.66 are standard: the handbook says "below 0.33" and "above 0.66"."""
    if score < intensified_below:
        return Band.INTENSIFIED
    if score > hands_off_above:
        return Band.HANDS_OFF
    return Band.STANDARD


def _chosen(answer: Answer) -> tuple[str, ...]:
    return (answer,) if isinstance(answer, str) else tuple(answer)


def _asked(ask_if: tuple[str, frozenset[str]] | None, answers: Answers) -> bool:
    if ask_if is None:
        return True
    parent = answers.get(ask_if[0])
    if parent is None:
        return False
    return parent in ask_if[1] if isinstance(parent, str) else not ask_if[1].isdisjoint(parent)


def check_answers(instrument: InstrumentDocument, answers: Answers) -> list[AnswerProblem]:
    """Every problem of a completed administration: unknown questions, foreign options, routing, gaps."""
    return _check(instrument.compiled, answers)


def _check(compiled: Compiled, answers: Answers) -> list[AnswerProblem]:
    problems: list[AnswerProblem] = []
    checks = compiled.checks
    for question_id, answer in answers.items():
        check = checks.get(question_id)
        if check is None:
            problems.append(AnswerProblem(question_id, "not a question of this instrument version"))
        elif check.derived:
            problems.append(AnswerProblem(question_id, "derived from other answers, never asked"))
        elif isinstance(answer, str):
            if answer not in check.codes:
                problems.append(AnswerProblem(question_id, f"not an option of this question: {answer}"))
            elif check.ask_if is not None and not _asked(check.ask_if, answers):
                problems.append(AnswerProblem(question_id, "not asked on this route; its condition is not met"))
        elif check.select_one:
            problems.append(AnswerProblem(question_id, "takes exactly one option code"))
        elif not answer or len(set(answer)) != len(answer):
            problems.append(AnswerProblem(question_id, "choose at least one option, each once"))
        elif foreign := [c for c in answer if c not in check.codes]:
            problems.append(AnswerProblem(question_id, f"not an option of this question: {', '.join(foreign)}"))
        else:
            if len(answer) > 1 and not check.exclusive.isdisjoint(answer):
                problems.append(AnswerProblem(question_id, "an exclusive option cannot be combined with others"))
            if check.ask_if is not None and not _asked(check.ask_if, answers):
                problems.append(AnswerProblem(question_id, "not asked on this route; its condition is not met"))
    unanswered = [q for q in compiled.required if q not in answers]
    unanswered += [q for q, ask_if in compiled.routed if q not in answers and _asked(ask_if, answers)]
    for question_id in sorted(unanswered, key=compiled.order.__getitem__):
        problems.append(AnswerProblem(question_id, "required on this route but not answered"))
    return problems


def score(instrument: InstrumentDocument, answers: Answers) -> ScoreResult:
    """Score a completed administration; raises :class:`AnswersInvalid` rather than score a partial one."""
    compiled = instrument.compiled
    if instrument.kind is InstrumentKind.SCREENING:
        if problems := _check(compiled, answers):
            raise _invalid(instrument, problems)
        return _factor_balance(instrument, answers)
    result = _weighted_items(compiled, answers)
    if result is None:  # it gives up exactly when _check finds a problem; _check names them all
        raise _invalid(instrument, _check(compiled, answers))
    return result


def _invalid(instrument: InstrumentDocument, problems: list[AnswerProblem]) -> AnswersInvalid:
    return AnswersInvalid(
        f"{len(problems)} answer(s) do not fit {instrument.code} {instrument.version}",
        errors=[{"pointer": f"#/answers/{p.question}", "detail": p.detail} for p in problems],
    )


def _dk_dwa(compiled: Compiled, answers: Answers) -> tuple[int, bool]:
    codes = compiled.dk_dwa
    count = sum(1 for a in answers.values() if (a in codes if isinstance(a, str) else not codes.isdisjoint(a)))
    op, limit = compiled.dk_dwa_flag
    return count, (count > limit if op == "gt" else count >= limit)


def _weighted_items(compiled: Compiled, answers: Answers) -> ScoreResult | None:
    """Validate and score in one pass over the precompiled steps; None as soon as any answer has a problem.

    The hot path of scoring: per answer one table lookup gives both "is this an option" and the item's value.
    It applies exactly the rules of :func:`_check`, which lists the problems when this gives up.
    """
    dk_dwa = compiled.dk_dwa
    values: list[float | None] = [None] * len(compiled.item_meta)
    sums = [0.0] * len(compiled.dimensions)
    weights = [0.0] * len(compiled.dimensions)
    listed = [*answers.values()]
    dk_count = 0
    for code in dk_dwa:  # single answers here; a chosen list with a DK/DWA option is counted in the loop
        dk_count += listed.count(code)
    value: float | None
    get = answers.get
    try:
        for question, table, slot, dimension, weight, rules in compiled.steps:
            answer = get(question)
            if rules is None:
                # Unanswered (None), a list for a single choice or a foreign code: a KeyError or TypeError.
                value = table[answer]  # type: ignore[index]
            else:
                select_one, required, ask_if, exclusive, modifier = rules
                asked = ask_if is None or _asked(ask_if, answers)
                if answer is None:
                    if required and asked:
                        return None  # required on this route but not answered
                    continue
                if not asked:
                    return None  # not asked on this route
                if answer.__class__ is str or isinstance(answer, str):
                    value = table[answer]
                    if modifier is not None and answer in modifier[1]:
                        follow = get(modifier[0])
                        value = modifier[2].get(follow, modifier[3]) if isinstance(follow, str) else modifier[3]
                else:
                    if select_one or not answer:
                        return None  # one option only, or an empty choice
                    if len(answer) > 1 and (len(set(answer)) != len(answer) or not exclusive.isdisjoint(answer)):
                        return None  # an option chosen twice, or an exclusive option combined with others
                    # Select all: the best valued option counts (Q8: owning any productive asset scores as "yes").
                    value = None
                    for code in answer:
                        option_value = table[code]
                        if option_value is not None and (value is None or option_value > value):
                            value = option_value
                    if not dk_dwa.isdisjoint(answer):
                        dk_count += 1
            if value is not None:
                values[slot] = value
                sums[dimension] += weight * value
                weights[dimension] += weight
    except (KeyError, TypeError):
        return None  # an answer that is not an option code of the question
    if not compiled.asked.issuperset(answers):
        return None  # an answer to an unknown or a derived question
    for slot, dimension, weight, inputs in compiled.derived_steps:
        present = [v for i in inputs if (v := values[i]) is not None]
        if present:
            value = values[slot] = sum(present) / len(present)
            sums[dimension] += weight * value
            weights[dimension] += weight
    low, high = compiled.bands
    dimensions: list[DimensionScore] = []
    complete = True
    for code, dimension_sum, dimension_weight in zip(compiled.dimensions, sums, weights, strict=True):
        if dimension_weight:
            mean = dimension_sum / dimension_weight
            level = Band.INTENSIFIED if mean < low else Band.HANDS_OFF if mean > high else Band.STANDARD
            dimensions.append(DimensionScore(code, mean, level))
        else:
            complete = False
            dimensions.append(DimensionScore(code, None, None))
    total_weight = sum(weights)
    composite = sum(sums) / total_weight if total_weight else None
    dimension_mean = sum(d.score or 0.0 for d in dimensions) / len(dimensions) if complete else None
    headline = composite if compiled.item_weighted else dimension_mean
    op, limit = compiled.dk_dwa_flag
    return ScoreResult(
        dimensions=tuple(dimensions),
        composite=headline,
        composite_band=None if headline is None else band(headline, intensified_below=low, hands_off_above=high),
        composite_dimension_mean=dimension_mean,
        dk_dwa_count=dk_count,
        low_accuracy_flag=dk_count > limit if op == "gt" else dk_count >= limit,
        target_reached=None if headline is None else headline >= compiled.target,
        red_flags=(),
        items=compiled.item_meta,
        values=tuple(values),
        answered_weight=tuple(zip(compiled.dimensions, weights, strict=True)),
    )


def _factor(code: str) -> tuple[str, int] | None:
    kind, _, strength = code.partition("_")
    if kind in ("risk", "protective") and strength.isdigit():
        return kind, int(strength)
    return None


def risk_band(index: float, *, low_below: float = -0.2, high_above: float = 0.2) -> RiskBand:
    if index < low_below:
        return RiskBand.LOW
    if index > high_above:
        return RiskBand.HIGH
    return RiskBand.MEDIUM


def _factor_balance(instrument: InstrumentDocument, answers: Answers) -> ScoreResult:
    """DoMV screening (rss-survey.md 9.2, CaseBridge default): b_L = (R - P) / (R + P); V = sum(alpha_L * b_L)."""
    settings = instrument.scoring
    risk = {d.code: 0 for d in instrument.dimensions}
    protective = dict(risk)
    red_flags: list[str] = []
    items: list[tuple[str, str, str | None, float]] = []
    signed_values: list[float | None] = []
    for question in instrument.questions:
        answer = answers.get(question.id)
        if answer is None or question.dimension is None:
            continue
        if question.red_flag:
            if "yes" in _chosen(answer):
                red_flags.append(question.id)
            continue
        for code in _chosen(answer):
            factor = _factor(code)
            if factor is not None:
                kind, strength = factor
                (risk if kind == "risk" else protective)[question.dimension] += strength
                signed = float(strength if kind == "risk" else -strength)
                items.append((question.id, question.dimension, question.indicator, 1.0))
                signed_values.append(signed)
    balances: dict[str, float | None] = {}
    for code in risk:
        total = risk[code] + protective[code]
        balances[code] = (risk[code] - protective[code]) / total if total else None
    present = {code: b for code, b in balances.items() if b is not None}
    alpha = sum(settings.alpha[code] for code in present)
    # Levels without any coded factor drop out and alpha is re-normalised over the levels present.
    index = sum(settings.alpha[code] * b for code, b in present.items()) / alpha if present and alpha else None
    cut = settings.screening_bands
    overall: RiskBand | None = None
    if red_flags:
        overall = RiskBand.HIGH  # a red flag forces the high band whatever the index
    elif index is not None:
        overall = risk_band(index, low_below=cut.low_below, high_above=cut.high_above)
    count, flagged = _dk_dwa(instrument.compiled, answers)
    return ScoreResult(
        dimensions=tuple(
            DimensionScore(
                code, b, None if b is None else risk_band(b, low_below=cut.low_below, high_above=cut.high_above)
            )
            for code, b in balances.items()
        ),
        composite=index,
        composite_band=overall,
        composite_dimension_mean=None,
        dk_dwa_count=count,
        low_accuracy_flag=flagged,
        target_reached=None,
        red_flags=tuple(red_flags),
        items=tuple(items),
        values=tuple(signed_values),
    )
