"""Consent-governed sharing end to end, on the running stack and real Kafka: the Berlin host office records a
returnee's consent, shares the case with the Dakar origin office and refers it to a Dakar training centre; the
returnee then withdraws. Every holder of a copy (referral-, scoring- and notification-service) purges or redacts
it and acknowledges, the compliance view shows all receipts, and Dakar can no longer see the case."""

from typing import Any

import httpx
from scenario import (
    PARTNER_SCOPE,
    REFERRAL_CONSENT,
    SENDER_SCOPE,
    consented,
    draft_referral,
    eventually,
    give_consent,
    inbox_items_for,
    office_headers,
    open_return_case,
    referral_headers,
    step,
)

from casebridge_common.testing.plugin import RESOURCES, bearer
from casebridge_common.testing.tokens import client_credentials_token, demo_client_secret

HOLDERS = {"referral-service", "scoring-service", "notification-service"}
SHARED_WITH_DAKAR = {"identity_biodata", "skills_employment"}


def case_headers(issuer: str, client_id: str, scope: str) -> dict[str, str]:
    token = client_credentials_token(
        issuer, client_id, demo_client_secret(client_id), resource=RESOURCES["case-api"], scope=scope
    )
    return bearer(token)


def withdrawal_of(api: httpx.Client, headers: dict[str, str], consent_id: str) -> dict[str, Any] | None:
    response = api.get("/v1/compliance/withdrawals", params={"limit": 100}, headers=headers)
    assert response.status_code == 200, response.text
    return next((w for w in response.json()["items"] if w["consent_id"] == consent_id), None)


def test_a_withdrawn_consent_is_purged_by_every_holder_and_acknowledged(api: httpx.Client, oidc_issuer: str) -> None:
    berlin = office_headers(oidc_issuer, "de-berlin-system", "case-api")
    berlin_audit = case_headers(oidc_issuer, "de-berlin-system", "cases:read audit:read")
    dakar = case_headers(oidc_issuer, "sn-dakar-system", "cases:read")
    berlin_referrals = referral_headers(oidc_issuer, "de-berlin-system", SENDER_SCOPE)
    provider = referral_headers(oidc_issuer, "cfp-dakar-partner", PARTNER_SCOPE)
    berlin_inbox = office_headers(oidc_issuer, "de-berlin-system", "notification-api")

    case = open_return_case(api, berlin, given_name="Ousmane")
    consent = give_consent(
        api,
        berlin,
        case["beneficiary_id"],
        [
            *REFERRAL_CONSENT,
            {"data_categories": sorted(SHARED_WITH_DAKAR), "purposes": ["case_management"], "offices": ["sn-dakar"]},
            {"data_categories": ["survey_responses", "scores"], "purposes": ["m_and_e"], "offices": ["de-berlin"]},
        ],
    )
    assert consent["status"] == "given"

    # Dakar sees exactly the consented categories of the shared case, and is told what is withheld.
    shared = api.post(f"/v1/cases/{case['id']}/shares", headers=berlin, json={"office_id": "sn-dakar", "mode": "view"})
    assert shared.status_code == 201, shared.text
    seen = api.get(f"/v1/cases/{case['id']}", headers=dakar)
    assert seen.status_code == 200, seen.text
    withheld = {w["category"] for w in seen.json()["withheld"]}
    assert "vulnerability_results" in withheld
    assert not SHARED_WITH_DAKAR & withheld

    # The referral carries the consented manifest and is sent.
    created = draft_referral(api, berlin_referrals, case["id"])
    assert created.status_code == 201, created.text
    sent = step(api, berlin_referrals, consented(api, berlin_referrals, created.json()), "send")
    step(api, provider, sent, "acknowledge")

    withdrawn = api.post(
        f"/v1/consents/{consent['id']}/withdrawal",
        headers=berlin | {"If-Match": f'"{consent["version"]}"'},
        json={"channel": "phone"},
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"

    def all_acknowledged() -> dict[str, Any] | None:
        withdrawal = withdrawal_of(api, berlin_audit, consent["id"])
        return withdrawal if withdrawal is not None and withdrawal["status"] == "complete" else None

    withdrawal = eventually(all_acknowledged, what="every holder to acknowledge the withdrawal")
    receipts = {h["holder"]: h for h in withdrawal["holders"]}
    assert set(receipts) >= HOLDERS
    assert all(receipts[h]["state"] == "acknowledged" for h in HOLDERS)
    assert receipts["referral-service"]["purged"] + receipts["referral-service"]["redacted"] >= 1
    assert receipts["notification-service"]["redacted"] >= 1  # at least the case-opened inbox item

    # Referral-service took the data back and closed the referral.
    referral = api.get(f"/v1/referrals/{sent['id']}", headers=berlin_referrals)
    assert referral.status_code == 200, referral.text
    assert referral.json()["status"] == "consent_withdrawn"
    manifest = referral.json()["snapshot"]["shared_data_manifest"]
    assert manifest["allowed"] == []
    assert {r["category"] for r in manifest["redacted"]} >= {"identity_biodata", "contact", "skills_employment"}

    # Notification-service redacted its stored copies about the case.
    items = inbox_items_for(api, berlin_inbox, case["id"])
    assert items, "the case-opened notification should still be listed, redacted"
    assert all(item["redacted_at"] is not None for item in items)

    # Without a consent naming Dakar the share shows nothing, so the case no longer exists for Dakar.
    gone = api.get(f"/v1/cases/{case['id']}", headers=dakar)
    assert gone.status_code == 404
    assert gone.json()["code"] == "case-not-found"
    listed = api.get("/v1/cases", params={"limit": 100}, headers=dakar)
    assert case["id"] not in {c["id"] for c in listed.json()["items"]}
