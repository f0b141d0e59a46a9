"""One return case and one resettlement case walk from intake to closure through the gateway; their events
arrive on Kafka in order, keyed by the case id, carrying identifiers and stage codes only."""

import asyncio
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from scenario import office_headers, open_return_case

CASE_TOPIC = "casebridge.case.events.v1"
DEPARTURE = ["handover_package_received_or_waived", "voluntariness_attested"]  # leaving for the origin
SIGNED_PLAN: dict[str, Any] = {
    "drafted_in": "origin",
    "content": {
        "place_of_return": "Thiès",
        "summary_economic": "Tailoring micro-business",
        "items": [{"type": "income_generating_activity", "income_generating_sub_type": "individual_microbusiness"}],
        "grant_currency": "XOF",
        "grant_lines": [{"description": "Sewing machine", "estimated_cost": 250000}],
        "estimated_duration_months": 12,
        "exit_strategy": "Self-sufficient once the shop covers rent and stock",
        "returnee_signature": {"name": "Mamadou Sow", "signed_on": "2026-11-30"},
        "staff_or_partner_signature": {"name": "Fatou Diop", "signed_on": "2026-11-30"},
    },
}
CLOSURE = {
    "closure_reason": "support_duration_ended",
    "closure_type": "planned",
    "exit_interview_on": "2026-11-02",
    "closing_assessment": "Stable income; no unmet needs",
    "hand_off": "Municipal social services",
}


