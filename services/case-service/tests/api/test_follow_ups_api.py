"""Follow-up visits over HTTP: real tokens, real PostgreSQL; schedules, extra visits, outcomes, the list filter."""

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import col

from case_service.domain.follow_ups import FollowUpVisit
from case_service.domain.models import Case
from case_service.domain.stages import Stage
from casebridge_common.testing.plugin import TokenFor, bearer

SCOPES = "cases:read cases:write cases.sensitive:read"


def a_returnee() -> dict[str, str]:
    """A different person each time, so duplicate detection on registration has nothing to match."""
    n = uuid.uuid4().int % 10_000
    born = date(1960, 1, 1) + timedelta(days=n)
    return {
        "given_name": f"Awa{uuid.uuid4().hex[:10]}",
        "family_name": f"Ndiaye{n}",
        "sex": "female",
        "born_on": born.isoformat(),
        "nationality": "SN",
    }


TODAY = datetime.now(UTC).date()


def office(token: TokenFor, client_id: str = "de-berlin-system", scopes: str = SCOPES) -> dict[str, str]:
    return bearer(token(client_id, "case-api", scopes))


async def open_case(
    client: httpx.AsyncClient, headers: dict[str, str], programme: str = "return_reintegration"
) -> dict[str, Any]:
    beneficiary = await client.post("/v1/beneficiaries", json=a_returnee(), headers=headers)
    assert beneficiary.status_code == 201, beneficiary.text
    case = await client.post(
        "/v1/cases", json={"beneficiary_id": beneficiary.json()["id"], "programme": programme}, headers=headers
    )
    assert case.status_code == 201, case.text
    return dict(case.json())


async def set_stage(db_url: str, case_id: str, stage: Stage) -> None:
    """Where the case's earlier stages would have brought it (the lifecycle API's own tests walk them)."""
    engine = create_async_engine(db_url)
    async with engine.begin() as conn:
        await conn.execute(update(Case).where(col(Case.id) == uuid.UUID(case_id)).values(stage=stage))
    await engine.dispose()


async def mark_overdue(db_url: str, visit_id: str) -> None:
    """As the overdue job would have (tests/integration/test_follow_up_job.py runs the job itself)."""
    engine = create_async_engine(db_url)
    async with engine.begin() as conn:
        await conn.execute(
            update(FollowUpVisit)
            .where(col(FollowUpVisit.id) == uuid.UUID(visit_id))
            .values(overdue_at=datetime.now(UTC), planned_on=TODAY - timedelta(days=10))
        )
    await engine.dispose()


async def visits_of(db_url: str, case_id: str) -> int:
    engine = create_async_engine(db_url)
    async with engine.connect() as conn:
        query = select(func.count()).select_from(FollowUpVisit).where(col(FollowUpVisit.case_id) == uuid.UUID(case_id))
        result = int(await conn.scalar(query) or 0)
    await engine.dispose()
    return result


async def implementing_case(client: httpx.AsyncClient, token: TokenFor, db_url: str) -> dict[str, Any]:
    case = await open_case(client, office(token))
    await set_stage(db_url, case["id"], Stage.IMPLEMENTATION)
    return case


