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
    problems = _check(compiled, answers)
    if problems:
        raise AnswersInvalid(
            f"{len(problems)} answer(s) do not fit {instrument.code} {instrument.version}",
            errors=[{"pointer": f"#/answers/{p.question}", "detail": p.detail} for p in problems],
        )
    if instrument.kind is InstrumentKind.SCREENING:
        return _factor_balance(instrument, answers)
    return _weighted_items(compiled, answers)


def _dk_dwa(compiled: Compiled, answers: Answers) -> tuple[int, bool]:
    codes = compiled.dk_dwa
    count = sum(1 for a in answers.values() if (a in codes if isinstance(a, str) else not codes.isdisjoint(a)))
    op, limit = compiled.dk_dwa_flag
    return count, (count > limit if op == "gt" else count >= limit)


def _weighted_items(compiled: Compiled, answers: Answers) -> ScoreResult:
    low, high = compiled.bands
    values: dict[str, float | None] = {}
    sums = dict.fromkeys(compiled.dimensions, 0.0)
    weights = dict.fromkeys(compiled.dimensions, 0.0)
    value: float | None
    get = answers.get
    for item in compiled.asked_items:
        question, dimension, weight, value_map, modifier = (
            item.id,
            item.dimension,
            item.weight,
            item.values,
            item.modifier,
        )
        answer = get(question)
        if answer is None:
            value = None
        elif isinstance(answer, str):
            if modifier is not None and answer in modifier[1]:
                follow = get(modifier[0])
                value = modifier[2].get(follow, modifier[3]) if isinstance(follow, str) else modifier[3]
            else:
                value = value_map.get(answer)
        else:
            # Select all: the best valued option counts (Q8: owning any productive asset scores as "yes").
            valued = [value_map[c] for c in answer if c in value_map]
            value = max(valued) if valued else None
        values[question] = value
        if value is not None:
            sums[dimension] += weight * value
            weights[dimension] += weight
    for item in compiled.derived_items:
        present = [v for name in item.inputs or () if (v := values.get(name)) is not None]
        value = values[item.id] = sum(present) / len(present) if present else None
        if value is not None:
            sums[item.dimension] += item.weight * value
            weights[item.dimension] += item.weight
    dimensions: list[DimensionScore] = []
    complete = True
    for code in compiled.dimensions:
        if weights[code]:
            mean = sums[code] / weights[code]
            level = Band.INTENSIFIED if mean < low else Band.HANDS_OFF if mean > high else Band.STANDARD
            dimensions.append(DimensionScore(code, mean, level))
        else:
            complete = False
            dimensions.append(DimensionScore(code, None, None))
    total_weight = sum(weights.values())
    composite = sum(sums.values()) / total_weight if total_weight else None
    dimension_mean = sum(d.score or 0.0 for d in dimensions) / len(dimensions) if complete else None
    headline = composite if compiled.item_weighted else dimension_mean
    count, flagged = _dk_dwa(compiled, answers)
    return ScoreResult(
        dimensions=tuple(dimensions),
        composite=headline,
        composite_band=None if headline is None else band(headline, intensified_below=low, hands_off_above=high),
        composite_dimension_mean=dimension_mean,
        dk_dwa_count=count,
        low_accuracy_flag=flagged,
        target_reached=None if headline is None else headline >= compiled.target,
        red_flags=(),
        items=compiled.item_meta,
        values=tuple([values[question] for question in compiled.item_ids]),
        answered_weight=tuple(weights.items()),
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
