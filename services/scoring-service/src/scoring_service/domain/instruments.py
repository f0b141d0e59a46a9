"""Instrument documents: questions, options in order, routing, dimensions, value maps, weights and thresholds.

An instrument is data, never code: a new set of weights (for example IOM's official calculator values) is a new
document version. :func:`check_instrument` adds the cross-field rules that a schema alone cannot express.
"""

from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from functools import cached_property
from typing import Annotated, Literal, NamedTuple

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from casebridge_common.events.contracts.case import Programme
from casebridge_common.events.contracts.scoring import Administration

CODE = r"^[a-z0-9][a-z0-9_\-]*$"
QUESTION_ID = r"^[A-Za-z][A-Za-z0-9_]*$"


def _exact(value: object) -> object:
    # "2/3" is stored as a fraction string so that a four-point scale is exact, not 0.6666666667.
    if isinstance(value, str):
        try:
            return float(Fraction(value))
        except (ValueError, ZeroDivisionError) as exc:
            raise ValueError(f"not a number or fraction: {value!r}") from exc
    return value


Value = Annotated[float, BeforeValidator(_exact), Field(ge=0.0, le=1.0)]


class InstrumentKind(StrEnum):
    SURVEY = "survey"  # weighted items per dimension (RSS, integration profile)
    SCREENING = "screening"  # risk/protective factor balance per level (DoMV)


class InstrumentStatus(StrEnum):
    CASEBRIDGE_DEFAULT = "casebridge-default"  # this project's documented default, not an official rule
    ORGANISATION = "organisation"  # loaded by an organisation through the API
    OFFICIAL = "official"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(Strict):
    code: str = Field(pattern=CODE)
    label: str = Field(min_length=1)


class AskIf(Strict):
    """The question is asked (and must be answered) only when `question` was answered with one of `in_`."""

    question: str
    in_: list[str] = Field(alias="in", min_length=1)


class Modifier(Strict):
    """Refines the value of an answer in `when` by the answer to a follow-up (Q30 No refined by Q31)."""

    question: str
    when: list[str] = Field(min_length=1)
    values: dict[str, Value]
    missing: Value


class ItemScoring(Strict):
    weight: float = Field(default=1.0, gt=0)
    values: dict[str, Value] = Field(default_factory=dict)
    modifier: Modifier | None = None


class Derived(Strict):
    rule: Literal["mean_present"]
    inputs: list[str] = Field(min_length=1)


class FollowUp(Strict):
    text: str
    ask_if_options: list[str] = Field(default_factory=list)
    options: list[str] = Field(default_factory=list)


class Question(Strict):
    id: str = Field(pattern=QUESTION_ID)
    dimension: str | None = None
    indicator: str | None = None
    source: str | None = None
    text: str = Field(min_length=1)
    guidance: str | None = None
    instructions: str | None = None
    select: Literal["one", "all"] = "one"
    prompt: str | None = None
    required: bool = True
    ask_if: AskIf | None = None
    routing: dict[str, str] | None = None
    exclusive_options: list[str] = Field(default_factory=list)
    cross_sectional: bool = False
    red_flag: bool = False
    options: list[Option] = Field(default_factory=list)
    follow_up: FollowUp | None = None
    triggers: dict[str, str] | None = None
    notes_column: str | None = None
    derived: Derived | None = None
    scoring: ItemScoring | None = None


class Dimension(Strict):
    code: str = Field(pattern=CODE)
    title: str
    description: str | None = None


class DkDwaFlag(Strict):
    op: Literal["gt", "ge"] = "gt"
    value: int = Field(ge=0)


class DkDwa(Strict):
    codes: list[str] = Field(default_factory=lambda: ["dk", "dwa"])
    flag: DkDwaFlag = DkDwaFlag(op="gt", value=7)


class Bands(Strict):
    intensified_below: float = Field(default=0.33, ge=0, le=1)
    hands_off_above: float = Field(default=0.66, ge=0, le=1)


