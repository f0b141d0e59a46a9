import csv
import io
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from casebridge_common.auth import Principal, Scope, requires
from casebridge_common.events.contracts.case import Programme
from casebridge_common.http import IsoDate
from casebridge_common.problems import problems
from scoring_service.api.dependencies import UoW
from scoring_service.domain.indicators import CaseGroupBy, GroupBy
from scoring_service.domain.models import Instrument
from scoring_service.schemas import IndicatorReport, TimelineReport
from scoring_service.service_layer import indicators

router = APIRouter(prefix="/v1/indicators", tags=["indicators"])
AggregatesRead = Annotated[Principal, requires(Scope.AGGREGATES_READ)]
GroupByParam = Annotated[
    list[GroupBy],
    Query(
        description="disaggregate by these facts; the period is the calendar quarter of interview; sex, "
        "age_group, the countries, return_cohort (the quarter of return) and the return profile come from the "
        "consented monitoring profile (`undisclosed` otherwise)"
    ),
]
CaseGroupByParam = Annotated[
    list[CaseGroupBy],
    Query(description="disaggregate by these facts; the cohort is the quarter of return; `undisclosed` as above"),
]
FromParam = Annotated[
    IsoDate | None, Query(description="the first day of a calendar quarter (422 `indicator-period-not-quarterly`)")
]
ToParam = Annotated[
    IsoDate | None, Query(description="the last day of a calendar quarter (422 `indicator-period-not-quarterly`)")
]
MinimumParam = Annotated[
    int | None, Query(ge=2, description="suppress cells below this count; never below the service's minimum")
]


async def score_report(
    request: Request,
    uow: UoW,
    who: AggregatesRead,
    instrument: Instrument = Instrument.RSS,
    group_by: GroupByParam = [],  # noqa: B006 - FastAPI copies query defaults
    programme: Programme | None = None,
    interviewed_from: FromParam = None,
    interviewed_to: ToParam = None,
    minimum_count: MinimumParam = None,
) -> IndicatorReport:
    """The score indicators of a request: the one parameter list of `/scores` and `/scores.csv`."""
    floor: int = request.state.settings.indicators_minimum_cell_count
    async with uow:
        return await indicators.score_indicators(
            uow,
            actor=who,
            instrument=instrument,
            group_by=list(dict.fromkeys(group_by)),
            programme=programme,
            interviewed_from=interviewed_from,
            interviewed_to=interviewed_to,
            minimum_count=max(floor, minimum_count or floor),
            perturbation_key=request.state.settings.indicators_perturbation_key.get_secret_value().encode(),
        )


ScoreReport = Annotated[IndicatorReport, Depends(score_report)]


@router.get("/scores", responses=problems(401, 403, 422))
async def score_indicators(report: ScoreReport) -> IndicatorReport:
    """Programme indicators over the caller's organisation's stored scores (RSS-1 to RSS-4, RSS-7, RSS-8).

    Per cell: administrations, discarded (interrupted) surveys, the share reaching the composite target (0.5 for
    the RSS), mean composite and mean score per dimension, the share in each band, and the share flagged for low
    accuracy. A cell with fewer distinct scored cases than the minimum count, or with a programme's quarter of
    interview holding fewer, is `suppressed` and shows no figures; so is the next-smallest cell beside a lone
    suppressed one, which could otherwise be recovered from a total. A figure fewer cases have a value for is
    null. Every dimension lists every band of the instrument, zeros included. Every figure carries a small noise
    fixed by the cell's records (counts ±2, means up to ±0.5/n, shares a count ±2 over a count ±2, 3 decimals),
    so that linked tables cannot be differenced down to one person. The interview bounds are whole calendar
    quarters.
    Cases excluded after an M&E consent withdrawal are left out until a new consent covers M&E.
    """
    return report


CSV_COLUMNS = [
    "administrations",
    "discarded",
    "share_target_reached",
    "mean_composite",
    "share_low_accuracy",
]


def _csv(report: IndicatorReport) -> str:
    dimensions = sorted({d for cell in report.cells for d in (*cell.mean_by_dimension, *cell.share_by_band)})
    bands = [(d, b) for d in dimensions for b in indicators.instrument_bands(report.instrument)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [g.value for g in report.group_by]
        + ["suppressed", *CSV_COLUMNS]
        + [f"mean_{d}" for d in dimensions]
        + [f"share_{d}_{b}" for d, b in bands]
    )

    def text(value: float | int | None) -> str:
        return "" if value is None else str(value)

    for cell in report.cells:
        writer.writerow(
            [cell.group.get(g.value, "") for g in report.group_by]
            + [str(cell.suppressed).lower()]
            + [text(getattr(cell, c)) for c in CSV_COLUMNS]
            + [text(cell.mean_by_dimension.get(d)) for d in dimensions]
            + [text((cell.share_by_band.get(d) or {}).get(b)) for d, b in bands]
        )
    return out.getvalue()


@router.get(
    "/scores.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}, **problems(401, 403, 422)},
)
async def score_indicators_csv(report: ScoreReport) -> Response:
    """The same indicators as `/v1/indicators/scores`, one CSV row per cell; suppressed cells have empty figures."""
    return Response(_csv(report), media_type="text/csv; charset=utf-8")


async def timeline_report(
    request: Request,
    uow: UoW,
    who: AggregatesRead,
    group_by: CaseGroupByParam = [],  # noqa: B006 - FastAPI copies query defaults
    programme: Programme | None = None,
    returned_from: FromParam = None,
    returned_to: ToParam = None,
    minimum_count: MinimumParam = None,
) -> TimelineReport:
    """The return-to-plan indicator of a request: the one parameter list of its JSON and CSV routes."""
    floor: int = request.state.settings.indicators_minimum_cell_count
    async with uow:
        return await indicators.return_to_plan_indicators(
            uow,
            actor=who,
            group_by=list(dict.fromkeys(group_by)),
            programme=programme,
            returned_from=returned_from,
            returned_to=returned_to,
            minimum_count=max(floor, minimum_count or floor),
            perturbation_key=request.state.settings.indicators_perturbation_key.get_secret_value().encode(),
        )


TimelineReportParam = Annotated[TimelineReport, Depends(timeline_report)]


@router.get("/return-to-plan", responses=problems(401, 403, 422))
async def return_to_plan_indicators(report: TimelineReportParam) -> TimelineReport:
    """Time from return to plan approval (DQ-9) over the caller's organisation's cases: per cell the number of
    cases whose consented monitoring profile gives the quarter of return and the days to the first plan
    approval, and the median of those days. Suppressed like the score indicators, sliced by programme and
    quarter of return; the return bounds are whole calendar quarters."""
    return report


def _timeline_csv(report: TimelineReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([g.value for g in report.group_by] + ["suppressed", "cases", "median_days_return_to_plan"])
    for cell in report.cells:
        writer.writerow(
            [cell.group.get(g.value, "") for g in report.group_by]
            + [str(cell.suppressed).lower()]
            + ["" if v is None else str(v) for v in (cell.cases, cell.median_days_return_to_plan)]
        )
    return out.getvalue()


@router.get(
    "/return-to-plan.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}, **problems(401, 403, 422)},
)
async def return_to_plan_indicators_csv(report: TimelineReportParam) -> Response:
    """The same indicator as `/v1/indicators/return-to-plan`, one CSV row per cell; suppressed cells are empty."""
    return Response(_timeline_csv(report), media_type="text/csv; charset=utf-8")