async def test_a_resettlement_case_entering_follow_up_gets_its_schedule_and_a_screening_recomputes_it(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    case = await open_case(client, office(token), "resettlement_integration")
    await set_stage(test_db_url, case["id"], Stage.INTEGRATION_SUPPORT)
    moved = await client.post(
        f"/v1/cases/{case['id']}/stage-transitions",
        json={"to_stage": "follow_up"},
        headers={**office(token), "If-Match": f'"{case["version"]}"'},
    )
    assert moved.status_code == 200, moved.text
    listed = await client.get(f"/v1/cases/{case['id']}/follow-ups", headers=office(token))
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert [v["schedule"] for v in items] == ["resettlement"] * 5
    assert items[0]["planned_on"] > TODAY.isoformat()
    assert {v["status"] for v in items} == {"planned"}

    screening = {
        "kind": "vulnerability_screening",
        "assessment_type": "full_screening",
        "phase": "re_assessment",
        "categories": ["pregnant"],
    }
    recorded = await client.post(f"/v1/cases/{case['id']}/assessments", json=screening, headers=office(token))
    assert recorded.status_code == 201, recorded.text
    planned = await client.get(f"/v1/cases/{case['id']}/follow-ups?status=planned", headers=office(token))
    assert {v["schedule"] for v in planned.json()["items"]} == {"resettlement_vulnerable"}
    assert len(planned.json()["items"]) == 10
    cancelled = await client.get(f"/v1/cases/{case['id']}/follow-ups?status=cancelled", headers=office(token))
    assert len(cancelled.json()["items"]) == 5  # the upcoming visits of the old schedule


async def test_the_explicit_schedule_is_generated_once_and_refused_before_follow_up(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    early = await open_case(client, office(token))
    refused = await client.post(f"/v1/cases/{early['id']}/follow-up-schedule", headers=office(token))
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "follow-up-not-started"

    case = await implementing_case(client, token, test_db_url)
    first = await client.post(f"/v1/cases/{case['id']}/follow-up-schedule", headers=office(token))
    assert first.status_code == 200, first.text
    assert (first.json()["schedule"], len(first.json()["items"]), first.json()["cancelled"]) == ("standard", 6, [])
    again = await client.post(f"/v1/cases/{case['id']}/follow-up-schedule", headers=office(token))
    assert [v["id"] for v in again.json()["items"]] == [v["id"] for v in first.json()["items"]]
    assert await visits_of(test_db_url, case["id"]) == 6


async def test_an_extra_visit_is_idempotent_and_its_outcome_needs_if_match_and_is_recorded_once(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    case = await implementing_case(client, token, test_db_url)
    body = {"planned_on": TODAY.isoformat(), "kind": "office"}
    headers = {**office(token), "Idempotency-Key": f"visit-{uuid.uuid4()}"}
    created = await client.post(f"/v1/cases/{case['id']}/follow-ups", json=body, headers=headers)
    assert created.status_code == 201, created.text
    replayed = await client.post(f"/v1/cases/{case['id']}/follow-ups", json=body, headers=headers)
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json()["id"] == created.json()["id"]
    assert await visits_of(test_db_url, case["id"]) == 1
    visit = created.json()
    assert (visit["schedule"], visit["status"], created.headers["ETag"]) == ("extra", "planned", '"1"')

    url = f"/v1/cases/{case['id']}/follow-ups/{visit['id']}/outcome"
    outcome = {
        "status": "completed",
        "held_on": TODAY.isoformat(),
        "outcome": "plan_needs_review",
        "notes": "Shop closed since the flood.",
        "psychosocial_notes": "Sleeps badly; referred to counselling.",
    }
    assert (await client.post(url, json=outcome, headers=office(token))).status_code == 428
    stale = await client.post(url, json=outcome, headers={**office(token), "If-Match": '"7"'})
    assert (stale.status_code, stale.json()["current_version"]) == (412, 1)
    done = await client.post(url, json=outcome, headers={**office(token), "If-Match": '"1"'})
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["notes"], done.headers["ETag"]) == (
        "completed",
        "Shop closed since the flood.",
        '"2"',
    )
    assert done.json()["psychosocial_notes"] == "Sleeps badly; referred to counselling."
    twice = await client.post(url, json=outcome, headers={**office(token), "If-Match": '"2"'})
    assert (twice.status_code, twice.json()["code"]) == (409, "follow-up-visit-closed")

    reader = office(token, "de-berlin-reader", "cases:read")
    [seen] = (await client.get(f"/v1/cases/{case['id']}/follow-ups", headers=reader)).json()["items"]
    assert (seen["status"], seen["notes"], seen["psychosocial_notes"], seen["outcome"]) == (
        "completed",
        None,
        None,
        None,
    )
    assert {w["category"] for w in seen["withheld"]} == {"case_notes", "psychosocial_notes"}


async def test_bad_input_is_a_problem_and_changes_nothing(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    case = await implementing_case(client, token, test_db_url)
    base = f"/v1/cases/{case['id']}/follow-ups"
    past = await client.post(
        base, json={"planned_on": (TODAY - timedelta(days=1)).isoformat(), "kind": "phone"}, headers=office(token)
    )
    assert (past.status_code, past.json()["code"]) == (422, "follow-up-date-invalid")
    unknown = await client.post(base, json={"planned_on": TODAY.isoformat(), "kind": "drone"}, headers=office(token))
    assert (unknown.status_code, unknown.json()["code"]) == (422, "validation-error")
    extra = await client.post(
        base, json={"planned_on": TODAY.isoformat(), "kind": "phone", "x": 1}, headers=office(token)
    )
    assert extra.status_code == 422
    assert await visits_of(test_db_url, case["id"]) == 0
    cursor = await client.get(f"{base}?cursor=not-a-cursor", headers=office(token))
    assert (cursor.status_code, cursor.json()["code"]) == (400, "invalid-cursor")
    missing = await client.post(
        f"{base}/{uuid.uuid4()}/outcome",
        json={"status": "missed", "outcome": "not_reached"},
        headers={**office(token), "If-Match": '"1"'},
    )
    assert (missing.status_code, missing.json()["code"]) == (404, "follow-up-visit-not-found")
    mismatched = await client.post(
        f"{base}/{uuid.uuid4()}/outcome",
        json={"status": "missed", "held_on": TODAY.isoformat(), "outcome": "not_reached"},
        headers={**office(token), "If-Match": '"1"'},
    )
    assert (mismatched.status_code, mismatched.json()["code"]) == (422, "validation-error")


async def test_another_office_gets_404_for_the_follow_ups_of_a_german_case(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    case = await implementing_case(client, token, test_db_url)
    erbil = office(token, "iq-erbil-system")
    for response in (
        await client.get(f"/v1/cases/{case['id']}/follow-ups", headers=erbil),
        await client.post(
            f"/v1/cases/{case['id']}/follow-ups", json={"planned_on": TODAY.isoformat(), "kind": "phone"}, headers=erbil
        ),
        await client.post(f"/v1/cases/{case['id']}/follow-up-schedule", headers=erbil),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "case-not-found"
    assert await visits_of(test_db_url, case["id"]) == 0


async def test_the_case_list_filters_on_overdue_follow_ups_in_exact_pages(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    headers = office(token, "sn-dakar-system")
    overdue: list[str] = []
    for _ in range(3):
        case = await open_case(client, headers)
        await set_stage(test_db_url, case["id"], Stage.IMPLEMENTATION)
        schedule = await client.post(f"/v1/cases/{case['id']}/follow-up-schedule", headers=headers)
        overdue.append(case["id"])
        await mark_overdue(test_db_url, schedule.json()["items"][0]["id"])
    on_time = await open_case(client, headers)
    await set_stage(test_db_url, on_time["id"], Stage.IMPLEMENTATION)
    assert (await client.post(f"/v1/cases/{on_time['id']}/follow-up-schedule", headers=headers)).status_code == 200

    seen: list[str] = []
    url = "/v1/cases?overdue_follow_ups=true&limit=2"
    while url:
        page = await client.get(url, headers=headers)
        assert page.status_code == 200, page.text
        seen += [c["id"] for c in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        url = f"/v1/cases?overdue_follow_ups=true&limit=2&cursor={cursor}" if cursor else ""
    mine = [c for c in seen if c in overdue]
    assert sorted(mine) == sorted(overdue)
    assert len(seen) == len(set(seen))
    assert on_time["id"] not in seen
    first = await client.get("/v1/cases?overdue_follow_ups=true&limit=1", headers=headers)
    other_query = await client.get(f"/v1/cases?limit=1&cursor={first.json()['next_cursor']}", headers=headers)
    assert (other_query.status_code, other_query.json()["code"]) == (400, "invalid-cursor")
