"""Time from return to plan approval over HTTP, as JSON and CSV, fed by monitoring profiles, with suppression."""

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from casebridge_common.db import session_factory
from casebridge_common.events.contracts.case import CaseMonitoringProfile, Programme
from casebridge_common.events.envelope import CloudEvent
from casebridge_common.testing.plugin import TokenFor, bearer
from scoring_service.consumers import handlers
from scoring_service.unit_of_work import ScoringUnitOfWork

OpenCase = Callable[..., Awaitable[uuid.UUID]]
QUARTER = "2033-Q1"  # a quarter of return no other test writes
FIRST_HALF = {"returned_from": "2033-01-01", "returned_to": "2033-06-30"}


async def test_return_to_plan_is_the_median_per_cell_in_json_and_csv_with_small_cells_suppressed(
    client: httpx.AsyncClient, token: TokenFor, open_case: OpenCase, test_db_url: str
) -> None:
    engine = create_async_engine(test_db_url, poolclass=NullPool)
    on_profile = handlers(baseline_window_days=30)[CaseMonitoringProfile.type]
    returns: list[tuple[str | None, str, int]] = [("female", QUARTER, d) for d in (3, 7, 10, 14, 28, 30, 35)]
    returns += [("male", QUARTER, 1), (None, QUARTER, 1)]
    returns.append(("female", "2033-Q2", 60))  # one woman returned in the next quarter
    for sex, returned, days in returns:
        case_id = await open_case()
        profile = CaseMonitoringProfile.model_validate(
            {
                "case_id": case_id,
                "beneficiary_id": case_id,
                "programme": Programme.RETURN_REINTEGRATION,
                "owner_office_id": "de-berlin",
                "owner_organisation_id": "iom-germany",
                "profile_version": 1,
                "as_of": datetime.now(UTC),
                "sex": sex,
                "return_quarter": returned,
                "days_return_to_plan": days,
            }
        )
        event = CloudEvent.wrap(profile, source="/casebridge/case-service")
        await on_profile(event, ScoringUnitOfWork(session_factory(engine)))
    await engine.dispose()

    aggregates = bearer(token("de-berlin-system", "scoring-api", "aggregates:read"))
    params = {"group_by": ["sex", "cohort"], "returned_from": "2033-01-01", "returned_to": "2033-03-31"}
    response = await client.get("/v1/indicators/return-to-plan", params=params, headers=aggregates)
    assert response.status_code == 200, response.text
    assert response.json()["group_by"] == ["sex", "cohort"]
    female, *small = response.json()["cells"]
    assert [(c["group"]["sex"], c["suppressed"], c["cases"]) for c in small] == [
        ("male", True, None),
        ("undisclosed", True, None),
    ]
    # seven women, median 14 days: both figures carry the cell's noise (cases ±2, the median ±30/7 days)
    assert (female["group"]["sex"], female["suppressed"], abs(female["cases"] - 7) <= 2) == ("female", False, True)
    assert female["median_days_return_to_plan"] == pytest.approx(14.0, abs=30 / 7 + 0.05)
    csv_response = await client.get("/v1/indicators/return-to-plan.csv", params=params, headers=aggregates)
    assert csv_response.headers["content-type"].startswith("text/csv")
    assert csv_response.text.splitlines() == [
        "sex,cohort,suppressed,cases,median_days_return_to_plan",
        f"female,2033-Q1,false,{female['cases']},{female['median_days_return_to_plan']}",  # the same noise
        "male,2033-Q1,true,,",
        "undisclosed,2033-Q1,true,,",
    ]
    # a quarter wider: the woman of 2033-Q2 alone would be the difference of the two medians, so it is suppressed
    wider = await client.get(
        "/v1/indicators/return-to-plan", params={"group_by": "sex", **FIRST_HALF}, headers=aggregates
    )
    assert wider.status_code == 200, wider.text
    assert [(c["group"]["sex"], c["suppressed"]) for c in wider.json()["cells"]] == [
        ("female", True),
        ("male", True),
        ("undisclosed", True),
    ]
    wrong = await client.get("/v1/indicators/return-to-plan", params={"group_by": "period"}, headers=aggregates)
    assert (wrong.status_code, wrong.json()["code"]) == (422, "validation-error")
    scope = bearer(token("de-berlin-system", "scoring-api", "surveys:read"))
    assert (await client.get("/v1/indicators/return-to-plan", headers=scope)).status_code == 403


async def test_date_filters_inside_a_quarter_are_422_and_nothing_is_computed(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    aggregates = bearer(token("de-berlin-system", "scoring-api", "aggregates:read"))
    for path, params, parameter in [
        ("/v1/indicators/return-to-plan", {"returned_from": "2033-03-01"}, "returned_from"),
        (
            "/v1/indicators/return-to-plan.csv",
            {"returned_from": "2033-01-01", "returned_to": "2033-01-01"},
            "returned_to",
        ),
        (
            "/v1/indicators/scores",
            {"interviewed_from": "2031-01-15", "interviewed_to": "2031-03-31"},
            "interviewed_from",
        ),
        ("/v1/indicators/scores.csv", {"interviewed_to": "2031-03-30"}, "interviewed_to"),
    ]:
        refused = await client.get(path, params=params, headers=aggregates)
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        body = refused.json()
        assert (body["code"], body["parameter"]) == ("indicator-period-not-quarterly", parameter)
        assert "cells" not in body
