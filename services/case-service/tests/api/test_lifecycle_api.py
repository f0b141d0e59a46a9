"""Stage transitions, assessments, plans and closure over HTTP, on real PostgreSQL with real tokens."""

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine

from casebridge_common.audit import AuditEntry
from casebridge_common.outbox import OutboxMessage
from casebridge_common.testing.plugin import TokenFor, bearer
from casebridge_common.testing.tokens import authorization_code_token

RW = "cases:read cases:write"
DEPARTURE = ["handover_package_received_or_waived", "voluntariness_attested"]  # leaving for the origin
ADULT = {
    "given_name": "Awa",
    "family_name": "Ndiaye",
    "sex": "female",
    "born_on": "1994-03-17",
    "nationality": "SN",
    "confirm_not_duplicate": True,
}
CHILD = {**ADULT, "given_name": "Mariama", "born_on": "2015-05-01"}
NEEDS = {"kind": "needs", "economic": "No income since return", "psychosocial": "Isolated from peers"}
SKILLS = {
    "kind": "skills",
    "education_level_isced": 3,
    "skills": [{"skill": "tailoring", "how_acquired": "work"}],
    "work_experience": [{"occupation": "tailor", "years": 4, "country": "DE"}],
    "languages": ["wo", "fr"],
}
PLAN: dict[str, Any] = {
    "drafted_in": "origin",
    "content": {
        "place_of_return": "Thiès",
        "summary_economic": "Tailoring micro-business",
        "items": [{"type": "income_generating_activity", "income_generating_sub_type": "individual_microbusiness"}],
        "grant_currency": "XOF",
        "grant_lines": [
            {"description": "Sewing machine", "estimated_cost": 250000},
            {"description": "Fabric stock", "estimated_cost": 80000.5},
        ],
        "estimated_duration_months": 12,
        "exit_strategy": "Self-sufficient once the shop covers rent and stock",
    },
}
SIGNED = {
    "returnee_signature": {"name": "Awa Ndiaye", "signed_on": "2026-11-30"},
    "staff_or_partner_signature": {"name": "Fatou Diop", "signed_on": "2026-11-30"},
    "done_on": "2026-11-30",
    "done_in": "Thiès",
}


def office(token: TokenFor, client_id: str = "de-berlin-system", scope: str = RW) -> dict[str, str]:
    return bearer(token(client_id, "case-api", scope))


async def open_case(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    person: dict[str, str] = ADULT,
    programme: str = "return_reintegration",
) -> dict[str, Any]:
    beneficiary = await client.post("/v1/beneficiaries", json=person, headers=headers)
    case = await client.post(
        "/v1/cases", json={"beneficiary_id": beneficiary.json()["id"], "programme": programme}, headers=headers
    )
    assert case.status_code == 201, case.text
    return dict(case.json())


async def move(
    client: httpx.AsyncClient, headers: dict[str, str], case: dict[str, Any], expect: int = 200, **body: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/v1/cases/{case['id']}/stage-transitions",
        json=body,
        headers={**headers, "If-Match": f'"{case["version"]}"'},
    )
    assert response.status_code == expect, response.text
    if expect == 200:
        assert response.headers["etag"] == f'"{response.json()["version"]}"'
    return dict(response.json())


async def events_of(test_db_url: str, case_id: str) -> list[tuple[str, dict[str, Any]]]:
    engine = create_async_engine(test_db_url)
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(OutboxMessage.event)
                .where(OutboxMessage.key == case_id, OutboxMessage.topic != "casebridge.case.monitoring.v1")
                .order_by(OutboxMessage.seq)
            )
        ).all()
    await engine.dispose()
    return [(row.event["type"], row.event["data"]) for row in rows]


