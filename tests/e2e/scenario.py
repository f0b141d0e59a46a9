"""Steps the end-to-end tests share: tokens per office and API, registering a returnee and opening a case."""

import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
import pytest

from casebridge_common.testing.plugin import RESOURCES, bearer
from casebridge_common.testing.tokens import client_credentials_token, demo_client_secret

T = TypeVar("T")
SCOPES = {
    "case-api": "cases:read cases:write",
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
