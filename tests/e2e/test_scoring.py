"""A baseline RSS survey through the gateway: the case opens in case-service, the score comes from scoring-service."""

from typing import Any

import httpx
from scenario import eventually, office_headers, open_return_case

from casebridge_common.testing.plugin import RESOURCES, bearer
from casebridge_common.testing.tokens import client_credentials_token, demo_client_secret
from scoring_service.instruments.worked_examples import T3


def scoring_headers(issuer: str, client_id: str = "de-berlin-system") -> dict[str, str]:
    return bearer(
        client_credentials_token(
            issuer,
            client_id,
            demo_client_secret(client_id),
            resource=RESOURCES["scoring-api"],
            scope="surveys:read surveys:submit scores:read",
        )
    )


def test_a_baseline_survey_submitted_through_the_gateway_is_scored_and_in_the_history(
    api: httpx.Client, oidc_issuer: str
) -> None:
    case = open_return_case(api, office_headers(oidc_issuer, "de-berlin-system", "case-api"), given_name="Awa")
    scoring = scoring_headers(oidc_issuer)

    def baseline_due() -> list[dict[str, Any]]:
        response = api.get("/v1/surveys/schedules", params={"case_id": case["id"]}, headers=scoring)
        assert response.status_code == 200, response.text
        return list(response.json())

    eventually(baseline_due, what="case.opened to reach scoring-service")
    submitted = api.post(
        "/v1/surveys",
        headers={**scoring, "Idempotency-Key": f"e2e-baseline-{case['id']}"},
        json={
            "case_id": case["id"],
            "instrument": "rss",
            "instrument_version": "rss-default-v0",
            "administration": "baseline",
            "interviewed_on": case["opened_at"][:10],
            "mode": "in_person",
            "consent_form": "written",
            "interviewer_independent_of_case": True,
            "answers": T3,
        },
    )
    assert submitted.status_code == 201, submitted.text
    assert round(submitted.json()["score"]["composite"], 4) == 0.4547

    history = api.get("/v1/surveys", params={"case_id": case["id"]}, headers=scoring)
    assert history.status_code == 200, history.text
    [only] = history.json()["items"]
    assert (only["id"], only["administration"], only["score"]["composite_band"]) == (
        submitted.json()["id"],
        "baseline",
        "standard",
    )
    assert {(s["administration"], s["status"]) for s in baseline_due()} >= {
        ("baseline", "completed"),
        ("repeat", "due"),
    }

    erbil = api.get(
        "/v1/surveys", params={"case_id": case["id"]}, headers=scoring_headers(oidc_issuer, "iq-erbil-system")
    )
    assert (erbil.status_code, erbil.json()["code"]) == (404, "case-not-found")
