from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from uuid import UUID

from casebridge_common.audit import AuditAction
from casebridge_common.auth import Principal
from casebridge_common.events.contracts.case import CaseOpened
from casebridge_common.events.contracts.scoring import (
    Administration,
    ScoreComputed,
    ScoreKind,
    ScoreThresholdCrossed,
    SurveyDue,
    SurveyOverdue,
)
from casebridge_common.problems import DomainError
from scoring_service.domain.errors import (
    CaseNotFound,
    InstrumentNotApplicable,
    InstrumentVersionUnknown,
    SurveyNotFound,
    SurveyNotScored,
)
from scoring_service.domain.instruments import InstrumentDocument, InstrumentKind
from scoring_service.domain.models import (
    CaseRecord,
    Instrument,
    ScheduleStatus,
    Score,
    Survey,
    SurveySchedule,
    SurveyStatus,
    baseline_for,
    follow_ups,
)
from scoring_service.domain.scoring import COMPOSITE, ScoreResult, score
from scoring_service.schemas import SubmitSurvey
from scoring_service.unit_of_work import ScoringUnitOfWork

CATEGORIES = ["survey_responses", "scores"]


@dataclass
class _Added:
    """The rows administrations add. A single submission adds them to the session; a batch inserts them with one
    Core INSERT per table at its end."""

    surveys: list[Survey] = field(default_factory=list)
    scores: list[Score] = field(default_factory=list)
    schedules: list[SurveySchedule] = field(default_factory=list)

    def add_to(self, uow: ScoringUnitOfWork) -> None:
        for survey in self.surveys:
            uow.administrations.add(survey)
        for row in self.scores:
            uow.scores.add(row)
        for schedule in self.schedules:
            uow.surveys.add(schedule)

    async def insert(self, uow: ScoringUnitOfWork) -> None:
        await uow.administrations.insert_many(self.surveys)
        await uow.scores.insert_many(self.scores)
        await uow.surveys.insert_many(self.schedules)


def _due(uow: ScoringUnitOfWork, schedule: SurveySchedule, added: _Added) -> None:
    added.schedules.append(schedule)
    uow.outbox.emit(
        SurveyDue(
            survey_schedule_id=schedule.id,
            case_id=schedule.case_id,
            owner_office_id=schedule.owner_office_id,
            administration=schedule.administration,
            instrument=schedule.instrument,
            due_on=schedule.due_on,
        )
    )


async def schedule_baseline(
    uow: ScoringUnitOfWork, opened: CaseOpened, *, window_days: int, now: datetime
) -> SurveySchedule | None:
    """Remember the case and its owning office, and record the baseline survey as due. Emits `survey.due`.

    A case whose beneficiary was erased before its opening was consumed is remembered as erased, unscheduled."""
    erased = await uow.erasures.covers(case_id=opened.case_id, beneficiary_id=opened.beneficiary_id)
    await uow.cases.add_if_absent(
        CaseRecord(
            case_id=opened.case_id,
            beneficiary_id=None if erased else opened.beneficiary_id,
            owner_office_id=opened.owner_office_id,
            owner_organisation_id=opened.owner_organisation_id,
            programme=opened.programme,
            opened_at=opened.opened_at,
            case_version=opened.case_version,
            erased_at=now if erased else None,
        )
    )
    if erased:
        return None
    schedule = baseline_for(
        case_id=opened.case_id,
        owner_office_id=opened.owner_office_id,
        programme=opened.programme,
        opened_at=opened.opened_at,
        window_days=window_days,
        now=now,
    )
    added = _Added()
    _due(uow, schedule, added)
    added.add_to(uow)
    return schedule


async def schedules_for_case(uow: ScoringUnitOfWork, case_id: UUID, *, actor: Principal) -> list[SurveySchedule]:
    """Only the office that owns the case sees its schedules (those of a previous owner included, after a
    transfer); for any other office the list is empty."""
    case = await uow.cases.get(case_id)
    if case is None or case.erased_at is not None or case.owner_office_id != actor.office_id:
        return []
    return await uow.surveys.for_case(case_id)


