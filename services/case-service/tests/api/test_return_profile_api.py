"""The return profile of a case over HTTP on real PostgreSQL: set on opening and by PATCH (If-Match), refused
with 422 and no side effect when invalid or on a resettlement case, `returned_on` recorded on arrival and kept,
withheld from a reader without `migration_history`, and the banded facts in the monitoring feed under M&E
consent, published by the weekly job in the week after the change."""

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import col

from casebridge_common.audit import AuditEntry
from casebridge_common.outbox import OutboxMessage
from casebridge_common.testing.plugin import TokenFor, bearer

ALL = "cases:read cases:write cases.sensitive:read consents:write"
PLAIN = "cases:read cases:write"
IN_TWO_DAYS = (datetime.now(UTC).date() + timedelta(days=2)).isoformat()
PROFILE_EVENT = "casebridge.case.monitoring_profile.v1"
PERSON = {
    "given_name": "Moussa",
    "family_name": "Sow",
    "sex": "male",
    "born_on": "1990-06-01",
    "nationality": "SN",
    "confirm_not_duplicate": True,
}
RETURN_PROFILE = {
    "mode_of_return": "avrr_voluntary",
    "avrr_category": "migrant_worker_end_of_contract",
    "return_intended_duration": "permanent",
    "host_country": "DE",
    "length_of_absence_years": "4.5",
}


def headers(token: TokenFor, client_id: str = "de-berlin-system", scope: str = ALL) -> dict[str, str]:
    return bearer(token(client_id, "case-api", scope))


async def register(client: httpx.AsyncClient, h: dict[str, str]) -> str:
    created = await client.post("/v1/beneficiaries", json=PERSON, headers=h)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def open_case(
    client: httpx.AsyncClient, h: dict[str, str], programme: str = "return_reintegration", **profile: Any
) -> dict[str, Any]:
    body = {"beneficiary_id": await register(client, h), "programme": programme, **profile}
    opened = await client.post("/v1/cases", json=body, headers=h)
    assert opened.status_code == 201, opened.text
    return dict(opened.json())


async def scalar(test_db_url: str, query: Any) -> Any:
    engine = create_async_engine(test_db_url)
    async with engine.connect() as conn:
        value = (await conn.execute(query)).scalar_one()
    await engine.dispose()
    return value


async def events(test_db_url: str, key: str) -> list[dict[str, Any]]:
    engine = create_async_engine(test_db_url)
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(col(OutboxMessage.event)).where(col(OutboxMessage.key) == key).order_by(col(OutboxMessage.seq))
            )
        ).all()
    await engine.dispose()
    return [dict(row.event) for row in rows]


async def profiles(test_db_url: str, case_id: str) -> list[dict[str, Any]]:
    return [e["data"] for e in await events(test_db_url, case_id) if e["type"] == PROFILE_EVENT]


def return_facts(profile: dict[str, Any]) -> tuple[Any, ...]:
    return (profile["mode_of_return"], profile["host_country"], profile["length_of_absence"], profile["return_quarter"])