async def record(
    client: httpx.AsyncClient, headers: dict[str, str], case: dict[str, Any], body: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post(f"/v1/cases/{case['id']}/assessments", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_return_case_walks_from_pre_departure_to_closure(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    h = office(token)
    case = await open_case(client, h)
    case = await move(
        client,
        h,
        case,
        to_stage="arrived",
        attestations=DEPARTURE,
    )
    case = await move(client, h, case, to_stage="first_counselling", attestations=["returnee_notified_in_advance"])
    case = await move(client, h, case, to_stage="assessment", attestations=["consent_captured"])
    refused = await move(client, h, case, expect=409, to_stage="planning")
    assert (refused["code"], refused["guard"]) == ("stage-guard-failed", "skills-assessment-recorded")
    await record(client, h, case, SKILLS)
    await record(client, h, case, NEEDS)
    case = await move(client, h, case, to_stage="planning")
    draft = (await client.post(f"/v1/cases/{case['id']}/plans", json=PLAN, headers=h)).json()
    assert (draft["version"], draft["status"], draft["grant_total"]) == (1, "draft", 330000.5)
    assert (await client.post(f"/v1/cases/{case['id']}/plans/1/approval", headers=h)).status_code == 200
    refused = await move(
        client, h, case, expect=409, to_stage="implementation", attestations=["consent_covers_every_plan_component"]
    )
    assert refused["guard"] == "plan-signed-by-both"
    signed = {**PLAN, "content": {**PLAN["content"], **SIGNED}}
    assert (await client.post(f"/v1/cases/{case['id']}/plans", json=signed, headers=h)).json()["version"] == 2
    approved = (await client.post(f"/v1/cases/{case['id']}/plans/2/approval", headers=h)).json()
    assert (approved["status"], approved["approved_by"]) == ("approved", "de-berlin-system")
    plans = (await client.get(f"/v1/cases/{case['id']}/plans", headers=h)).json()["items"]
    assert [(p["version"], p["status"]) for p in plans] == [(2, "approved"), (1, "superseded")]
    diff = (await client.get(f"/v1/cases/{case['id']}/plans/2/diff?against=1", headers=h)).json()
    assert {c["pointer"] for c in diff["changes"]} == {
        "/returnee_signature",
        "/staff_or_partner_signature",
        "/done_on",
        "/done_in",
    }
    case = await move(client, h, case, to_stage="implementation", attestations=["consent_covers_every_plan_component"])
    case = await move(client, h, case, to_stage="monitoring")
    case = await move(client, h, case, to_stage="closure_preparation", closure_start_reason="exit_strategy_met")
    refused = await move(
        client,
        h,
        case,
        expect=409,
        to_stage="closed",
        closure={"closure_reason": "support_duration_ended", "closure_type": "planned"},
    )
    assert refused["guard"] == "exit-review-done"
    closure = {
        "closure_reason": "support_duration_ended",
        "closure_type": "planned",
        "exit_interview_on": "2026-11-02",
        "closing_assessment": "Stable income from the tailoring shop",
        "hand_off": "Referred to the municipal social services",
    }
    case = await move(client, h, case, to_stage="closed", closure=closure)
    assert case["stage"] == "closed"
    stored = (await client.get(f"/v1/cases/{case['id']}/closure", headers=h)).json()
    assert (stored["closure_reason"], stored["hand_off"]) == ("support_duration_ended", closure["hand_off"])
    types = [t for t, _ in await events_of(test_db_url, case["id"])]
    assert types.count("casebridge.case.stage_changed.v1") == 8
    assert types.count("casebridge.case.assessment_recorded.v1") == 2
    assert types.count("casebridge.case.plan_approved.v1") == 2
    assert types[-1] == "casebridge.case.closed.v1"
    changes = [d for t, d in await events_of(test_db_url, case["id"]) if t == "casebridge.case.stage_changed.v1"]
    assert (changes[0]["from_stage"], changes[0]["to_stage"], changes[-1]["to_stage"]) == (
        "pre_departure_counselling",
        "arrived",
        "closed",
    )
    assert [c["case_version"] for c in changes] == sorted(c["case_version"] for c in changes)


async def test_a_resettlement_case_moves_its_parallel_tracks_before_travel(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    h = office(token, "sn-dakar-system")
    case = await open_case(client, h, programme="resettlement_integration")
    assert (case["stage"], case["health_track"], case["pdo_track"], case["documents_track"]) == (
        "referral_submission",
        "not_started",
        "not_started",
        "pending",
    )
    early = await move(client, h, case, expect=409, track="health", to_track_stage="assessed")
    assert early["code"] == "illegal-transition"
    for stage in ("case_processing", "selection_scheduled", "selection_interviewed", "approved", "placement_planning"):
        case = await move(client, h, case, to_stage=stage)
    refused = await move(client, h, case, expect=409, to_stage="travel_booked")
    assert refused["guard"] == "health-track-cleared"
    for track, to in [("health", "assessed"), ("pdo", "invited"), ("health", "cleared"), ("documents", "issued")]:
        case = await move(client, h, case, track=track, to_track_stage=to)
    case = await move(client, h, case, to_stage="travel_booked")
    refused = await move(client, h, case, expect=409, to_stage="in_transit")
    assert refused["guard"] == "pre-embarkation-check-passed"
    case = await move(client, h, case, track="health", to_track_stage="pec_passed")
    # the check holds for departure for 72 hours: one passed 73 hours ago does not, and it is taken again
    engine = create_async_engine(test_db_url)
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE cases SET pec_passed_at = now() - interval '73 hours' WHERE id = :id"), {"id": case["id"]}
        )
    await engine.dispose()
    stale = await move(client, h, case, expect=409, to_stage="in_transit")
    assert stale["guard"] == "pre-embarkation-check-passed"
    case = await move(client, h, case, track="health", to_track_stage="pec_passed")
    case = await move(client, h, case, to_stage="in_transit")
    assert (case["stage"], case["health_track"], case["pdo_track"]) == ("in_transit", "pec_passed", "invited")


async def test_a_case_on_hold_resumes_where_it_was(client: httpx.AsyncClient, token: TokenFor) -> None:
    h = office(token)
    case = await open_case(client, h)
    refused = await move(client, h, case, expect=409, to_stage="on_hold")
    assert refused["guard"] == "hold-reason-given"
    case = await move(client, h, case, to_stage="on_hold", reason="Returns to the region are suspended")
    assert (case["held_from_stage"], case["hold_reason"]) == (
        "pre_departure_counselling",
        "Returns to the region are suspended",
    )
    wrong = await move(client, h, case, expect=409, to_stage="arrived")
    assert wrong["code"] == "illegal-transition"
    case = await move(client, h, case, to_stage="pre_departure_counselling")
    assert (case["stage"], case["held_from_stage"]) == ("pre_departure_counselling", None)


async def test_a_child_is_not_returned_without_a_best_interests_determination(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    h = office(token)
    case = await open_case(client, h, CHILD)
    refused = await move(
        client,
        h,
        case,
        expect=409,
        to_stage="arrived",
        attestations=DEPARTURE,
    )
    assert refused["guard"] == "best-interests-determination-recorded"
    await record(
        client,
        h,
        case,
        {
            "kind": "best_interests_determination",
            "determined_on": "2026-11-20",
            "decision": "return_in_best_interests",
            "child_views_recorded": True,
            "reference": "BID-2026-0042",
        },
    )
    case = await move(
        client,
        h,
        case,
        to_stage="arrived",
        attestations=DEPARTURE,
    )
    assert case["stage"] == "arrived"


async def test_health_rule_sends_the_case_to_not_returned(client: httpx.AsyncClient, token: TokenFor) -> None:
    h = office(token)
    case = await open_case(client, h)
    assert (await move(client, h, case, expect=409, to_stage="not_returned"))["guard"] == (
        "health-not-to-return-decision-recorded"
    )
    await record(
        client,
        h,
        case,
        {
            "kind": "health",
            "summary": "Dialysis three times a week",
            "return_decision": "not_to_return",
            "life_saving_treatment_unavailable_in_origin": True,
        },
    )
    blocked = await move(
        client,
        h,
        case,
        expect=409,
        to_stage="arrived",
        attestations=DEPARTURE,
    )
    assert blocked["guard"] == "no-health-not-to-return-decision"
    case = await move(client, h, case, to_stage="not_returned")
    assert case["stage"] == "not_returned"
    late = await client.post(f"/v1/cases/{case['id']}/assessments", json=NEEDS, headers=h)
    assert (late.status_code, late.json()["code"]) == (409, "case-not-active")


async def test_stage_changes_need_the_current_etag(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    h = office(token)
    case = await open_case(client, h)
    path = f"/v1/cases/{case['id']}/stage-transitions"
    body = {"to_stage": "withdrawn"}
    missing = await client.post(path, json=body, headers=h)
    assert (missing.status_code, missing.json()["code"]) == (428, "if-match-required")
    stale = await client.post(path, json=body, headers={**h, "If-Match": '"7"'})
    assert (stale.status_code, stale.json()["code"], stale.json()["current_version"]) == (412, "version-mismatch", 1)
    illegal = await client.post(path, json={"to_stage": "closed"}, headers={**h, "If-Match": '"1"'})
    assert (illegal.status_code, illegal.json()["code"]) == (409, "illegal-transition")
    assert [t for t, _ in await events_of(test_db_url, case["id"])] == ["casebridge.case.opened.v1"]


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"to_stage": "teleported"}, "#/to_stage"),
        ({"to_stage": "arrived", "attestations": ["trust_me"]}, "#/attestations/0"),
        ({"to_stage": "arrived", "track": "health", "to_track_stage": "cleared"}, "#/"),
        ({"track": "health"}, "#/"),
    ],
)
async def test_a_malformed_transition_is_422(
    client: httpx.AsyncClient, token: TokenFor, body: dict[str, Any], pointer: str
) -> None:
    h = office(token)
    case = await open_case(client, h)
    response = await client.post(
        f"/v1/cases/{case['id']}/stage-transitions", json=body, headers={**h, "If-Match": '"1"'}
    )
    assert response.status_code == 422
    assert pointer in {e["pointer"] for e in response.json()["errors"]}


async def test_another_office_cannot_see_or_move_the_case(client: httpx.AsyncClient, token: TokenFor) -> None:
    case = await open_case(client, office(token))
    erbil = office(token, "iq-erbil-system")
    for response in (
        await client.post(
            f"/v1/cases/{case['id']}/stage-transitions",
            json={"to_stage": "withdrawn"},
            headers={**erbil, "If-Match": '"1"'},
        ),
        await client.post(f"/v1/cases/{case['id']}/assessments", json=NEEDS, headers=erbil),
        await client.get(f"/v1/cases/{case['id']}/assessments", headers=erbil),
        await client.get(f"/v1/cases/{case['id']}/plans", headers=erbil),
    ):
        assert (response.status_code, response.json()["code"]) == (404, "case-not-found")


async def test_assessments_keep_every_version_and_hide_sensitive_findings(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    h = office(token)
    case = await open_case(client, h)
    screening = {
        "kind": "vulnerability_screening",
        "assessment_type": "rapid_vulnerability_assessment",
        "phase": "pre_departure",
        "categories": ["victim_of_trafficking", "health_needs"],
    }
    first = await record(client, h, case, screening)
    second = await record(client, h, case, {**screening, "phase": "on_arrival", "categories": ["health_needs"]})
    assert (first["version"], second["version"], second["is_sensitive"]) == (1, 2, True)
    plain = (await client.get(f"/v1/cases/{case['id']}/assessments?kind=vulnerability_screening", headers=h)).json()
    assert [(a["version"], a["data"]) for a in plain["items"]] == [(2, None), (1, None)]
    sensitive = office(token, scope="cases:read cases.sensitive:read")
    shown = (await client.get(f"/v1/cases/{case['id']}/assessments", headers=sensitive)).json()["items"]
    assert shown[0]["data"]["categories"] == ["health_needs"]
    fetched = (await client.get(f"/v1/cases/{case['id']}", headers=sensitive)).json()
    assert (fetched["vulnerability_categories"], fetched["version"]) == (["health_needs"], 3)
    hidden = (await client.get(f"/v1/cases/{case['id']}", headers=h)).json()
    assert hidden["vulnerability_categories"] is None
    assert {"category": "vulnerability_results", "reason": "missing-scope"} in hidden["withheld"]
    bad = await client.post(
        f"/v1/cases/{case['id']}/assessments", json={**screening, "categories": ["unlucky"]}, headers=h
    )
    assert bad.status_code == 422


async def test_plan_approval_needs_a_supervisor_and_a_needs_assessment(
    client: httpx.AsyncClient, token: TokenFor, oidc_issuer: str
) -> None:
    h = office(token)
    case = await open_case(client, h)
    await client.post(f"/v1/cases/{case['id']}/plans", json=PLAN, headers=h)
    refused = await client.post(f"/v1/cases/{case['id']}/plans/1/approval", headers=h)
    assert (refused.status_code, refused.json()["code"], refused.json()["guard"]) == (
        409,
        "stage-guard-failed",
        "needs-assessment-recorded",
    )
    await record(client, h, case, NEEDS)
    anna = bearer(authorization_code_token(oidc_issuer, "anna.schmidt", resource="urn:casebridge:case-api", scope=RW))
    not_supervisor = await client.post(f"/v1/cases/{case['id']}/plans/1/approval", headers=anna)
    assert (not_supervisor.status_code, not_supervisor.json()["code"]) == (403, "supervisor-role-required")
    jonas = bearer(authorization_code_token(oidc_issuer, "jonas.weber", resource="urn:casebridge:case-api", scope=RW))
    assert (await client.post(f"/v1/cases/{case['id']}/plans/1/approval", headers=jonas)).json()["approved_by"]
    again = await client.post(f"/v1/cases/{case['id']}/plans/1/approval", headers=h)
    assert (again.status_code, again.json()["code"]) == (409, "plan-not-approvable")
    missing = await client.get(f"/v1/cases/{case['id']}/plans/9", headers=h)
    assert (missing.status_code, missing.json()["code"]) == (404, "plan-not-found")


@pytest.mark.parametrize(
    ("content", "pointer"),
    [
        (
            {"grant_lines": [{"description": "Goat", "estimated_cost": -5}], "grant_currency": "XOF"},
            "#/content/grant_lines/0/estimated_cost",
        ),
        ({"grant_currency": "francs"}, "#/content/grant_currency"),
        (
            {"baseline_scores": {"economic": 2, "social": 0.5, "psychosocial": 0.5, "composite": 0.5}},
            "#/content/baseline_scores/economic",
        ),
        ({"items": [{"type": "teleportation"}]}, "#/content/items/0/type"),
        (  # PostgreSQL's JSON has no infinity: refused here rather than failing in the database
            {"grant_lines": [{"description": "Goat", "estimated_cost": "inf"}], "grant_currency": "XOF"},
            "#/content/grant_lines/0/estimated_cost",
        ),
        (
            {"grant_lines": [{"description": "Goat", "estimated_cost": "NaN"}], "grant_currency": "XOF"},
            "#/content/grant_lines/0/estimated_cost",
        ),
    ],
)
async def test_a_malformed_plan_is_422_and_stores_nothing(
    client: httpx.AsyncClient, token: TokenFor, content: dict[str, Any], pointer: str
) -> None:
    h = office(token)
    case = await open_case(client, h)
    response = await client.post(
        f"/v1/cases/{case['id']}/plans",
        json={**PLAN, "content": {**PLAN["content"], **content}},
        headers={**h, "Idempotency-Key": f"plan-{uuid.uuid4()}"},
    )
    assert response.status_code == 422
    assert pointer in {e["pointer"] for e in response.json()["errors"]}
    assert (await client.get(f"/v1/cases/{case['id']}/plans", headers=h)).json()["items"] == []


async def test_cases_filter_by_vulnerability_and_assigned_worker(client: httpx.AsyncClient, token: TokenFor) -> None:
    h = office(token)
    worker = f"worker-{uuid.uuid4().hex[:8]}"
    beneficiary = (await client.post("/v1/beneficiaries", json=ADULT, headers=h)).json()
    mine = (
        await client.post(
            "/v1/cases",
            json={"beneficiary_id": beneficiary["id"], "programme": "return_reintegration", "assigned_worker": worker},
            headers=h,
        )
    ).json()
    other = await open_case(client, h)
    screening = {
        "kind": "vulnerability_screening",
        "assessment_type": "vea_screening",
        "phase": "pre_departure",
        "categories": ["gbv_survivor"],
    }
    await record(client, h, mine, screening)
    await record(client, h, other, {**screening, "categories": ["disability"]})
    by_worker = (await client.get(f"/v1/cases?assigned_worker={worker}", headers=h)).json()["items"]
    assert [c["id"] for c in by_worker] == [mine["id"]]
    sensitive = office(token, scope="cases:read cases.sensitive:read")
    query = f"/v1/cases?assigned_worker={worker}&vulnerability="
    both = (await client.get(query + "gbv_survivor", headers=sensitive)).json()
    assert [c["id"] for c in both["items"]] == [mine["id"]]
    none = (await client.get(query + "disability", headers=sensitive)).json()
    assert none["items"] == []
    # without the scope to see vulnerability results, the filter cannot be used to probe them
    assert (await client.get(query + "gbv_survivor", headers=h)).json()["items"] == []
    unknown = await client.get("/v1/cases?vulnerability=unlucky", headers=h)
    assert (unknown.status_code, unknown.json()["code"]) == (422, "validation-error")


CASH_ITEM = {
    "assistance_type": "income_generating_activity",
    "modality": "cash",
    "amount": "300000",
    "currency": "XOF",
    "provider": "CFP Dakar",
    "tranches": [{"amount": "100000", "due_on": "2027-04-15"}, {"amount": "200000", "due_on": "2027-01-15"}],
}


async def test_assistance_tranches_are_delivered_in_order_and_gate_monitoring(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    h = office(token)
    case = await open_case(client, h)
    created = await client.post(f"/v1/cases/{case['id']}/assistance", json=CASH_ITEM, headers=h)
    assert created.status_code == 201, created.text
    item = created.json()
    assert (item["dimension"], item["status"]) == ("economic", "planned")
    assert [(t["number"], t["due_on"]) for t in item["tranches"]] == [(1, "2027-01-15"), (2, "2027-04-15")]
    path = f"/v1/cases/{case['id']}/assistance/{item['id']}"
    early = await client.post(f"{path}/deliveries", json={"tranche_number": 2, "delivered_on": "2026-11-20"}, headers=h)
    assert (early.status_code, early.json()["code"]) == (409, "tranche-not-deliverable")
    await client.post(f"{path}/deliveries", json={"tranche_number": 1, "delivered_on": "2026-11-20"}, headers=h)
    done = await client.post(f"{path}/deliveries", json={"tranche_number": 2, "delivered_on": "2026-11-25"}, headers=h)
    assert done.json()["status"] == "delivered"
    again = await client.post(f"{path}/deliveries", json={"tranche_number": 2, "delivered_on": "2026-11-26"}, headers=h)
    assert (again.status_code, again.json()["code"]) == (409, "assistance-closed")
    delivered = [
        d for t, d in await events_of(test_db_url, case["id"]) if t == "casebridge.case.assistance_delivered.v1"
    ]
    assert [(d["tranche_number"], d["item_fully_delivered"]) for d in delivered] == [(1, False), (2, True)]
    assert "300000" not in str(delivered)
    service = {
        "assistance_type": "psychosocial_counselling",
        "modality": "service",
        "tranches": [{"amount": "0", "due_on": "2027-02-01"}],
    }
    open_item = (await client.post(f"/v1/cases/{case['id']}/assistance", json=service, headers=h)).json()
    unmet = await client.post(
        f"/v1/cases/{case['id']}/assistance/{open_item['id']}/closure",
        json={"status": "unmet_need", "reason": "No counsellor in the district"},
        headers=h,
    )
    assert unmet.json()["status"] == "unmet_need"
    listed = (await client.get(f"/v1/cases/{case['id']}/assistance", headers=h)).json()["items"]
    assert [i["status"] for i in listed] == ["delivered", "unmet_need"]


async def test_an_open_assistance_item_holds_the_case_in_implementation(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    h = office(token)
    case = await open_case(client, h)
    case = await move(
        client,
        h,
        case,
        to_stage="arrived",
        attestations=DEPARTURE,
    )
    case = await move(client, h, case, to_stage="first_counselling", attestations=["returnee_notified_in_advance"])
    await record(client, h, case, SKILLS)
    await record(client, h, case, NEEDS)
    case = await move(client, h, case, to_stage="planning", attestations=["consent_captured"])
    await client.post(
        f"/v1/cases/{case['id']}/plans", json={**PLAN, "content": {**PLAN["content"], **SIGNED}}, headers=h
    )
    await client.post(f"/v1/cases/{case['id']}/plans/1/approval", headers=h)
    case = await move(client, h, case, to_stage="implementation", attestations=["consent_covers_every_plan_component"])
    item = (await client.post(f"/v1/cases/{case['id']}/assistance", json=CASH_ITEM, headers=h)).json()
    refused = await move(client, h, case, expect=409, to_stage="monitoring")
    assert refused["guard"] == "all-assistance-items-closed"
    await client.post(
        f"/v1/cases/{case['id']}/assistance/{item['id']}/closure",
        json={"status": "cancelled", "reason": "Returnee chose job placement instead"},
        headers=h,
    )
    assert (await move(client, h, case, to_stage="monitoring"))["stage"] == "monitoring"


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"amount": "-1"}, "#/amount"),
        ({"currency": "xof"}, "#/currency"),
        ({"modality": "barter"}, "#/modality"),
        ({"assistance_type": "lottery"}, "#/assistance_type"),
        ({"amount": "5"}, "#/"),
        ({"currency": None}, "#/"),
    ],
)
async def test_malformed_assistance_is_422_and_stores_nothing(
    client: httpx.AsyncClient, token: TokenFor, change: dict[str, Any], pointer: str
) -> None:
    h = office(token)
    case = await open_case(client, h)
    response = await client.post(f"/v1/cases/{case['id']}/assistance", json={**CASH_ITEM, **change}, headers=h)
    assert response.status_code == 422
    assert pointer in {e["pointer"] for e in response.json()["errors"]}
    assert (await client.get(f"/v1/cases/{case['id']}/assistance", headers=h)).json()["items"] == []