async def visible_case(uow: ScoringUnitOfWork, case_id: UUID, *, actor: Principal) -> CaseRecord:
    """A case another office owns, one never announced by `case.opened`, or an erased one, does not exist for
    the caller. Ownership is the case's current one: after a transfer, its surveys go with it."""
    return _visible(await uow.cases.get(case_id), case_id, actor=actor)


def _visible(case: CaseRecord | None, case_id: UUID, *, actor: Principal) -> CaseRecord:
    if case is None or case.erased_at is not None or case.owner_office_id != actor.office_id:
        raise CaseNotFound(case_id=case_id)
    return case


async def _visible_survey(uow: ScoringUnitOfWork, survey_id: UUID, *, actor: Principal) -> Survey:
    survey = await uow.administrations.get(survey_id)
    if survey is None:
        raise SurveyNotFound(survey_id=survey_id)
    try:
        await visible_case(uow, survey.case_id, actor=actor)
    except CaseNotFound:
        raise SurveyNotFound(survey_id=survey_id) from None
    return survey


async def _instrument(uow: ScoringUnitOfWork, code: str, version: str, case: CaseRecord) -> InstrumentDocument:
    return _applicable(await uow.instruments.document(code, version), code, version, case)


def _applicable(document: InstrumentDocument | None, code: str, version: str, case: CaseRecord) -> InstrumentDocument:
    if document is None:
        raise InstrumentVersionUnknown(instrument=code, instrument_version=version, pointer="#/instrument_version")
    if case.programme not in document.programmes:
        raise InstrumentNotApplicable(instrument=code, programme=case.programme, pointer="#/instrument")
    return document


def _score_row(
    result: ScoreResult,
    *,
    survey: Survey,
    document: InstrumentDocument,
    kind: ScoreKind,
    previous: Score | None,
    now: datetime,
) -> Score:
    dimensions: list[dict[str, object]] = [
        {"dimension": d.dimension, "score": d.score, "band": d.band} for d in result.dimensions
    ]
    change: dict[str, object] | None = None
    if previous is not None:
        before = {str(d["dimension"]): d["score"] for d in previous.dimensions}
        before[COMPOSITE] = previous.composite
        after = {d.dimension: d.score for d in result.dimensions}
        after[COMPOSITE] = result.composite
        change = {
            name: (value - old if isinstance(value, float) and isinstance(old, float) else None)
            for name, value in after.items()
            for old in [before.get(name)]
        }
    screening = document.kind is InstrumentKind.SCREENING
    return Score(
        survey_id=survey.id,
        case_id=survey.case_id,
        owner_office_id=survey.owner_office_id,
        kind=kind,
        instrument_code=document.code,
        instrument_version=document.version,
        composite=result.composite,
        composite_band=result.composite_band,
        composite_dimension_mean=result.composite_dimension_mean,
        vulnerability_index=result.composite if screening else None,
        vulnerability_band=result.composite_band if screening else None,
        dimensions=dimensions,
        contributions=[
            {
                "question": c.question,
                "dimension": c.dimension,
                "indicator": c.indicator,
                "value": c.value,
                "weight": c.weight,
                "contribution": c.contribution,
            }
            for c in result.contributions
        ],
        dk_dwa_count=result.dk_dwa_count,
        low_accuracy_flag=result.low_accuracy_flag,
        target_reached=result.target_reached,
        red_flags=list(result.red_flags),
        previous_score_id=previous.id if previous is not None else None,
        change=change,
        computed_at=now,
    )


