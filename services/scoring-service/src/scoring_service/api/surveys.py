from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from casebridge_common.db import utc_now
from casebridge_common.events.contracts.scoring import ScoreKind
from casebridge_common.http import (
    DEFAULT_LIMIT,
    Cursor,
    CursorParam,
    IdempotencyKeyHeader,
    LimitParam,
    Page,
    page_of,
    time_and_id,
)
from casebridge_common.problems import DomainError, problems
from scoring_service.api.dependencies import ScoresRead, SurveysRead, SurveysSubmit, UoW
from scoring_service.charts import dimension_chart
from scoring_service.domain.models import Instrument, Score, Survey
from scoring_service.schemas import (
    BatchItemResult,
    BatchProblem,
    BatchResult,
    RescoreSurvey,
    ScoreRead,
    SubmitSurvey,
    SubmitSurveyBatch,
    SurveyDetail,
    SurveyRead,
    SurveyScheduleRead,
)
from scoring_service.service_layer import surveys

router = APIRouter(prefix="/v1/surveys", tags=["surveys"])


def _read(survey: Survey, scores: list[Score]) -> SurveyRead:
    mine = [s for s in scores if s.survey_id == survey.id]
    return SurveyRead.model_validate(survey).model_copy(
        update={
            "score": next((ScoreRead.model_validate(s) for s in mine if s.kind is ScoreKind.PRIMARY), None),
            "what_if_scores": [ScoreRead.model_validate(s) for s in mine if s.kind is ScoreKind.WHAT_IF],
        }
    )


@router.get("/schedules", responses=problems(401, 403, 422))
async def list_schedules(
    uow: UoW, who: SurveysRead, case_id: Annotated[UUID, Query(description="the case whose surveys are scheduled")]
) -> list[SurveyScheduleRead]:
    """Which surveys (baseline, repeat, intermediary, final) are due for a case the caller's office owns."""
    async with uow:
        return [SurveyScheduleRead.model_validate(s) for s in await surveys.schedules_for_case(uow, case_id, actor=who)]


@router.post("", status_code=201, response_model=SurveyRead, responses=problems(401, 403, 404, 409, 422))
async def submit_survey(
    body: SubmitSurvey, uow: UoW, who: SurveysSubmit, response: Response, key: IdempotencyKeyHeader = None
) -> SurveyRead | JSONResponse:
    """Submit an administration for a case the caller's office owns; the answer carries its immutable score.

    Unknown questions, options not in the question's list, answers off the route, missing required answers or an
    unknown instrument version are a 422 and nothing is stored. An `interrupted` survey is stored as `discarded`,
    without answers or score. Emits `casebridge.score.computed.v1`, `casebridge.score.threshold_crossed.v1` on a
    band change, and `casebridge.survey.due.v1` for the next administrations.
    """
    async with uow:
        if (replay := await uow.idempotency.replay(key, who, body)) is not None:
            return replay
        survey, score = await surveys.submit_survey(uow, body, actor=who, now=utc_now())
        result = _read(survey, [score] if score is not None else [])
        await uow.idempotency.remember(status=201, body=result)
        await uow.commit()
    response.headers["Location"] = f"/v1/surveys/{result.id}"
    return result


