from datetime import date

from casebridge_common.auth import Principal
from casebridge_common.events.contracts.case import Programme
from scoring_service.domain.indicators import (
    UNIT,
    CaseGroupBy,
    GroupBy,
    Range,
    aggregate,
    check_quarterly,
    return_to_plan,
)
from scoring_service.domain.models import Instrument
from scoring_service.domain.scoring import Band, RiskBand
from scoring_service.schemas import IndicatorCell, IndicatorReport, TimelineCell, TimelineReport
from scoring_service.unit_of_work import ScoringUnitOfWork

# The reach of a mean score where it is not [0, 1]: the DoMV's item values run from risk (-1) to protective (1).
SCORE_RANGES: dict[Instrument, Range] = {Instrument.DOMV: (-1.0, 1.0)}


def instrument_bands(instrument: Instrument) -> tuple[str, ...]:
    """Every band a dimension of the instrument can take, in order: a screening's risk bands (DoMV), a survey's
    bands otherwise. Each shown cell lists all of them, so that which bands appear says nothing about a case."""
    return tuple(RiskBand) if instrument is Instrument.DOMV else tuple(Band)


async def score_indicators(
    uow: ScoringUnitOfWork,
    *,
    actor: Principal,
    instrument: Instrument,
    group_by: list[GroupBy],
    programme: Programme | None,
    interviewed_from: date | None,
    interviewed_to: date | None,
    minimum_count: int,
    perturbation_key: bytes,
) -> IndicatorReport:
    """Aggregates only, never a row per person: not audited as a read of personal data. The interview bounds
    must be whole quarters (422 `indicator-period-not-quarterly`, nothing computed). Every figure is perturbed
    under `perturbation_key` (the cell-key method of `domain/indicators.py`)."""
    check_quarterly(interviewed_from, interviewed_to, names=("interviewed_from", "interviewed_to"))
    facts = (
        []
        if actor.organisation_id is None
        else await uow.indicators.facts(
            organisation_id=actor.organisation_id,
            instrument_code=instrument,
            programme=programme,
            interviewed_from=interviewed_from,
            interviewed_to=interviewed_to,
        )
    )
    cells = aggregate(
        facts,
        group_by=group_by,
        minimum_count=minimum_count,
        perturbation_key=perturbation_key,
        instrument=instrument.value,
        bands=instrument_bands(instrument),
        score_range=SCORE_RANGES.get(instrument, UNIT),
    )
    return IndicatorReport(
        instrument=instrument,
        group_by=group_by,
        minimum_count=minimum_count,
        cells=[
            IndicatorCell(
                group=dict(c.group),
                suppressed=c.suppressed,
                administrations=c.administrations,
                discarded=c.discarded,
                share_target_reached=c.share_target_reached,
                mean_composite=c.mean_composite,
                mean_by_dimension=c.mean_by_dimension,
                share_by_band=c.share_by_band,
                share_low_accuracy=c.share_low_accuracy,
            )
            for c in cells
        ],
    )


async def return_to_plan_indicators(
    uow: ScoringUnitOfWork,
    *,
    actor: Principal,
    group_by: list[CaseGroupBy],
    programme: Programme | None,
    returned_from: date | None,
    returned_to: date | None,
    minimum_count: int,
    perturbation_key: bytes,
) -> TimelineReport:
    """Time from return to plan approval over the monitoring profiles; aggregates only, like the scores. The
    return bounds must be whole quarters, as the interview bounds of the scores."""
    check_quarterly(returned_from, returned_to, names=("returned_from", "returned_to"))
    facts = (
        []
        if actor.organisation_id is None
        else await uow.indicators.timelines(
            organisation_id=actor.organisation_id,
            programme=programme,
            returned_from=returned_from,
            returned_to=returned_to,
        )
    )
    return TimelineReport(
        group_by=group_by,
        minimum_count=minimum_count,
        cells=[
            TimelineCell(
                group=dict(c.group),
                suppressed=c.suppressed,
                cases=c.cases,
                median_days_return_to_plan=c.median_days_return_to_plan,
            )
            for c in return_to_plan(
                facts, group_by=group_by, minimum_count=minimum_count, perturbation_key=perturbation_key
            )
        ],
    )