def _threshold_events(row: Score, previous: Score | None) -> list[ScoreThresholdCrossed]:
    """A band change against the previous administration; a first score only when it starts in a need band."""
    before: dict[str, tuple[object, object]] = {}
    if previous is not None:
        before = {str(d["dimension"]): (d["band"], d["score"]) for d in previous.dimensions}
        before[COMPOSITE] = (previous.composite_band, previous.composite)
    now = {str(d["dimension"]): (d["band"], d["score"]) for d in row.dimensions}
    now[COMPOSITE] = (row.composite_band, row.composite)
    events = []
    for scope, (band, value) in now.items():
        old_band, old_value = before.get(scope, (None, None))
        if not isinstance(band, str) or not isinstance(value, float) or band == old_band:
            continue
        if previous is None and band not in ("intensified", "high"):
            continue
        events.append(
            ScoreThresholdCrossed(
                score_id=row.id,
                survey_id=row.survey_id,
                case_id=row.case_id,
                owner_office_id=row.owner_office_id,
                instrument=row.instrument_code,
                instrument_version=row.instrument_version,
                scope=scope,
                previous_band=old_band if isinstance(old_band, str) else None,
                band=band,
                previous_score=old_value if isinstance(old_value, float) else None,
                score=value,
            )
        )
    return events


@dataclass
class _CaseState:
    """What accepting an administration reads of its case, kept current while a batch adds to it."""

    case: CaseRecord
    latest: dict[str, Score]  # the latest primary score per instrument code
    open_schedules: list[SurveySchedule]  # due and overdue, by due date (locked)
    administrations: set[tuple[Administration, date]]  # every scheduled (administration, due date)


def _survey(
    body: SubmitSurvey, case: CaseRecord, document: InstrumentDocument, *, actor: Principal, now: datetime
) -> Survey:
    return Survey(
        case_id=case.case_id,
        owner_office_id=case.owner_office_id,
        administration=body.administration,
        instrument_code=document.code,
        instrument_version=document.version,
        routing_version=document.routing_version,
        status=SurveyStatus.DISCARDED if body.interrupted else SurveyStatus.SCORED,
        # An interrupted survey is discarded entirely (rss-survey.md section 3.2): no answers are kept.
        answers=None if body.interrupted else dict(sorted(body.answers.items())),
        interviewed_on=body.interviewed_on,
        mode=body.mode,
        consent_form=body.consent_form,
        interviewer_independent_of_case=body.interviewer_independent_of_case,
        submitted_by=actor.client_id,
        created_at=now,
    )


def _discard(uow: ScoringUnitOfWork, survey: Survey, added: _Added, *, actor: Principal) -> None:
    added.surveys.append(survey)
    uow.audit.record(actor, AuditAction.CREATE, resource_type="survey", resource_id=survey.id, categories=CATEGORIES)


def _accept(
    uow: ScoringUnitOfWork,
    survey: Survey,
    result: ScoreResult,
    document: InstrumentDocument,
    state: _CaseState,
    added: _Added,
    *,
    actor: Principal,
    now: datetime,
) -> Score:
    """Store a scored administration: survey, score, events, the matching schedule completed, the next ones due."""
    case = state.case
    uow.audit.record(actor, AuditAction.CREATE, resource_type="survey", resource_id=survey.id, categories=CATEGORIES)
    previous = state.latest.get(document.code)
    row = _score_row(result, survey=survey, document=document, kind=ScoreKind.PRIMARY, previous=previous, now=now)
    matching = next(
        (
            s
            for s in state.open_schedules
            if s.administration == survey.administration and s.instrument == document.code
        ),
        None,
    )
    if matching is not None:
        matching.status, matching.survey_id, matching.completed_at = ScheduleStatus.COMPLETED, survey.id, now
        survey.schedule_id = matching.id
        state.open_schedules.remove(matching)
    added.surveys.append(survey)
    added.scores.append(row)
    state.latest[document.code] = row
    uow.outbox.emit(
        ScoreComputed(
            score_id=row.id,
            survey_id=survey.id,
            case_id=case.case_id,
            owner_office_id=case.owner_office_id,
            administration=survey.administration,
            instrument=document.code,
            instrument_version=document.version,
            kind=ScoreKind.PRIMARY,
            composite=row.composite,
            dimensions={d.dimension: d.score for d in result.dimensions},
            dk_dwa_count=row.dk_dwa_count,
            low_accuracy_flag=row.low_accuracy_flag,
            computed_at=now,
        )
    )
    for event in _threshold_events(row, previous):
        uow.outbox.emit(event)
    if document.code in set(Instrument):
        due = follow_ups(
            document.schedule,
            case=case,
            instrument=Instrument(document.code),
            administered=survey.administration,
            administered_on=survey.interviewed_on,
            existing=state.administrations,
            open_repeat=any(
                s.administration == "repeat" and s.instrument == document.code for s in state.open_schedules
            ),
            now=now,
        )
        for schedule in due:
            _due(uow, schedule, added)
            state.administrations.add((schedule.administration, schedule.due_on))
            state.open_schedules.append(schedule)
        state.open_schedules.sort(key=lambda s: (s.due_on, s.id))
    return row