def _move(api: httpx.Client, headers: dict[str, str], case: dict[str, Any], **body: Any) -> dict[str, Any]:
    response = api.post(
        f"/v1/cases/{case['id']}/stage-transitions", json=body, headers={**headers, "If-Match": f'"{case["version"]}"'}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _post(api: httpx.Client, headers: dict[str, str], path: str, body: dict[str, Any] | None = None) -> None:
    response = api.post(path, json=body, headers={**headers, "Idempotency-Key": f"e2e-{uuid.uuid4()}"})
    assert response.status_code in {200, 201}, response.text


def walk_return_case(api: httpx.Client, headers: dict[str, str]) -> dict[str, Any]:
    case = open_return_case(api, headers, given_name="Ibrahima")
    case = _move(
        api,
        headers,
        case,
        to_stage="arrived",
        attestations=DEPARTURE,
    )
    case = _move(api, headers, case, to_stage="first_counselling", attestations=["returnee_notified_in_advance"])
    case = _move(api, headers, case, to_stage="assessment", attestations=["consent_captured"])
    _post(api, headers, f"/v1/cases/{case['id']}/assessments", {"kind": "needs", "economic": "No income"})
    _post(
        api,
        headers,
        f"/v1/cases/{case['id']}/assessments",
        {"kind": "skills", "skills": [{"skill": "tailoring", "how_acquired": "work"}]},
    )
    case = _move(api, headers, case, to_stage="planning")
    _post(api, headers, f"/v1/cases/{case['id']}/plans", SIGNED_PLAN)
    _post(api, headers, f"/v1/cases/{case['id']}/plans/1/approval")
    case = _move(api, headers, case, to_stage="implementation", attestations=["consent_covers_every_plan_component"])
    case = _move(api, headers, case, to_stage="monitoring")
    case = _move(api, headers, case, to_stage="closure_preparation", closure_start_reason="exit_strategy_met")
    return _move(api, headers, case, to_stage="closed", closure=CLOSURE)


def walk_resettlement_case(api: httpx.Client, headers: dict[str, str]) -> dict[str, Any]:
    beneficiary = api.post(
        "/v1/beneficiaries",
        headers=headers,
        json={
            "given_name": "Hawa",
            "family_name": "Abdi",
            "sex": "female",
            "born_on": "1990-02-11",
            "nationality": "SO",
            "confirm_not_duplicate": True,
        },
    ).json()
    case = api.post(
        "/v1/cases",
        headers=headers,
        json={"beneficiary_id": beneficiary["id"], "programme": "resettlement_integration"},
    ).json()
    for stage in ("case_processing", "selection_scheduled", "selection_interviewed", "approved", "placement_planning"):
        case = _move(api, headers, case, to_stage=stage)
    for track, to in [
        ("health", "assessed"),
        ("pdo", "invited"),
        ("pdo", "attending"),
        ("health", "cleared"),
        ("pdo", "completed"),
        ("documents", "issued"),
    ]:
        case = _move(api, headers, case, track=track, to_track_stage=to)
    case = _move(api, headers, case, to_stage="travel_booked")
    case = _move(api, headers, case, track="health", to_track_stage="pec_passed")
    case = _move(api, headers, case, to_stage="in_transit")
    case = _move(api, headers, case, to_stage="arrived")
    case = _move(api, headers, case, to_stage="handed_over", attestations=["handover_package_received_or_waived"])
    for stage in ("reception", "post_arrival_orientation", "integration_support", "follow_up"):
        case = _move(api, headers, case, to_stage=stage)
    return _move(
        api, headers, case, to_stage="transitioned", closure={**CLOSURE, "closure_reason": "goals_met_care_in_place"}
    )


async def _partitions(kafka_bootstrap: str) -> list[int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        (description,) = await admin.describe_topics([CASE_TOPIC])
        return [int(p["partition"]) for p in description["partitions"]]
    finally:
        await admin.close()


async def _walk_and_read_events(
    kafka_bootstrap: str, walk: Callable[[], dict[str, Any]], last_type: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka_bootstrap, group_id=f"e2e-{uuid.uuid4().hex[:8]}", enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(CASE_TOPIC, p) for p in await _partitions(kafka_bootstrap)]
        assert partitions, f"{CASE_TOPIC} has no partitions: were the topics created?"
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        for partition in partitions:
            await consumer.position(partition)
        case = await asyncio.to_thread(walk)
        found: list[dict[str, Any]] = []
        async with asyncio.timeout(60):
            while not found or found[-1]["type"] != last_type:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    found += [json.loads(r.value) for r in records if r.key == str(case["id"]).encode()]
        return case, found
    finally:
        await consumer.stop()


def test_a_return_case_walks_from_pre_departure_to_closure_with_its_events_on_kafka(
    api: httpx.Client, oidc_issuer: str, kafka_bootstrap: str
) -> None:
    headers = office_headers(oidc_issuer, "de-berlin-system", "case-api")
    case, events = asyncio.run(
        _walk_and_read_events(kafka_bootstrap, lambda: walk_return_case(api, headers), "casebridge.case.closed.v1")
    )
    assert case["stage"] == "closed"
    types = [e["type"] for e in events]
    assert types[0] == "casebridge.case.opened.v1"
    assert types.count("casebridge.case.assessment_recorded.v1") == 2
    assert types.count("casebridge.case.plan_approved.v1") == 1
    stages = [
        (e["data"]["from_stage"], e["data"]["to_stage"]) for e in events if e["type"].endswith("stage_changed.v1")
    ]
    assert stages == [
        ("pre_departure_counselling", "arrived"),
        ("arrived", "first_counselling"),
        ("first_counselling", "assessment"),
        ("assessment", "planning"),
        ("planning", "implementation"),
        ("implementation", "monitoring"),
        ("monitoring", "closure_preparation"),
        ("closure_preparation", "closed"),
    ]
    assert events[-1]["data"]["closure_reason"] == "support_duration_ended"
    assert all(e["subject"] == case["id"] for e in events)
    assert "Ibrahima" not in json.dumps(events)
    closure = api.get(f"/v1/cases/{case['id']}/closure", headers=headers)
    assert (closure.status_code, closure.json()["hand_off"]) == (200, "Municipal social services")


def test_a_resettlement_case_walks_from_referral_to_transition_with_its_events_on_kafka(
    api: httpx.Client, oidc_issuer: str, kafka_bootstrap: str
) -> None:
    headers = office_headers(oidc_issuer, "de-berlin-system", "case-api")
    case, events = asyncio.run(
        _walk_and_read_events(
            kafka_bootstrap, lambda: walk_resettlement_case(api, headers), "casebridge.case.closed.v1"
        )
    )
    assert (case["stage"], case["health_track"], case["pdo_track"], case["documents_track"]) == (
        "transitioned",
        "pec_passed",
        "completed",
        "issued",
    )
    changes = [e["data"] for e in events if e["type"].endswith("stage_changed.v1")]
    assert [c["to_stage"] for c in changes if c["track"] == "health"] == ["assessed", "cleared", "pec_passed"]
    assert changes[-1]["to_stage"] == "transitioned"
    assert [c["case_version"] for c in changes] == list(range(2, 2 + len(changes)))
    assert events[-1]["data"]["closure_reason"] == "goals_met_care_in_place"
