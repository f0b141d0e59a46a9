"""Steps the end-to-end tests share: tokens per office and API, registering a returnee and opening a case."""

import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
import pytest

from casebridge_common.testing.plugin import RESOURCES, bearer
from casebridge_common.testing.tokens import client_credentials_token, demo_client_secret

T = TypeVar("T")
SCOPES = {
    "case-api": "cases:read cases:write consents:write",
    "scoring-api": "surveys:read",
    "notification-api": "inbox:read",
    "referral-api": "directory:read",
}


def office_headers(issuer: str, client_id: str, audience: str) -> dict[str, str]:
    return bearer(
        client_credentials_token(
            issuer, client_id, demo_client_secret(client_id), resource=RESOURCES[audience], scope=SCOPES[audience]
        )
    )


def open_return_case(api: httpx.Client, headers: dict[str, str], *, given_name: str = "Mamadou") -> dict[str, Any]:
    beneficiary = api.post(
        "/v1/beneficiaries",
        headers=headers,
        json={
            "given_name": given_name,
            "family_name": "Sow",
            "sex": "male",
            "born_on": "1988-11-02",
            "nationality": "SN",
            "confirm_not_duplicate": True,
        },
    )
    assert beneficiary.status_code == 201, beneficiary.text
    case = api.post(
        "/v1/cases",
        headers=headers,
        json={"beneficiary_id": beneficiary.json()["id"], "programme": "return_reintegration"},
    )
    assert case.status_code == 201, case.text
    return dict(case.json())


def give_consent(
    api: httpx.Client, headers: dict[str, str], beneficiary_id: str, scopes: list[dict[str, Any]]
) -> dict[str, Any]:
    """The returnee's own written consent to the given scopes (data-protection.md §2.1)."""
    response = api.post(
        f"/v1/beneficiaries/{beneficiary_id}/consents",
        headers=headers | {"Idempotency-Key": str(uuid.uuid4())},
        json={"given_by": "self", "method": "written", "notice_version": "e2e-notice-2026-12", "scopes": scopes},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


# A referral to the Dakar training centre, with status-and-feedback back to the Berlin office (R-C1, R-C2).
REFERRAL_CONSENT: list[dict[str, Any]] = [
    {
        "data_categories": ["identity_biodata", "contact", "skills_employment"],
        "purposes": ["referral_service_delivery"],
        "organisations": ["cfp-dakar"],
    },
    {"data_categories": ["assistance"], "purposes": ["provider_feedback"], "offices": ["de-berlin"]},
]


def inbox_items_for(api: httpx.Client, headers: dict[str, str], case_id: str) -> list[dict[str, Any]]:
    response = api.get("/v1/inbox", params={"case_id": case_id}, headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def eventually(probe: Callable[[], T | None], *, timeout_s: float = 60, what: str = "the condition") -> T:
    """Poll until `probe` returns something truthy, or fail after the deadline. Never a bare sleep."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = probe()
        if result:
            return result
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what}")


# --- referrals (referral-service learns of cases and consents over Kafka, so steps poll where they must)

SERVICE = "cfp-dakar-tvet-dakar"
SENDER_SCOPE = "referrals:read referrals:send directory:read"
PARTNER_SCOPE = "referrals:read referrals:respond directory:read"


def referral_headers(issuer: str, client_id: str, scope: str) -> dict[str, str]:
    token = client_credentials_token(
        issuer, client_id, demo_client_secret(client_id), resource=RESOURCES["referral-api"], scope=scope
    )
    return bearer(token)


def draft_referral(api: httpx.Client, headers: dict[str, str], case_id: str, **extra: Any) -> httpx.Response:
    """Referral-service learns of the case from Kafka, so the first attempts may still be 404."""
    body = {"case_id": case_id, "destination": {"service_id": SERVICE}, "reason": "Tailoring course after return"}
    key = {"Idempotency-Key": str(uuid.uuid4())}

    def attempt() -> httpx.Response | None:
        response = api.post("/v1/referrals", json=body | extra, headers=headers | key)
        return None if response.status_code == 404 else response

    response: httpx.Response = eventually(attempt, what="referral-service to learn of the case")
    return response


def consented(api: httpx.Client, headers: dict[str, str], draft: dict[str, Any]) -> dict[str, Any]:
    """Consent reaches referral-service over Kafka: refresh the draft's preview until its manifest allows data."""
    current = draft

    def attempt() -> dict[str, Any] | None:
        nonlocal current
        if current["snapshot"]["shared_data_manifest"]["allowed"]:
            return current
        response = api.post(
            f"/v1/referrals/{current['id']}/preview", headers=headers | {"If-Match": f'"{current["version"]}"'}
        )
        assert response.status_code == 200, response.text
        current = dict(response.json())
        return current if current["snapshot"]["shared_data_manifest"]["allowed"] else None

    return eventually(attempt, what="the consent to reach referral-service")


def step(
    api: httpx.Client, headers: dict[str, str], referral: dict[str, Any], action: str, **body: Any
) -> dict[str, Any]:
    response = api.post(
        f"/v1/referrals/{referral['id']}/{action}",
        json=body or None,
        headers=headers | {"If-Match": f'"{referral["version"]}"'},
    )
    assert response.status_code == 200, response.text
    return dict(response.json())