async def submit_survey(
    uow: ScoringUnitOfWork, body: SubmitSurvey, *, actor: Principal, now: datetime
) -> tuple[Survey, Score | None]:
    """Store a completed administration and its immutable score, or an interrupted one as discarded.

    Emits `score.computed` (and `score.threshold_crossed` for a band change), completes the matching schedule and
    schedules the next administrations (each a `survey.due`). Invalid answers raise before anything is stored.
    """
    case = await visible_case(uow, body.case_id, actor=actor)
    document = await _instrument(uow, body.instrument, body.instrument_version, case)
    survey = _survey(body, case, document, actor=actor, now=now)
    added = _Added()
    if body.interrupted:
        _discard(uow, survey, added, actor=actor)
        added.add_to(uow)
        return survey, None
    result = score(document, body.answers)  # raises on any problem, before anything is added
    previous = await uow.scores.latest_primary(case.case_id, instrument_code=document.code)
    state = _CaseState(
        case=case,
        latest={} if previous is None else {document.code: previous},
        open_schedules=await uow.surveys.open_for_case(case.case_id),
        administrations=await uow.surveys.administrations_of(case.case_id),
    )
    row = _accept(uow, survey, result, document, state, added, actor=actor, now=now)
    added.add_to(uow)
    return survey, row


async def rescore(
    uow: ScoringUnitOfWork, survey_id: UUID, *, instrument_version: str, actor: Principal, now: datetime
) -> Score:
    """A what-if score under another version of the same instrument: a new labelled record, never an overwrite."""
    survey = await _visible_survey(uow, survey_id, actor=actor)
    case = await visible_case(uow, survey.case_id, actor=actor)
    if survey.status is SurveyStatus.DISCARDED or survey.answers is None:
        raise SurveyNotScored(survey_id=survey_id)
    document = await _instrument(uow, survey.instrument_code, instrument_version, case)
    existing = await uow.scores.exists(survey.id, instrument_code=document.code, instrument_version=document.version)
    if existing is not None:
        return existing  # the same version scores the same answers the same way: the stored record stands
    answers = {k: v for k, v in survey.answers.items() if isinstance(v, str)} | {
        k: [str(c) for c in v] for k, v in survey.answers.items() if isinstance(v, list)
    }
    row = _score_row(
        score(document, answers), survey=survey, document=document, kind=ScoreKind.WHAT_IF, previous=None, now=now
    )
    uow.scores.add(row)
    uow.audit.record(actor, AuditAction.CREATE, resource_type="score", resource_id=row.id, categories=CATEGORIES)
    return row