async def test_case_notes_page_newest_first_and_hide_confidential_bodies(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    h = office(token)
    case = await open_case(client, h)
    for n in range(3):
        note = await client.post(f"/v1/cases/{case['id']}/notes", json={"body": f"visit {n}"}, headers=h)
        assert note.status_code == 201, note.text
    await client.post(
        f"/v1/cases/{case['id']}/notes", json={"body": "Disclosed abuse", "is_confidential": True}, headers=h
    )
    seen: list[str | None] = []
    url: str | None = f"/v1/cases/{case['id']}/notes?limit=2"
    while url:
        page = (await client.get(url, headers=h)).json()
        seen += [n["body"] for n in page["items"]]
        url = f"/v1/cases/{case['id']}/notes?limit=2&cursor={page['next_cursor']}" if page["next_cursor"] else None
    assert seen == [None, None, None, None]  # case notes are sensitive (C3): bodies need cases.sensitive:read
    sensitive = office(token, scope="cases:read cases.sensitive:read")
    shown = (await client.get(f"/v1/cases/{case['id']}/notes", headers=sensitive)).json()
    assert [n["body"] for n in shown["items"]] == ["Disclosed abuse", "visit 2", "visit 1", "visit 0"]
    assert shown["withheld"] == []
    bad = await client.get(f"/v1/cases/{case['id']}/notes?cursor=garbage", headers=h)
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid-cursor")
    empty = await client.post(f"/v1/cases/{case['id']}/notes", json={"body": ""}, headers=h)
    assert empty.status_code == 422


TOMORROW = (datetime.now(UTC).date() + timedelta(days=2)).isoformat()  # ahead in every time zone


def refused_as_future(response: httpx.Response, pointer: str) -> None:
    assert response.status_code == 422, response.text
    problem = response.json()
    assert (problem["code"], problem["pointer"]) == ("date-in-future", pointer)


async def test_a_delivery_dated_ahead_is_422_and_changes_nothing(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    h = office(token)
    case = await open_case(client, h)
    item = (await client.post(f"/v1/cases/{case['id']}/assistance", json=CASH_ITEM, headers=h)).json()
    ahead = await client.post(
        f"/v1/cases/{case['id']}/assistance/{item['id']}/deliveries",
        json={"tranche_number": 1, "delivered_on": TOMORROW},
        headers=h,
    )
    refused_as_future(ahead, "#/delivered_on")
    listed = (await client.get(f"/v1/cases/{case['id']}/assistance", headers=h)).json()["items"]
    assert [(i["version"], i["tranches"][0]["delivered_on"]) for i in listed] == [(1, None)]
    assert "casebridge.case.assistance_delivered.v1" not in [t for t, _ in await events_of(test_db_url, case["id"])]


async def test_a_plan_signed_or_done_ahead_is_422_and_stores_nothing(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    h = office(token)
    case = await open_case(client, h)
    for content, pointer in (
        (
            {"returnee_signature": {"name": "Awa Ndiaye", "signed_on": TOMORROW}},
            "#/content/returnee_signature/signed_on",
        ),
        (
            {"staff_or_partner_signature": {"name": "Fatou Diop", "signed_on": TOMORROW}},
            "#/content/staff_or_partner_signature/signed_on",
        ),
        ({"done_on": TOMORROW}, "#/content/done_on"),
    ):
        ahead = await client.post(
            f"/v1/cases/{case['id']}/plans", json={**PLAN, "content": {**PLAN["content"], **content}}, headers=h
        )
        refused_as_future(ahead, pointer)
    assert (await client.get(f"/v1/cases/{case['id']}/plans", headers=h)).json()["items"] == []


async def test_a_best_interests_determination_dated_ahead_is_422(client: httpx.AsyncClient, token: TokenFor) -> None:
    h = office(token)
    case = await open_case(client, h, CHILD)
    determination = {
        "kind": "best_interests_determination",
        "determined_on": TOMORROW,
        "decision": "return_in_best_interests",
        "child_views_recorded": True,
        "reference": "BID-2026-FUTURE",
    }
    ahead = await client.post(f"/v1/cases/{case['id']}/assessments", json=determination, headers=h)
    refused_as_future(ahead, "#/determined_on")
    history = await client.get(f"/v1/cases/{case['id']}/assessments", headers=h)
    assert history.json()["items"] == []


async def test_an_exit_interview_dated_ahead_does_not_close_the_case(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    h = office(token)
    case = await open_case(client, h)
    closure = {
        "closure_reason": "support_duration_ended",
        "closure_type": "planned",
        "exit_interview_on": TOMORROW,
        "closing_assessment": "Stable income",
    }
    ahead = await client.post(
        f"/v1/cases/{case['id']}/stage-transitions",
        json={"to_stage": "closed", "closure": closure},
        headers={**h, "If-Match": f'"{case["version"]}"'},
    )
    refused_as_future(ahead, "#/closure/exit_interview_on")
    assert (await client.get(f"/v1/cases/{case['id']}", headers=h)).json()["version"] == case["version"]


@pytest.mark.parametrize(
    "path",
    [
        "/plans/2147483648",
        "/plans/2147483648/diff?against=1",
        "/plans/1/diff?against=99999999999",
        "/plans/0",
        "/plans/2147483648/beneficiary-copy",
    ],
)
async def test_a_plan_version_out_of_range_is_422(client: httpx.AsyncClient, token: TokenFor, path: str) -> None:
    h = office(token)
    case = await open_case(client, h)
    response = await client.get(f"/v1/cases/{case['id']}{path}", headers=h)
    assert (response.status_code, response.json()["code"]) == (422, "validation-error")


async def test_approving_a_plan_version_out_of_range_is_422(client: httpx.AsyncClient, token: TokenFor) -> None:
    h = office(token)
    case = await open_case(client, h)
    response = await client.post(f"/v1/cases/{case['id']}/plans/99999999999/approval", headers=h)
    assert (response.status_code, response.json()["code"]) == (422, "validation-error")


async def test_assistance_changes_honour_if_match_and_replay_an_idempotency_key(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    h = office(token)
    case = await open_case(client, h)
    item = (await client.post(f"/v1/cases/{case['id']}/assistance", json=CASH_ITEM, headers=h)).json()
    path = f"/v1/cases/{case['id']}/assistance/{item['id']}"
    first = {"tranche_number": 1, "delivered_on": "2026-11-20"}
    key = {"Idempotency-Key": f"delivery-{uuid.uuid4()}"}
    delivered = await client.post(f"{path}/deliveries", json=first, headers={**h, **key, "If-Match": '"1"'})
    assert (delivered.status_code, delivered.headers["etag"], delivered.json()["version"]) == (200, '"2"', 2)
    replayed = await client.post(f"{path}/deliveries", json=first, headers={**h, **key, "If-Match": '"1"'})
    assert (replayed.status_code, replayed.headers["idempotent-replayed"]) == (200, "true")
    assert replayed.json() == delivered.json()
    reused = await client.post(f"{path}/deliveries", json={**first, "delivered_on": "2026-11-21"}, headers={**h, **key})
    assert (reused.status_code, reused.json()["code"]) == (422, "idempotency-key-reused")
    # a cancellation made on the version before the delivery does not override it
    stale = await client.post(
        f"{path}/closure", json={"status": "cancelled", "reason": "Moved away"}, headers={**h, "If-Match": '"1"'}
    )
    assert (stale.status_code, stale.json()["code"], stale.json()["current_version"]) == (412, "version-mismatch", 2)
    listed = (await client.get(f"/v1/cases/{case['id']}/assistance", headers=h)).json()["items"]
    assert [(i["status"], i["version"]) for i in listed] == [("planned", 2)]
    delivered_events = [t for t, _ in await events_of(test_db_url, case["id"]) if t.endswith("assistance_delivered.v1")]
    assert len(delivered_events) == 1
    closed = await client.post(
        f"{path}/closure", json={"status": "cancelled", "reason": "Moved away"}, headers={**h, "If-Match": '"2"'}
    )
    assert (closed.status_code, closed.json()["status"], closed.headers["etag"]) == (200, "cancelled", '"3"')


async def pages_of(
    client: httpx.AsyncClient, headers: dict[str, str], path: str, limit: int, **query: str
) -> list[dict[str, Any]]:
    """Every item of a per-case list, following `next_cursor`; each page but the last is full."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = query | {"limit": limit} | ({"cursor": cursor} if cursor else {})
        page = await client.get(path, params=params, headers=headers)
        assert page.status_code == 200, page.text
        body = page.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items
        assert len(body["items"]) == limit


async def test_a_cases_assessments_plans_and_assistance_come_in_pages(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    h = office(token)
    case = await open_case(client, h)
    path = f"/v1/cases/{case['id']}"
    for body in (NEEDS, SKILLS, NEEDS, NEEDS):
        await record(client, h, case, body)
    assessments = await pages_of(client, h, f"{path}/assessments", limit=2)
    assert [(a["kind"], a["version"]) for a in assessments] == [("needs", 3), ("needs", 2), ("needs", 1), ("skills", 1)]
    needs_only = await pages_of(client, h, f"{path}/assessments", limit=1, kind="needs")
    assert [(a["kind"], a["version"]) for a in needs_only] == [("needs", 3), ("needs", 2), ("needs", 1)]
    for _ in range(3):
        assert (await client.post(f"{path}/plans", json=PLAN, headers=h)).status_code == 201
    assert [p["version"] for p in await pages_of(client, h, f"{path}/plans", limit=2)] == [3, 2, 1]
    planned = [(await client.post(f"{path}/assistance", json=CASH_ITEM, headers=h)).json()["id"] for _ in range(3)]
    assert [i["id"] for i in await pages_of(client, h, f"{path}/assistance", limit=2)] == planned
    # a cursor is bound to its list and query, and its position must be one the server could have issued
    first = (await client.get(f"{path}/plans", params={"limit": 1}, headers=h)).json()["next_cursor"]
    for elsewhere in (f"{path}/assistance", f"{path}/assessments", f"/v1/cases/{uuid.uuid4()}/plans"):
        foreign = await client.get(elsewhere, params={"cursor": first}, headers=h)
        assert (foreign.status_code, foreign.json()["code"]) == (400, "invalid-cursor"), elsewhere
    for body in ("First visit at home", "Second visit"):  # notes: the same query fields and position shape
        assert (await client.post(f"{path}/notes", json={"body": body}, headers=h)).status_code == 201
    notes = (await client.get(f"{path}/notes", params={"limit": 1}, headers=h)).json()["next_cursor"]
    foreign = await client.get(f"{path}/assistance", params={"cursor": notes}, headers=h)
    assert (foreign.status_code, foreign.json()["code"]) == (400, "invalid-cursor")
    issued = (await client.get(f"{path}/assessments", params={"limit": 1}, headers=h)).json()["next_cursor"]
    document = json.loads(base64.urlsafe_b64decode(issued + "=" * (-len(issued) % 4)))
    for position in (["teleportation", 1], ["needs", 2**31], ["needs", True], ["needs"]):
        forged = base64.urlsafe_b64encode(json.dumps({"a": position, "q": document["q"]}).encode()).decode()
        refused = await client.get(f"{path}/assessments", params={"cursor": forged}, headers=h)
        assert (refused.status_code, refused.json()["code"]) == (400, "invalid-cursor"), position


async def test_assistance_and_referrals_link_to_the_plan_items_they_serve(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    h = office(token)
    case = await open_case(client, h)
    path = f"/v1/cases/{case['id']}"
    items = [
        {"type": "income_generating_activity", "income_generating_sub_type": "individual_microbusiness"},
        {"type": "medical_support", "medical_target": ["returnee"], "needs_referral": True},
    ]
    referral = {"agency": "Hôpital régional de Thiès", "assistance_to_be_provided": "Follow-up", "item": 1}
    content = PLAN["content"] | {"items": items, "referrals": [referral]}
    drafted = await client.post(f"{path}/plans", json={**PLAN, "content": content}, headers=h)
    assert drafted.status_code == 201, drafted.text
    assert drafted.json()["content"]["referrals"][0]["item"] == 1
    astray = {**content, "referrals": [{**referral, "item": 2}]}
    refused = await client.post(f"{path}/plans", json={**PLAN, "content": astray}, headers=h)
    assert (refused.status_code, refused.json()["code"]) == (422, "validation-error")

    linked = await client.post(
        f"{path}/assistance", json={**CASH_ITEM, "plan_item": {"plan_version": 1, "item": 0}}, headers=h
    )
    assert linked.status_code == 201, linked.text
    assert linked.json()["plan_item"] == {"plan_version": 1, "item": 0}
    for missing in ({"plan_version": 1, "item": 2}, {"plan_version": 2, "item": 0}):
        response = await client.post(f"{path}/assistance", json={**CASH_ITEM, "plan_item": missing}, headers=h)
        assert (response.status_code, response.json()["code"], response.json()["pointer"]) == (
            422,
            "plan-item-not-found",
            "#/plan_item",
        )
    unlinked = (await client.post(f"{path}/assistance", json=CASH_ITEM, headers=h)).json()
    listed = (await client.get(f"{path}/assistance", headers=h)).json()["items"]
    assert [(i["id"], i["plan_item"]) for i in listed] == [
        (linked.json()["id"], {"plan_version": 1, "item": 0}),
        (unlinked["id"], None),
    ]


async def test_a_page_is_audited_with_the_categories_it_returned_not_those_of_the_next_page(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    h = office(token)
    case = await open_case(client, h)
    await record(client, h, case, NEEDS)
    await record(client, h, case, SKILLS)
    page = (await client.get(f"/v1/cases/{case['id']}/assessments", params={"limit": 1}, headers=h)).json()
    assert [a["kind"] for a in page["items"]] == ["needs"]
    assert page["next_cursor"] is not None
    engine = create_async_engine(test_db_url)
    async with engine.connect() as conn:
        listed = (
            await conn.execute(
                select(AuditEntry.categories).where(
                    AuditEntry.case_id == uuid.UUID(case["id"]),
                    AuditEntry.action == "list",
                    AuditEntry.resource_type == "assessment",
                )
            )
        ).scalar_one()
    await engine.dispose()
    assert "skills_employment" not in listed