class ScreeningBands(Strict):
    low_below: float = Field(default=-0.2, ge=-1, le=1)
    high_above: float = Field(default=0.2, ge=-1, le=1)


class Scoring(Strict):
    method: Literal["weighted_items", "factor_balance"] = "weighted_items"
    missing: Literal["exclude_and_renormalise"] = "exclude_and_renormalise"
    composite_method: Literal["item_weighted", "dimension_mean"] = "item_weighted"
    cross_sectional_mode: Literal["home_dimension_only"] = "home_dimension_only"
    dk_dwa: DkDwa = DkDwa()
    bands: Bands = Bands()
    target_composite: float = Field(default=0.5, ge=0, le=1)
    alpha: dict[str, float] = Field(default_factory=dict, description="factor_balance: weight of each level")
    screening_bands: ScreeningBands = ScreeningBands()


class Window(Strict):
    administration: Administration
    opens_after_months: int = Field(ge=0)
    due_after_months: int = Field(ge=0)


class SchedulePlan(Strict):
    """When the instrument is administered again after a baseline (rss-survey.md, timing)."""

    repeat_every_months: int | None = Field(default=None, ge=1)
    windows: list[Window] = Field(default_factory=list)


class Rules(NamedTuple):
    """What a step must check beyond "one option of the list": selection, routing, optionality, a modifier."""

    select_one: bool
    required: bool
    ask_if: tuple[str, frozenset[str]] | None
    exclusive: frozenset[str]
    modifier: tuple[str, frozenset[str], dict[str, float], float] | None  # follow-up, when, values, missing


class Step(NamedTuple):
    """One asked question as the scoring loop reads it: one lookup in `table` validates and values an answer."""

    id: str
    table: dict[str, float | None]  # every option code; None for an option without a value (DK, DWA, N/A)
    slot: int  # position among the scored items (ScoreResult.values)
    dimension: int  # position among the dimensions
    weight: float
    # None for the common question: asked on every route, required, one option, valued straight from the table.
    rules: Rules | None


class DerivedStep(NamedTuple):
    """A derived item (Q21): the mean of the values present among `inputs` (slots of asked items)."""

    slot: int
    dimension: int
    weight: float
    inputs: tuple[int, ...]


class QuestionCheck(NamedTuple):
    derived: bool
    select_one: bool
    codes: frozenset[str]
    exclusive: frozenset[str]
    ask_if: tuple[str, frozenset[str]] | None
    required: bool


@dataclass(frozen=True, slots=True)
class Compiled:
    """Lookups precomputed once per document, so that scoring a survey does no schema work."""

    checks: dict[str, QuestionCheck]
    required: frozenset[str]  # asked on every route
    routed: tuple[tuple[str, tuple[str, frozenset[str]]], ...]  # required only when their condition holds
    order: dict[str, int]
    item_meta: tuple[tuple[str, str, str | None, float], ...]  # scored items: question, dimension, indicator, weight
    steps: tuple[Step, ...]  # every asked question, in document order
    asked: frozenset[str]  # the questions an administration may answer
    derived_steps: tuple[DerivedStep, ...]
    dimensions: tuple[str, ...]
    dk_dwa: frozenset[str]
    dk_dwa_flag: tuple[str, int]
    bands: tuple[float, float]
    item_weighted: bool
    target: float