async def history(
    uow: ScoringUnitOfWork,
    case_id: UUID,
    *,
    actor: Principal,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> tuple[list[Survey], list[Score]]:
    """The case's administrations in the order they were submitted, with every score of each."""
    await visible_case(uow, case_id, actor=actor)
    surveys = await uow.administrations.page(case_id, after=after, limit=limit)
    scores = await uow.scores.for_surveys([s.id for s in surveys[:limit]])
    uow.audit.record(actor, AuditAction.LIST, resource_type="survey", resource_id=case_id, categories=CATEGORIES)
    return surveys, scores


async def scored_history(
    uow: ScoringUnitOfWork, case_id: UUID, *, instrument: Instrument, actor: Principal
) -> list[tuple[Survey, Score]]:
    """Every scored administration of the case with its primary score, oldest first (for the chart)."""
    await visible_case(uow, case_id, actor=actor)
    surveys = [s for s in await uow.administrations.all_for_case(case_id) if s.instrument_code == instrument]
    primary = {
        s.survey_id: s for s in await uow.scores.for_surveys([s.id for s in surveys]) if s.kind is ScoreKind.PRIMARY
    }
    uow.audit.record(actor, AuditAction.VIEW, resource_type="score", resource_id=case_id, categories=["scores"])
    return [(s, primary[s.id]) for s in surveys if s.id in primary]


async def get_survey(uow: ScoringUnitOfWork, survey_id: UUID, *, actor: Principal) -> tuple[Survey, list[Score]]:
    survey = await _visible_survey(uow, survey_id, actor=actor)
    uow.audit.record(actor, AuditAction.VIEW, resource_type="survey", resource_id=survey_id, categories=CATEGORIES)
    return survey, await uow.scores.for_surveys([survey.id])


async def mark_overdue(uow: ScoringUnitOfWork, *, today: date, now: datetime) -> int:
    """Due schedules past their date become overdue, once each. Emits `survey.overdue`."""
    overdue = await uow.surveys.find_overdue(today=today)
    for schedule in overdue:
        schedule.status, schedule.overdue_at = ScheduleStatus.OVERDUE, now
        uow.outbox.emit(
            SurveyOverdue(
                survey_schedule_id=schedule.id,
                case_id=schedule.case_id,
                owner_office_id=schedule.owner_office_id,
                administration=schedule.administration,
                instrument=schedule.instrument,
                due_on=schedule.due_on,
            )
        )
    return len(overdue)


async def submit_batch(
    uow: ScoringUnitOfWork, items: list[SubmitSurvey], *, actor: Principal, now: datetime
) -> list[tuple[Survey, Score | None] | DomainError]:
    """Import many administrations at once: each item is stored and scored, or answered with its own problem.

    Items are processed per case in interview order, so each score's change refers to the administration before
    it. A refused item stores nothing, as a single submission would. The cases, their latest scores and their
    schedules are read (and locked) once for the whole batch, and the new rows are inserted in bulk at its end.
    """
    case_ids = sorted({item.case_id for item in items})
    found = await uow.cases.get_many(case_ids)
    visible = [
        c
        for c in case_ids
        if (case := found.get(c)) and case.erased_at is None and case.owner_office_id == actor.office_id
    ]
    latest = await uow.scores.latest_primaries(visible)
    open_schedules = await uow.surveys.open_for_cases(visible)
    administrations = await uow.surveys.administrations_of_cases(visible)
    states = {
        case_id: _CaseState(
            case=found[case_id],
            latest={code: row for (of, code), row in latest.items() if of == case_id},
            open_schedules=open_schedules[case_id],
            administrations=administrations[case_id],
        )
        for case_id in visible
    }
    documents: dict[tuple[str, str], InstrumentDocument | None] = {}
    added = _Added()
    results: list[tuple[Survey, Score | None] | DomainError] = [DomainError()] * len(items)
    order = sorted(range(len(items)), key=lambda i: (str(items[i].case_id), items[i].interviewed_on, i))
    for position, index in enumerate(order):
        body = items[index]
        # Distinct processing times keep "the previous administration" unambiguous within one batch.
        at = now + timedelta(microseconds=position)
        try:
            state = states.get(body.case_id)
            case = _visible(None if state is None else state.case, body.case_id, actor=actor)
            key = (body.instrument, body.instrument_version)
            if key not in documents:  # read once per version
                documents[key] = await uow.instruments.document(*key)
            document = _applicable(documents[key], *key, case)
            survey = _survey(body, case, document, actor=actor, now=at)
            if body.interrupted:
                _discard(uow, survey, added, actor=actor)
                results[index] = survey, None
                continue
            result = score(document, body.answers)
            accepted = _accept(uow, survey, result, document, states[body.case_id], added, actor=actor, now=at)
            results[index] = survey, accepted
        except DomainError as refused:
            results[index] = refused
    await added.insert(uow)
    return results
