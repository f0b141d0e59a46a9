"""A cross-border referral through the gateway: the Berlin host office refers a returnee's case to a vocational
training service in Dakar; the provider works it to completion and the feedback flows back to Berlin."""

import asyncio
import json
import os
import uuid
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from scenario import (
    PARTNER_SCOPE,
    REFERRAL_CONSENT,
    SENDER_SCOPE,
    SERVICE,
    consented,
    draft_referral,
    give_consent,
    office_headers,
    open_return_case,
    referral_headers,
    step,
)


def test_a_german_host_office_refers_a_case_to_a_senegalese_provider_and_sees_the_outcome(
    api: httpx.Client, oidc_issuer: str
) -> None:
    cases = office_headers(oidc_issuer, "de-berlin-system", "case-api")
    berlin = referral_headers(oidc_issuer, "de-berlin-system", SENDER_SCOPE)
    provider = referral_headers(oidc_issuer, "cfp-dakar-partner", PARTNER_SCOPE)
    erbil = referral_headers(oidc_issuer, "iq-erbil-system", SENDER_SCOPE)
    case = open_return_case(api, cases, given_name="Ibrahima")
    give_consent(api, cases, case["beneficiary_id"], REFERRAL_CONSENT)

    created = draft_referral(api, berlin, case["id"])
    assert created.status_code == 201, created.text
    draft = consented(api, berlin, created.json())
    assert (draft["status"], draft["category"], draft["destination"]["organisation_id"]) == (
        "draft",
        "tvet",
        "cfp-dakar",
    )
    assert draft["cross_border"] is True
    assert draft["snapshot"]["shared"]["case_id"] == case["id"]
    manifest = draft["snapshot"]["shared_data_manifest"]
    assert {a["category"] for a in manifest["allowed"]} == {"identity_biodata", "contact", "skills_employment"}
    assert {w["category"] for w in manifest["withheld"]} >= {"health_clinical", "vulnerability_results"}
    drafts_seen = api.get("/v1/referrals/inbox", params={"case_id": case["id"]}, headers=provider)
    assert drafts_seen.json()["items"] == []  # the destination sees nothing until it is sent

    sent = step(api, berlin, draft, "send")
    assert sent["status"] == "requested"
    assert sent["deadlines"]["acknowledge_due_at"] is not None

    inbox = api.get("/v1/referrals/inbox", params={"case_id": case["id"]}, headers=provider)
    assert inbox.status_code == 200, inbox.text
    assert [r["id"] for r in inbox.json()["items"]] == [draft["id"]]

    acknowledged = step(api, provider, sent, "acknowledge")
    accepted = step(api, provider, acknowledged, "accept")
    started = step(api, provider, accepted, "start")
    completed = step(
        api,
        provider,
        started,
        "complete",
        service_delivered="yes",
        outcome_summary="Finished the tailoring course with a certificate.",
        feedback="Ready for business start-up support.",
    )
    assert completed["status"] == "completed"

    seen = api.get(f"/v1/referrals/{draft['id']}", headers=berlin)
    assert seen.status_code == 200
    assert seen.json()["outcome"] == {
        "service_delivered": "yes",
        "outcome_summary": "Finished the tailoring course with a certificate.",
        "feedback": "Ready for business start-up support.",
        "completed_at": completed["outcome"]["completed_at"],
    }
    outbox = api.get("/v1/referrals/outbox", params={"status": "completed", "case_id": case["id"]}, headers=berlin)
    assert [r["id"] for r in outbox.json()["items"]] == [draft["id"]]

    unrelated = api.get(f"/v1/referrals/{draft['id']}", headers=erbil)
    assert unrelated.status_code == 404
    assert unrelated.json()["code"] == "referral-not-found"
    again = api.post(
        f"/v1/referrals/{draft['id']}/accept", headers=provider | {"If-Match": f'"{completed["version"]}"'}
    )
    assert again.status_code == 409
    assert again.json()["code"] == "illegal-referral-transition"


def test_an_office_that_does_not_own_the_case_cannot_refer_it(api: httpx.Client, oidc_issuer: str) -> None:
    cases = office_headers(oidc_issuer, "de-berlin-system", "case-api")
    berlin = referral_headers(oidc_issuer, "de-berlin-system", SENDER_SCOPE)
    erbil = referral_headers(oidc_issuer, "iq-erbil-system", SENDER_SCOPE)
    case = open_return_case(api, cases, given_name="Aminata")
    assert draft_referral(api, berlin, case["id"]).status_code == 201  # referral-service knows the case now
    response = api.post(
        "/v1/referrals",
        json={"case_id": case["id"], "destination": {"service_id": SERVICE}, "reason": "Training"},
        headers=erbil,
    )
    assert response.status_code == 404
    assert response.json()["code"] == "case-not-found"


async def _deadline_missed(referral_id: str, *, timeout_s: float) -> dict[str, Any] | None:
    prefix = os.environ.get("KAFKA_TOPIC_PREFIX", "")
    consumer = AIOKafkaConsumer(
        prefix + "casebridge.referral.events.v1",
        bootstrap_servers=os.environ.get("TEST_KAFKA_BOOTSTRAP", "127.0.0.1:19092"),
        group_id=f"e2e-referrals-{uuid.uuid4()}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        async with asyncio.timeout(timeout_s):
            async for record in consumer:
                event = json.loads(record.value)
                if event["type"] == "casebridge.referral.deadline_missed.v1" and event["subject"] == referral_id:
                    return dict(event)
    except TimeoutError:
        return None
    finally:
        await consumer.stop()
    return None


def test_a_provider_that_misses_its_acknowledgement_deadline_raises_a_deadline_missed_event(
    api: httpx.Client, oidc_issuer: str
) -> None:
    cases = office_headers(oidc_issuer, "de-berlin-system", "case-api")
    berlin = referral_headers(oidc_issuer, "de-berlin-system", SENDER_SCOPE)
    case = open_return_case(api, cases, given_name="Cheikh")
    give_consent(api, cases, case["beneficiary_id"], REFERRAL_CONSENT)
    created = draft_referral(api, berlin, case["id"], acknowledge_within_s=1)  # local/test-only override
    assert created.status_code == 201, created.text
    sent = step(api, berlin, consented(api, berlin, created.json()), "send")

    event = asyncio.run(_deadline_missed(sent["id"], timeout_s=90))
    assert event is not None, "no deadline_missed event on casebridge.referral.events.v1"
    assert event["data"]["deadline"] == "acknowledge"
    assert event["data"]["destination_organisation_id"] == "cfp-dakar"
    assert event["data"]["case_id"] == case["id"]