class InstrumentDocument(Strict):
    """A versioned instrument. `code` names the instrument, `version` one immutable set of questions and weights."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "code": "rss",
                    "version": "iom-germany-2027",
                    "kind": "survey",
                    "title": "IOM Reintegration Sustainability Survey",
                    "status": "organisation",
                    "programmes": ["return_reintegration"],
                    "dimensions": [{"code": "economic", "title": "Economic"}],
                    "questions": [
                        {
                            "id": "Q3",
                            "dimension": "economic",
                            "text": "Are you able to borrow money if you need to?",
                            "options": [{"code": "yes", "label": "Yes"}, {"code": "no", "label": "No"}],
                            "scoring": {"weight": 1, "values": {"yes": 1.0, "no": 0.0}},
                        }
                    ],
                }
            ]
        },
    )

    code: str = Field(pattern=CODE, max_length=64)
    version: str = Field(pattern=CODE, max_length=64)
    kind: InstrumentKind = InstrumentKind.SURVEY
    title: str = Field(min_length=1)
    status: InstrumentStatus = InstrumentStatus.ORGANISATION
    label: str | None = None
    programmes: list[Programme] = Field(min_length=1)
    question_bank: str | None = None
    routing_version: str | None = None
    notes: list[str] = Field(default_factory=list)
    prompt_script: str | None = None
    dimensions: list[Dimension] = Field(min_length=1)
    questions: list[Question] = Field(min_length=1)
    scoring: Scoring = Scoring()
    schedule: SchedulePlan = SchedulePlan()

    @cached_property
    def compiled(self) -> Compiled:
        """Built on first use; the document is immutable, so the lookups never go stale."""
        checks = {
            q.id: QuestionCheck(
                derived=q.derived is not None,
                select_one=q.select == "one",
                codes=frozenset(o.code for o in q.options),
                exclusive=frozenset(q.exclusive_options),
                ask_if=None if q.ask_if is None else (q.ask_if.question, frozenset(q.ask_if.in_)),
                required=q.required,
            )
            for q in self.questions
        }
        scored = [
            (q, q.scoring, q.dimension) for q in self.questions if q.scoring is not None and q.dimension is not None
        ]
        slots = {q.id: n for n, (q, _, _) in enumerate(scored)}
        dimensions = tuple(d.code for d in self.dimensions)
        at = {code: n for n, code in enumerate(dimensions)}
        steps: list[Step] = []
        for q in self.questions:
            if q.derived is not None:
                continue
            item = q.scoring if q.id in slots else None
            values = {} if item is None else item.values
            modifier = None if item is None else item.modifier
            rules = Rules(
                select_one=q.select == "one",
                required=q.required,
                ask_if=None if q.ask_if is None else (q.ask_if.question, frozenset(q.ask_if.in_)),
                exclusive=frozenset(q.exclusive_options),
                modifier=None
                if modifier is None
                else (modifier.question, frozenset(modifier.when), dict(modifier.values), modifier.missing),
            )
            plain = rules.select_one and rules.required and rules.ask_if is None and rules.modifier is None
            steps.append(
                Step(
                    id=q.id,
                    table={o.code: values.get(o.code) for o in q.options},
                    slot=slots.get(q.id, -1),
                    dimension=at.get(q.dimension or "", -1),
                    weight=0.0 if item is None else item.weight,
                    rules=None if plain else rules,
                )
            )
        derived_steps = tuple(
            # An input without a value map never has a value, so it is never among those present.
            DerivedStep(
                slots[q.id], at[dimension], item.weight, tuple(slots[i] for i in q.derived.inputs if i in slots)
            )
            for q, item, dimension in scored
            if q.derived is not None
        )
        return Compiled(
            checks=checks,
            required=frozenset(q.id for q in self.questions if q.derived is None and q.required and q.ask_if is None),
            routed=tuple(
                (q.id, (q.ask_if.question, frozenset(q.ask_if.in_)))
                for q in self.questions
                if q.derived is None and q.required and q.ask_if is not None
            ),
            order={q.id: n for n, q in enumerate(self.questions)},
            item_meta=tuple((q.id, dimension, q.indicator, item.weight) for q, item, dimension in scored),
            steps=tuple(steps),
            asked=frozenset(step.id for step in steps),
            derived_steps=derived_steps,
            dimensions=dimensions,
            dk_dwa=frozenset(self.scoring.dk_dwa.codes),
            dk_dwa_flag=(self.scoring.dk_dwa.flag.op, self.scoring.dk_dwa.flag.value),
            bands=(self.scoring.bands.intensified_below, self.scoring.bands.hands_off_above),
            item_weighted=self.scoring.composite_method == "item_weighted",
            target=self.scoring.target_composite,
        )


class InstrumentProblem(Strict):
    pointer: str
    detail: str


def check_instrument(doc: InstrumentDocument) -> list[InstrumentProblem]:
    """The rules between fields: references resolve, value maps name real options, bands are ordered."""
    problems: list[InstrumentProblem] = []

    def add(pointer: str, detail: str) -> None:
        problems.append(InstrumentProblem(pointer=pointer, detail=detail))

    dimensions = {d.code for d in doc.dimensions}
    if len(dimensions) != len(doc.dimensions):
        add("#/dimensions", "dimension codes must be unique")
    by_id = {q.id: q for q in doc.questions}
    if len(by_id) != len(doc.questions):
        add("#/questions", "question ids must be unique")
    for i, q in enumerate(doc.questions):
        at = f"#/questions/{i}"
        codes = [o.code for o in q.options]
        if len(set(codes)) != len(codes):
            add(f"{at}/options", "option codes must be unique within a question")
        if q.dimension is not None and q.dimension not in dimensions:
            add(f"{at}/dimension", f"unknown dimension {q.dimension!r}")
        if q.derived is not None:
            if q.options:
                add(f"{at}/options", "a derived question is never asked, so it has no options")
            for name in q.derived.inputs:
                if name not in by_id or by_id[name].derived is not None:
                    add(f"{at}/derived/inputs", f"{name!r} is not an asked question")
        elif not q.options:
            add(f"{at}/options", "an asked question needs at least one option")
        for code in q.exclusive_options:
            if code not in codes:
                add(f"{at}/exclusive_options", f"{code!r} is not an option of {q.id}")
        if q.ask_if is not None:
            parent = by_id.get(q.ask_if.question)
            if parent is None or parent.id == q.id:
                add(f"{at}/ask_if/question", f"unknown question {q.ask_if.question!r}")
            elif any(c not in {o.code for o in parent.options} for c in q.ask_if.in_):
                add(f"{at}/ask_if/in", f"every code must be an option of {parent.id}")
        if q.scoring is not None:
            if q.dimension is None:
                add(f"{at}/dimension", "a scored question needs a dimension")
            for code in q.scoring.values:
                if code not in codes:
                    add(f"{at}/scoring/values", f"{code!r} is not an option of {q.id}")
            if q.scoring.modifier is not None:
                follow = by_id.get(q.scoring.modifier.question)
                if follow is None:
                    add(f"{at}/scoring/modifier/question", f"unknown question {q.scoring.modifier.question!r}")
                elif any(c not in {o.code for o in follow.options} for c in q.scoring.modifier.values):
                    add(f"{at}/scoring/modifier/values", f"every code must be an option of {follow.id}")
                if any(c not in codes for c in q.scoring.modifier.when):
                    add(f"{at}/scoring/modifier/when", f"every code must be an option of {q.id}")
    bands = doc.scoring.bands
    if bands.intensified_below > bands.hands_off_above:
        add("#/scoring/bands", "intensified_below must not exceed hands_off_above")
    if doc.kind is InstrumentKind.SCREENING:
        if doc.scoring.method != "factor_balance":
            add("#/scoring/method", "a screening instrument is scored by factor_balance")
        if set(doc.scoring.alpha) != dimensions:
            add("#/scoring/alpha", "alpha needs one weight per level (dimension)")
        if doc.scoring.screening_bands.low_below > doc.scoring.screening_bands.high_above:
            add("#/scoring/screening_bands", "low_below must not exceed high_above")
    elif doc.scoring.method != "weighted_items":
        add("#/scoring/method", "a survey instrument is scored by weighted_items")
    elif not any(q.scoring is not None or q.derived is not None for q in doc.questions):
        add("#/questions", "a survey instrument needs at least one scored question")
    return problems