async def test_a_return_case_opens_with_its_profile_and_a_reader_without_migration_history_sees_it_withheld(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    h = headers(token)
    case = await open_case(client, h, **RETURN_PROFILE, returned_on="2026-11-20")
    assert {f: case[f] for f in RETURN_PROFILE} == RETURN_PROFILE
    assert case["returned_on"] == "2026-11-20"
    full = (await client.get(f"/v1/cases/{case['id']}", headers=h)).json()
    assert {f: full[f] for f in RETURN_PROFILE} == RETURN_PROFILE
    assert full["withheld"] == []

    plain = (await client.get(f"/v1/cases/{case['id']}", headers=headers(token, scope=PLAIN))).json()
    assert [plain[f] for f in [*RETURN_PROFILE, "returned_on"]] == [None] * 6
    assert "migration_history" in [w["category"] for w in plain["withheld"]]
    assert plain["stage"] == "pre_departure_counselling"  # the case's structure is shown

    assert await profiles(test_db_url, case["id"]) == []  # its first profile waits for the weekly publication


async def test_patch_changes_the_profile_under_if_match_and_the_next_week_publishes_the_banded_facts(
    client: httpx.AsyncClient,
    token: TokenFor,
    test_db_url: str,
    publish_profiles: Callable[[datetime], Awaitable[int]],
) -> None:
    h = headers(token)
    case = await open_case(client, h, mode_of_return="spontaneous")
    consent = {
        "given_by": "self",
        "method": "written",
        "notice_version": "notice-2026-01-fr",
        "scopes": [
            {"data_categories": ["migration_history"], "purposes": ["m_and_e"], "organisations": ["iom-germany"]}
        ],
    }
    given = await client.post(f"/v1/beneficiaries/{case['beneficiary_id']}/consents", json=consent, headers=h)
    assert given.status_code == 201, given.text
    # the consent goes out at once, with nothing of the case's return profile: none of it is published yet
    assert return_facts((await profiles(test_db_url, case["id"]))[-1]) == (None, None, None, None)
    url = f"/v1/cases/{case['id']}"
    change = {"mode_of_return": "forced_deported", "host_country": "IT", "length_of_absence_years": 12}

    missing = await client.patch(url, json=change, headers=h)
    assert (missing.status_code, missing.json()["code"]) == (428, "if-match-required")
    stale = await client.patch(url, json=change, headers=h | {"If-Match": '"9"'})
    assert (stale.status_code, stale.json()["code"], stale.json()["current_version"]) == (412, "version-mismatch", 1)

    patched = await client.patch(url, json=change, headers=h | {"If-Match": '"1"'})
    assert patched.status_code == 200, patched.text
    assert patched.headers["ETag"] == '"2"'
    body = patched.json()
    assert (body["mode_of_return"], body["host_country"], body["length_of_absence_years"], body["version"]) == (
        "forced_deported",
        "IT",
        "12.0",
        2,
    )
    emitted = len(await profiles(test_db_url, case["id"]))
    assert emitted == 1  # the consent given: the opening and the change wait for the weekly publication

    unchanged = await client.patch(url, json={"host_country": "IT"}, headers=h | {"If-Match": '"2"'})
    assert (unchanged.status_code, unchanged.json()["version"]) == (200, 2)  # nothing changed: no new version
    other = await client.patch(url, json={"avrr_category": "other"}, headers=h | {"If-Match": '"2"'})
    assert (other.status_code, other.json()["version"]) == (200, 3)
    assert len(await profiles(test_db_url, case["id"])) == emitted  # the AVRR category is not in the feed
    cleared = await client.patch(url, json={"host_country": None}, headers=h | {"If-Match": '"3"'})
    assert (cleared.status_code, cleared.json()["host_country"]) == (200, None)
    dated = await client.patch(url, json={"returned_on": "2026-11-20"}, headers=h | {"If-Match": '"4"'})
    assert (dated.status_code, dated.json()["returned_on"]) == (200, "2026-11-20")
    assert len(await profiles(test_db_url, case["id"])) == emitted
    await publish_profiles(datetime.now(UTC) + timedelta(days=7))
    published = await profiles(test_db_url, case["id"])
    assert len(published) == emitted + 1  # the opening and every change of the week in one profile
    assert return_facts(published[-1]) == ("forced_deported", None, ">10", "2026-Q4")

    updates = select(func.count()).where(
        col(AuditEntry.resource_id) == case["id"],
        col(AuditEntry.action) == "update",
        col(AuditEntry.categories).contains(["migration_history"]),
    )
    assert await scalar(test_db_url, updates) == 4


@pytest.mark.parametrize(
    ("body", "code", "pointer"),
    [
        ({"mode_of_return": "voluntary"}, "validation-error", "#/mode_of_return"),
        ({"avrr_category": "tourist"}, "validation-error", "#/avrr_category"),
        ({"return_intended_duration": "forever"}, "validation-error", "#/return_intended_duration"),
        ({"host_country": "deu"}, "validation-error", "#/host_country"),
        ({"length_of_absence_years": 101}, "validation-error", "#/length_of_absence_years"),
        ({"length_of_absence_years": -0.5}, "validation-error", "#/length_of_absence_years"),
        ({"returned_on": "yesterday"}, "validation-error", "#/returned_on"),
        ({"returned_on": 0}, "validation-error", "#/returned_on"),  # not 1 January 1970
        ({"returned_on": "-86400"}, "validation-error", "#/returned_on"),
        ({"returned_on": IN_TWO_DAYS}, "return-date-in-future", "#/returned_on"),
    ],
)
async def test_invalid_profile_values_are_422_with_no_side_effect(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str, body: dict[str, Any], code: str, pointer: str
) -> None:
    h = headers(token)
    case = await open_case(client, h)
    before = await events(test_db_url, case["id"])

    patched = await client.patch(f"/v1/cases/{case['id']}", json=body, headers=h | {"If-Match": '"1"'})
    assert patched.status_code == 422, patched.text
    assert patched.headers["content-type"] == "application/problem+json"
    problem = patched.json()
    assert problem["code"] == code
    assert pointer in (problem.get("pointer"), *(e.get("pointer") for e in problem.get("errors") or []))
    after = (await client.get(f"/v1/cases/{case['id']}", headers=h)).json()
    assert (after["version"], after["mode_of_return"], after["returned_on"]) == (1, None, None)
    assert await events(test_db_url, case["id"]) == before

    beneficiary = await register(client, h)
    refused = await client.post(
        "/v1/cases", json={"beneficiary_id": beneficiary, "programme": "return_reintegration", **body}, headers=h
    )
    assert (refused.status_code, refused.json()["code"]) == (422, code)
    opened = select(func.count()).where(
        col(OutboxMessage.event)["type"].astext == "casebridge.case.opened.v1",
        col(OutboxMessage.event)["data"]["beneficiary_id"].astext == beneficiary,
    )
    assert await scalar(test_db_url, opened) == 0


async def test_a_resettlement_case_refuses_a_return_profile(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    h = headers(token)
    beneficiary = await register(client, h)
    refused = await client.post(
        "/v1/cases",
        json={"beneficiary_id": beneficiary, "programme": "resettlement_integration", "host_country": "TR"},
        headers=h,
    )
    assert (refused.status_code, refused.json()["code"], refused.json()["programme"]) == (
        422,
        "return-profile-not-applicable",
        "resettlement_integration",
    )
    case = await open_case(client, h, programme="resettlement_integration")
    patched = await client.patch(
        f"/v1/cases/{case['id']}", json={"mode_of_return": "spontaneous"}, headers=h | {"If-Match": '"1"'}
    )
    assert (patched.status_code, patched.json()["code"]) == (422, "return-profile-not-applicable")
    assert (await client.get(f"/v1/cases/{case['id']}", headers=h)).json()["version"] == 1
    # the date of arrival, which entering `arrived` records for a resettlement case too, can be corrected
    corrected = await client.patch(
        f"/v1/cases/{case['id']}", json={"returned_on": "2026-11-02"}, headers=h | {"If-Match": '"1"'}
    )
    assert corrected.status_code == 200, corrected.text
    assert (corrected.json()["returned_on"], corrected.json()["version"]) == ("2026-11-02", 2)


async def test_arrival_records_the_date_of_return_once_and_later_stages_keep_it(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    h = headers(token)
    case = await open_case(client, h)
    today = datetime.now(UTC).date().isoformat()
    arrived = await client.post(
        f"/v1/cases/{case['id']}/stage-transitions",
        json={"to_stage": "arrived", "attestations": ["handover_package_received_or_waived", "voluntariness_attested"]},
        headers=h | {"If-Match": '"1"'},
    )
    assert arrived.status_code == 200, arrived.text
    moved = await client.post(
        f"/v1/cases/{case['id']}/stage-transitions",
        json={"to_stage": "first_counselling", "attestations": ["returnee_notified_in_advance"]},
        headers=h | {"If-Match": f'"{arrived.json()["version"]}"'},
    )
    assert moved.status_code == 200, moved.text
    later = (await client.get(f"/v1/cases/{case['id']}", headers=h)).json()
    assert (later["stage"], later["returned_on"]) == ("first_counselling", today)
    assert await profiles(test_db_url, case["id"]) == []  # opened and arrived: for the weekly publication

    recorded = await open_case(client, h, returned_on="2026-10-01")
    arrived = await client.post(
        f"/v1/cases/{recorded['id']}/stage-transitions",
        json={"to_stage": "arrived", "attestations": ["handover_package_received_or_waived", "voluntariness_attested"]},
        headers=h | {"If-Match": '"1"'},
    )
    assert arrived.status_code == 200, arrived.text
    assert (await client.get(f"/v1/cases/{recorded['id']}", headers=h)).json()["returned_on"] == "2026-10-01"


@pytest.mark.parametrize("mode_of_return", ["forced_deported", "spontaneous"])
async def test_a_forced_or_spontaneous_return_opens_on_arrival_with_its_date_of_return(
    client: httpx.AsyncClient, token: TokenFor, mode_of_return: str
) -> None:
    h = headers(token)
    today = datetime.now(UTC).date().isoformat()
    case = await open_case(client, h, mode_of_return=mode_of_return, host_country="DE")
    assert (case["stage"], case["returned_on"], case["version"]) == ("arrived", today, 1)
    given = await open_case(client, h, mode_of_return=mode_of_return, returned_on="2026-10-01")
    assert (given["stage"], given["returned_on"]) == ("arrived", "2026-10-01")
    stored = (await client.get(f"/v1/cases/{case['id']}", headers=h)).json()
    assert (stored["stage"], stored["returned_on"]) == ("arrived", today)
    moved = await client.post(
        f"/v1/cases/{case['id']}/stage-transitions",
        json={"to_stage": "first_counselling", "attestations": ["returnee_notified_in_advance"]},
        headers=h | {"If-Match": '"1"'},
    )
    assert moved.status_code == 200, moved.text


async def test_a_voluntary_return_departs_only_once_its_voluntariness_is_attested(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    h = headers(token)
    case = await open_case(client, h, **RETURN_PROFILE)
    assert case["stage"] == "pre_departure_counselling"
    refused = await client.post(
        f"/v1/cases/{case['id']}/stage-transitions",
        json={"to_stage": "arrived", "attestations": ["handover_package_received_or_waived"]},
        headers=h | {"If-Match": '"1"'},
    )
    assert (refused.status_code, refused.json()["guard"]) == (409, "voluntariness-attested")
    assert (await client.get(f"/v1/cases/{case['id']}", headers=h)).json()["stage"] == "pre_departure_counselling"


async def test_an_edit_share_writes_the_profile_only_under_consent_to_migration_history(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    owner = headers(token)
    case = await open_case(client, owner)
    consent = {
        "given_by": "self",
        "method": "written",
        "notice_version": "notice-2026-01-fr",
        "scopes": [{"data_categories": ["case_notes"], "purposes": ["case_management"], "offices": ["sn-dakar"]}],
    }
    given = await client.post(f"/v1/beneficiaries/{case['beneficiary_id']}/consents", json=consent, headers=owner)
    assert given.status_code == 201, given.text
    shared = await client.post(
        f"/v1/cases/{case['id']}/shares", json={"office_id": "sn-dakar", "mode": "edit"}, headers=owner
    )
    assert shared.status_code == 201, shared.text
    dakar = headers(token, "sn-dakar-system")
    url = f"/v1/cases/{case['id']}"
    refused = await client.patch(url, json={"mode_of_return": "spontaneous"}, headers=dakar | {"If-Match": '"1"'})
    assert (refused.status_code, refused.json()["reason"], refused.json()["category"]) == (
        403,
        "consent-does-not-cover",
        "migration_history",
    )
    both = {"assigned_worker": f"w-{uuid.uuid4().hex[:8]}", "host_country": "DE"}
    assert (await client.patch(url, json=both, headers=dakar | {"If-Match": '"1"'})).status_code == 403
    worker = await client.patch(
        url, json={"assigned_worker": both["assigned_worker"]}, headers=dakar | {"If-Match": '"1"'}
    )
    assert worker.status_code == 200, worker.text
    seen = worker.json()
    assert seen["host_country"] is None
    assert "migration_history" in [w["category"] for w in seen["withheld"]]