@router.post("/batches", response_model=BatchResult, responses=problems(401, 403, 422))
async def submit_survey_batch(
    body: SubmitSurveyBatch, uow: UoW, who: SurveysSubmit, key: IdempotencyKeyHeader = None
) -> BatchResult | JSONResponse:
    """Import up to 5,000 administrations (for example historical surveys) in one request.

    Every item gets its own result: `201` with the survey and score ids, or the problem a single submission would
    get (unknown question, option not in the list, case not visible, ...). Refused items store nothing; accepted
    ones are stored and announced exactly as single submissions.
    """
    async with uow:
        if (replay := await uow.idempotency.replay(key, who, body)) is not None:
            return replay
        outcomes = await surveys.submit_batch(uow, body.items, actor=who, now=utc_now())
        items = []
        for index, outcome in enumerate(outcomes):
            if isinstance(outcome, DomainError):
                errors = outcome.context.get("errors")
                items.append(
                    BatchItemResult(
                        index=index,
                        status=outcome.status,
                        problem=BatchProblem(
                            status=outcome.status,
                            code=outcome.code,
                            detail=outcome.detail,
                            errors=errors if isinstance(errors, list) else None,
                        ),
                    )
                )
            else:
                survey, score = outcome
                items.append(
                    BatchItemResult(
                        index=index,
                        status=201,
                        survey_id=survey.id,
                        score_id=score.id if score is not None else None,
                        composite=score.composite if score is not None else None,
                    )
                )
        accepted = sum(1 for i in items if i.status == 201)
        result = BatchResult(accepted=accepted, refused=len(items) - accepted, items=items)
        await uow.idempotency.remember(status=200, body=result)
        await uow.commit()
    return result


@router.get("", responses=problems(400, 401, 403, 404, 422))
async def list_surveys(
    uow: UoW,
    who: ScoresRead,
    case_id: Annotated[UUID, Query(description="the case whose survey history to list")],
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[SurveyRead]:
    """A case's score history, oldest first: each administration with its score, the change since the previous
    administration, and any what-if re-scores."""
    query = {"case_id": case_id, "office": who.office_id}
    after = time_and_id(Cursor.decode(cursor, query))
    async with uow:
        rows, scores = await surveys.history(uow, case_id, actor=who, after=after, limit=limit)
        await uow.commit()
    return page_of(
        [_read(s, scores) for s in rows],
        limit=limit,
        sort_key=lambda s: [s.created_at.isoformat(), str(s.id)],
        query=query,
    )


@router.get(
    "/charts",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}, **problems(401, 403, 404, 422)},
)
async def chart_scores(
    uow: UoW,
    who: ScoresRead,
    case_id: Annotated[UUID, Query(description="the case whose scores to draw")],
    instrument: Annotated[Instrument, Query(description="which instrument's scores")] = Instrument.RSS,
) -> Response:
    """An SVG line chart of the case's dimension and composite scores over its administrations, for reports.

    Only the scores under each survey's own instrument version are drawn; what-if re-scores are left out.
    """
    async with uow:
        rows = await surveys.scored_history(uow, case_id, instrument=instrument, actor=who)
        await uow.commit()
    svg = dimension_chart(f"{instrument.value.upper()} scores of case {case_id}", rows)
    return Response(svg, media_type="image/svg+xml")


@router.get("/{survey_id}", responses=problems(401, 403, 404))
async def get_survey(survey_id: UUID, uow: UoW, who: ScoresRead) -> SurveyDetail:
    """One administration with its answers and every score of it."""
    async with uow:
        survey, scores = await surveys.get_survey(uow, survey_id, actor=who)
        await uow.commit()
    return SurveyDetail.model_validate({**_read(survey, scores).model_dump(), "answers": survey.answers})


@router.post(
    "/{survey_id}/what-if-scores",
    status_code=201,
    response_model=ScoreRead,
    responses=problems(401, 403, 404, 409, 422),
)
async def rescore_survey(
    survey_id: UUID, body: RescoreSurvey, uow: UoW, who: SurveysSubmit, key: IdempotencyKeyHeader = None
) -> ScoreRead | JSONResponse:
    """Re-score a stored survey under another version of its instrument, as a separate `what_if` score.

    The survey's own score is never changed; re-scoring under a version already used returns that score.
    """
    async with uow:
        if (replay := await uow.idempotency.replay(key, who, body)) is not None:
            return replay
        result = ScoreRead.model_validate(
            await surveys.rescore(uow, survey_id, instrument_version=body.instrument_version, actor=who, now=utc_now())
        )
        await uow.idempotency.remember(status=201, body=result)
        await uow.commit()
    return result
