"""The pseudonymous monitoring feed over HTTP on real PostgreSQL: every use case that can change a profiled fact
commits a new `case.monitoring_profile` in the outbox, with the personal facts only while M&E consent covers them;
a change of the timeline (arrival, plan approval) only marks the case, and the worker's weekly job publishes it in
the week after, so that the time of publication does not date the return."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from case_people import M_AND_E, PERSON
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import col

from case_service.domain.monitoring import MonitoringProfilePending
from casebridge_common.events.contracts.case import week_start
from casebridge_common.outbox import OutboxMessage
from casebridge_common.testing.plugin import TokenFor, bearer

PublishProfiles = Callable[[datetime], Awaitable[int]]  # the `publish_profiles` fixture: the weekly job at a time

ALL = "cases:read cases:write consents:write"
PROFILE = "casebridge.case.monitoring_profile.v1"
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


async def pending_since(test_db_url: str, case_id: str) -> datetime | None:
    engine = create_async_engine(test_db_url)
    async with engine.connect() as conn:
        since = await conn.scalar(
            select(col(MonitoringProfilePending.since)).where(col(MonitoringProfilePending.case_id) == case_id)
        )
    await engine.dispose()
    return since


def personal(profile: dict[str, Any]) -> tuple[Any, ...]:
    return (profile["sex"], profile["age_group"], profile["country_of_origin"], profile["country_of_return"])


async def test_every_trigger_emits_a_newer_profile_and_withdrawal_nulls_the_personal_facts(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str, publish_profiles: PublishProfiles
) -> None:
    h = bearer(token("de-berlin-system", "case-api", ALL))
    beneficiary = (await client.post("/v1/beneficiaries", json=PERSON, headers=h)).json()
    case = (
        await client.post(
            "/v1/cases", json={"beneficiary_id": beneficiary["id"], "programme": "return_reintegration"}, headers=h
        )
    ).json()
    assert await profiles(test_db_url, case["id"]) == []  # the opening waits for the weekly publication
    assert await pending_since(test_db_url, case["id"]) is not None

    given = await client.post(f"/v1/beneficiaries/{beneficiary['id']}/consents", json=M_AND_E, headers=h)
    assert given.status_code == 201, given.text
    [first] = await profiles(test_db_url, case["id"])  # a consent goes out at once, the opening still pending
    assert [(first["beneficiary_id"], first["owner_organisation_id"])] == [(beneficiary["id"], "iom-germany")]
    assert personal(first) == ("female", "25-34", "SN", "SN")

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
        json={"to_stage": "arrived", "attestations": ["handover_package_received_or_waived", "voluntariness_attested"]},
        headers={**h, "If-Match": f'"{case["version"]}"'},
    )
    assert arrived.status_code == 200, arrived.text
    assert len(await profiles(test_db_url, case["id"])) == untouched  # deferred: its time would be the day of return
    assert await pending_since(test_db_url, case["id"]) is not None
    moved = await client.patch(
        f"/v1/beneficiaries/{beneficiary['id']}", json={"country_of_return": "GM"}, headers={**h, "If-Match": '"3"'}
    )
    assert moved.status_code == 200, moved.text
    meanwhile = (await profiles(test_db_url, case["id"]))[-1]
    assert meanwhile["country_of_return"] == "GM"  # a personal fact goes out at once,
    assert meanwhile["return_quarter"] is None  # with the timeline as published: the arrival is still pending

    await client.post(f"/v1/cases/{case['id']}/assessments", json=NEEDS, headers=h)
    await client.post(f"/v1/cases/{case['id']}/plans", json=PLAN, headers=h)
    approved = await client.post(f"/v1/cases/{case['id']}/plans/1/approval", headers=h)
    assert approved.status_code == 200, approved.text
    assert len(await profiles(test_db_url, case["id"])) == untouched + 1
    next_week = datetime.now(UTC) + timedelta(days=7)
    await publish_profiles(next_week)
    today = datetime.now(UTC).date()
    published = (await profiles(test_db_url, case["id"]))[-1]
    assert (published["return_quarter"], published["days_return_to_plan"]) == (
        f"{today.year}-Q{(today.month - 1) // 3 + 1}",
        0,  # approved on the day of return
    )
    assert datetime.fromisoformat(published["as_of"]) == week_start(next_week)  # the week, not the run time
    assert "returned_on" not in published  # the quarter, never the day
    assert await pending_since(test_db_url, case["id"]) is None

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
    assert len(emitted) == 5  # consent, two beneficiary updates, the weekly publication, withdrawal
    assert versions == sorted(set(versions))  # strictly increasing in commit order


async def arrived_case(client: httpx.AsyncClient, h: dict[str, str]) -> tuple[str, str]:
    """A return case of a consenting beneficiary that has just entered `arrived`: (case id, consent id)."""
    beneficiary = (await client.post("/v1/beneficiaries", json=PERSON, headers=h)).json()
    case = (
        await client.post(
            "/v1/cases", json={"beneficiary_id": beneficiary["id"], "programme": "return_reintegration"}, headers=h
        )
    ).json()
    given = await client.post(f"/v1/beneficiaries/{beneficiary['id']}/consents", json=M_AND_E, headers=h)
    assert given.status_code == 201, given.text
    arrived = await client.post(
        f"/v1/cases/{case['id']}/stage-transitions",
        json={"to_stage": "arrived", "attestations": ["handover_package_received_or_waived", "voluntariness_attested"]},
        headers={**h, "If-Match": f'"{case["version"]}"'},
    )
    assert arrived.status_code == 200, arrived.text
    return case["id"], given.json()["id"]


async def test_a_change_is_published_once_in_the_week_after_not_in_its_own_week(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str, publish_profiles: PublishProfiles
) -> None:
    h = bearer(token("de-berlin-system", "case-api", ALL))
    case_id, _ = await arrived_case(client, h)
    before = len(await profiles(test_db_url, case_id))
    since = await pending_since(test_db_url, case_id)
    assert since is not None

    await publish_profiles(datetime.now(UTC))
    await publish_profiles(week_start(since) + timedelta(days=6, hours=23, minutes=59))  # Sunday, late
    assert len(await profiles(test_db_url, case_id)) == before  # the week of the change is not over
    assert await pending_since(test_db_url, case_id) == since

    monday = week_start(since) + timedelta(days=7, minutes=5)
    await publish_profiles(monday)
    await publish_profiles(monday + timedelta(days=1))
    emitted = await profiles(test_db_url, case_id)
    assert len(emitted) == before + 1  # once: the mark is cleared
    assert emitted[-1]["as_of"] == week_start(monday).isoformat().replace("+00:00", "Z")
    assert emitted[-1]["return_quarter"] is not None
    assert emitted[-1]["profile_version"] > emitted[-2]["profile_version"]


async def test_two_concurrent_publication_runs_publish_a_case_once(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str, publish_profiles: PublishProfiles
) -> None:
    h = bearer(token("de-berlin-system", "case-api", ALL))
    cases = [(await arrived_case(client, h))[0] for _ in range(3)]
    before = {case_id: len(await profiles(test_db_url, case_id)) for case_id in cases}
    next_week = datetime.now(UTC) + timedelta(days=7)
    await asyncio.gather(publish_profiles(next_week), publish_profiles(next_week))
    for case_id in cases:
        assert len(await profiles(test_db_url, case_id)) == before[case_id] + 1
        assert await pending_since(test_db_url, case_id) is None


async def test_a_weekly_batch_goes_out_in_case_id_order_whatever_the_order_of_the_changes(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str, publish_profiles: PublishProfiles
) -> None:
    h = bearer(token("de-berlin-system", "case-api", ALL))
    cases = sorted([(await arrived_case(client, h))[0] for _ in range(3)])
    # the changes happened in the reverse order of the case ids: the batch's order must not follow them
    engine = create_async_engine(test_db_url)
    async with engine.begin() as conn:
        first = datetime.now(UTC) - timedelta(hours=3)
        for hour, case_id in enumerate(reversed(cases)):
            await conn.execute(
                update(MonitoringProfilePending)
                .where(col(MonitoringProfilePending.case_id) == case_id)
                .values(since=first + timedelta(hours=hour))
            )
    await engine.dispose()
    await publish_profiles(datetime.now(UTC) + timedelta(days=7))

    engine = create_async_engine(test_db_url)
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(col(OutboxMessage.key), col(OutboxMessage.event))
                .where(col(OutboxMessage.key).in_(cases))
                .order_by(col(OutboxMessage.seq))
            )
        ).all()
    await engine.dispose()
    weekly = [(row.key, row.event["data"]["profile_version"]) for row in rows if row.event["type"] == PROFILE][-3:]
    assert [key for key, _ in weekly] == cases  # case id order, in the outbox as in the versions
    assert [version for _, version in weekly] == sorted(version for _, version in weekly)


async def test_a_withdrawal_emits_at_once_and_leaves_the_pending_change_to_the_weekly_job(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str, publish_profiles: PublishProfiles
) -> None:
    h = bearer(token("de-berlin-system", "case-api", ALL))
    case_id, consent_id = await arrived_case(client, h)
    before = len(await profiles(test_db_url, case_id))
    withdrawn = await client.post(
        f"/v1/consents/{consent_id}/withdrawal", json={"channel": "staff"}, headers={**h, "If-Match": '"1"'}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    emitted = await profiles(test_db_url, case_id)
    assert len(emitted) == before + 1
    assert personal(emitted[-1]) == (None, None, None, None)
    assert await pending_since(test_db_url, case_id) is not None  # the withdrawal does not clear the mark

    await publish_profiles(datetime.now(UTC) + timedelta(days=7))
    published = (await profiles(test_db_url, case_id))[-1]
    assert (personal(published), published["return_quarter"]) == ((None, None, None, None), None)  # still withdrawn
    assert len(await profiles(test_db_url, case_id)) == before + 2


def return_profile(profile: dict[str, Any]) -> tuple[Any, ...]:
    return (profile["mode_of_return"], profile["host_country"], profile["length_of_absence"], profile["return_quarter"])


async def test_an_immediate_profile_of_a_pending_case_carries_the_return_profile_as_last_published(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str, publish_profiles: PublishProfiles
) -> None:
    h = bearer(token("de-berlin-system", "case-api", ALL))
    beneficiary = (await client.post("/v1/beneficiaries", json=PERSON, headers=h)).json()
    returnee = {"mode_of_return": "avrr_voluntary", "host_country": "DE", "length_of_absence_years": "4.5"}
    body = {"beneficiary_id": beneficiary["id"], "programme": "return_reintegration", **returnee}
    case = (await client.post("/v1/cases", json=body, headers=h)).json()
    await publish_profiles(datetime.now(UTC) + timedelta(days=7))  # its first profile: the return profile published
    arrived = await client.post(
        f"/v1/cases/{case['id']}/stage-transitions",
        json={"to_stage": "arrived", "attestations": ["handover_package_received_or_waived", "voluntariness_attested"]},
        headers={**h, "If-Match": f'"{case["version"]}"'},
    )
    assert arrived.status_code == 200, arrived.text
    change = {"mode_of_return": "spontaneous", "host_country": "FR", "length_of_absence_years": 12}
    patched = await client.patch(
        f"/v1/cases/{case['id']}", json=change, headers={**h, "If-Match": arrived.headers["etag"]}
    )
    assert patched.status_code == 200, patched.text

    given = await client.post(f"/v1/beneficiaries/{beneficiary['id']}/consents", json=M_AND_E, headers=h)
    assert given.status_code == 201, given.text
    meanwhile = (await profiles(test_db_url, case["id"]))[-1]
    assert personal(meanwhile) == ("female", "25-34", "SN", "SN")  # the consent takes effect at once,
    assert return_profile(meanwhile) == ("avrr_voluntary", "DE", "3-5", None)  # on the profile as last published

    await publish_profiles(datetime.now(UTC) + timedelta(days=7))
    today = datetime.now(UTC).date()
    published = (await profiles(test_db_url, case["id"]))[-1]
    assert return_profile(published) == ("spontaneous", "FR", ">10", f"{today.year}-Q{(today.month - 1) // 3 + 1}")
    assert await pending_since(test_db_url, case["id"]) is None

    again = await client.patch(
        f"/v1/cases/{case['id']}", json={"host_country": "IT"}, headers={**h, "If-Match": patched.headers["etag"]}
    )
    assert again.status_code == 200, again.text
    withdrawn = await client.post(
        f"/v1/consents/{given.json()['id']}/withdrawal", json={"channel": "staff"}, headers={**h, "If-Match": '"1"'}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    last = (await profiles(test_db_url, case["id"]))[-1]
    assert (personal(last), return_profile(last), last["days_return_to_plan"]) == (
        (None, None, None, None),
        (None, None, None, None),  # the consent is evaluated at emission time: the published facts are nulled too
        None,
    )
    assert await pending_since(test_db_url, case["id"]) is not None


async def test_erasure_removes_the_pending_mark_and_the_weekly_job_then_publishes_nothing_for_the_case(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str, publish_profiles: PublishProfiles
) -> None:
    h = bearer(token("de-berlin-system", "case-api", ALL))
    beneficiary = (await client.post("/v1/beneficiaries", json=PERSON, headers=h)).json()
    body = {"beneficiary_id": beneficiary["id"], "programme": "return_reintegration", "returned_on": "2026-11-20"}
    case = (await client.post("/v1/cases", json=body, headers=h)).json()
    assert await pending_since(test_db_url, case["id"]) is not None  # the date of return waits for next week
    ended = await client.post(
        f"/v1/cases/{case['id']}/stage-transitions",
        json={"to_stage": "withdrawn"},
        headers={**h, "If-Match": f'"{case["version"]}"'},
    )
    assert ended.status_code == 200, ended.text
    controller = bearer(token("de-berlin-dpo", "case-api", "cases:read cases:write cases:admin audit:read"))
    erasure = {"reason": "Asked in writing after closure", "request_reference": "DSR-2026-0077"}
    erased = await client.post(f"/v1/beneficiaries/{beneficiary['id']}/erasure", json=erasure, headers=controller)
    assert erased.status_code == 201, erased.text
    assert await pending_since(test_db_url, case["id"]) is None
    before = await profiles(test_db_url, case["id"])
    await publish_profiles(datetime.now(UTC) + timedelta(days=7))
    assert await profiles(test_db_url, case["id"]) == before

    engine = create_async_engine(test_db_url)  # a mark that escaped the erasure: the job skips the case too
    async with engine.begin() as conn:
        await conn.execute(
            insert(MonitoringProfilePending).values(case_id=case["id"], since=datetime(2026, 1, 5, tzinfo=UTC))
        )
    await engine.dispose()
    await publish_profiles(datetime.now(UTC) + timedelta(days=7))
    assert await profiles(test_db_url, case["id"]) == before
    assert await pending_since(test_db_url, case["id"]) is None
