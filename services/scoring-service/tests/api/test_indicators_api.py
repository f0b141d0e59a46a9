"""Time from return to plan approval over HTTP, as JSON and CSV, fed by monitoring profiles, with suppression."""

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from casebridge_common.db import session_factory
from casebridge_common.events.contracts.case import CaseMonitoringProfile, Programme
from casebridge_common.events.envelope import CloudEvent
from casebridge_common.testing.plugin import TokenFor, bearer
from scoring_service.consumers import handlers
from scoring_service.unit_of_work import ScoringUnitOfWork

OpenCase = Callable[..., Awaitable[uuid.UUID]]
RETURNED = "2033-03-01"  # a return day no other test writes


async def test_return_to_plan_is_the_median_per_cell_in_json_and_csv_with_small_cells_suppressed(
    client: httpx.AsyncClient, token: TokenFor, open_case: OpenCase, test_db_url: str
) -> None:
    engine = create_async_engine(test_db_url, poolclass=NullPool)
    on_profile = handlers(baseline_window_days=30)[CaseMonitoringProfile.type]
    for sex, approved in [("female", f"2033-03-{d:02d}T10:00:00Z") for d in (4, 8, 11, 15, 29)] + [
        ("male", "2033-03-02T10:00:00Z"),
        (None, "2033-03-02T10:00:00Z"),
    ]:
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
                "returned_on": RETURNED,
                "first_plan_approved_at": approved,
            }
        )
        event = CloudEvent.wrap(profile, source="/casebridge/case-service")
        await on_profile(event, ScoringUnitOfWork(session_factory(engine)))
    await engine.dispose()

    aggregates = bearer(token("de-berlin-system", "scoring-api", "aggregates:read"))
    params = {"group_by": ["sex", "cohort"], "returned_from": RETURNED, "returned_to": RETURNED}
    response = await client.get("/v1/indicators/return-to-plan", params=params, headers=aggregates)
    assert response.status_code == 200, response.text
    assert response.json()["group_by"] == ["sex", "cohort"]
    assert [(c["group"]["sex"], c["cases"], c["median_days_return_to_plan"]) for c in response.json()["cells"]] == [
        ("female", 5, 10.0),
        ("male", None, None),
        ("undisclosed", None, None),
    ]
    csv_response = await client.get("/v1/indicators/return-to-plan.csv", params=params, headers=aggregates)
    assert csv_response.headers["content-type"].startswith("text/csv")
    assert csv_response.text.splitlines() == [
        "sex,cohort,suppressed,cases,median_days_return_to_plan",
        "female,2033-Q1,false,5,10.0",
        "male,2033-Q1,true,,",
        "undisclosed,2033-Q1,true,,",
    ]
    wrong = await client.get("/v1/indicators/return-to-plan", params={"group_by": "period"}, headers=aggregates)
    assert (wrong.status_code, wrong.json()["code"]) == (422, "validation-error")
    scope = bearer(token("de-berlin-system", "scoring-api", "surveys:read"))
    assert (await client.get("/v1/indicators/return-to-plan", headers=scope)).status_code == 403
