"""The pseudonymous monitoring feed over HTTP on real PostgreSQL: every use case that can change a profiled fact
commits a new `case.monitoring_profile` in the outbox, with the personal facts only while M&E consent covers them."""

from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import col

from casebridge_common.outbox import OutboxMessage
from casebridge_common.testing.plugin import TokenFor, bearer

ALL = "cases:read cases:write consents:write"
PROFILE = "casebridge.case.monitoring_profile.v1"
PERSON = {
    "given_name": "Awa",
    "family_name": "Ndiaye",
    "sex": "female",
    "born_on": "1994-03-17",
    "nationality": "SN",
    "country_of_origin": "SN",
    "country_of_return": "SN",
    "confirm_not_duplicate": True,
}
M_AND_E = {
    "given_by": "self",
    "method": "written",
    "notice_version": "notice-2026-01-fr",
    "scopes": [
        {
            "data_categories": ["identity_biodata", "migration_history"],
            "purposes": ["m_and_e"],
            "organisations": ["iom-germany"],
        }
    ],
}
NEEDS = {"kind": "needs", "economic": "No income since return", "psychosocial": "Isolated from peers"}
PLAN = {"drafted_in": "origin", "content": {"place_of_return": "Thiès", "summary_economic": "Tailoring"}}


async def profiles(test_db_url: str, case_id: str) -> list[dict[str, Any]]:
    engine = create_async_engine(test_db_url)
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(col(OutboxMessage.event))
                .where(col(OutboxMessage.key) == case_id)
                .order_by(col(OutboxMessage.seq))
            )
        ).all()
    await engine.dispose()
    return [dict(row.event["data"]) for row in rows if row.event["type"] == PROFILE]


def personal(profile: dict[str, Any]) -> tuple[Any, ...]:
    return (profile["sex"], profile["age_group"], profile["country_of_origin"], profile["country_of_return"])


async def test_every_trigger_emits_a_newer_profile_and_withdrawal_nulls_the_personal_facts(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    h = bearer(token("de-berlin-system", "case-api", ALL))
    beneficiary = (await client.post("/v1/beneficiaries", json=PERSON, headers=h)).json()
    case = (
        await client.post(
            "/v1/cases", json={"beneficiary_id": beneficiary["id"], "programme": "return_reintegration"}, headers=h
        )
    ).json()
    opened = await profiles(test_db_url, case["id"])
    assert [(p["beneficiary_id"], p["owner_organisation_id"]) for p in opened] == [(beneficiary["id"], "iom-germany")]
    assert personal(opened[0]) == (None, None, None, None)  # no consent yet

    given = await client.post(f"/v1/beneficiaries/{beneficiary['id']}/consents", json=M_AND_E, headers=h)
    assert given.status_code == 201, given.text
    assert personal((await profiles(test_db_url, case["id"]))[-1]) == ("female", "25-34", "SN", "SN")

    patched = await client.patch(
        f"/v1/beneficiaries/{beneficiary['id']}", json={"country_of_origin": "GM"}, headers={**h, "If-Match": '"1"'}
    )
    assert patched.status_code == 200, patched.text
    assert (await profiles(test_db_url, case["id"]))[-1]["country_of_origin"] == "GM"
    untouched = len(await profiles(test_db_url, case["id"]))
    await client.patch(
        f"/v1/beneficiaries/{beneficiary['id']}", json={"current_location": "Thiès"}, headers={**h, "If-Match": '"2"'}
    )
    assert len(await profiles(test_db_url, case["id"])) == untouched  # not a profiled fact

    arrived = await client.post(
        f"/v1/cases/{case['id']}/stage-transitions",
        json={"to_stage": "arrived", "attestations": ["handover_package_received_or_waived"]},
        headers={**h, "If-Match": f'"{case["version"]}"'},
    )
    assert arrived.status_code == 200, arrived.text
    today = datetime.now(UTC).date()
    arrival = (await profiles(test_db_url, case["id"]))[-1]
    assert (arrival["return_quarter"], arrival["days_return_to_plan"]) == (
        f"{today.year}-Q{(today.month - 1) // 3 + 1}",
        None,
    )
    assert "returned_on" not in arrival  # the quarter, never the day

    await client.post(f"/v1/cases/{case['id']}/assessments", json=NEEDS, headers=h)
    await client.post(f"/v1/cases/{case['id']}/plans", json=PLAN, headers=h)
    approved = await client.post(f"/v1/cases/{case['id']}/plans/1/approval", headers=h)
    assert approved.status_code == 200, approved.text
    assert (await profiles(test_db_url, case["id"]))[-1]["days_return_to_plan"] == 0  # approved on the day of return

    withdrawn = await client.post(
        f"/v1/consents/{given.json()['id']}/withdrawal", json={"channel": "staff"}, headers={**h, "If-Match": '"1"'}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    emitted = await profiles(test_db_url, case["id"])
    last = emitted[-1]
    assert personal(last) == (None, None, None, None)
    assert (last["return_quarter"], last["days_return_to_plan"]) == (None, None)  # migration history too
    assert last["programme"] == "return_reintegration"  # the case's own facts need no consent
    versions = [p["profile_version"] for p in emitted]
    assert len(emitted) == 6
    assert versions == sorted(set(versions))  # strictly increasing in commit order
