"""Beneficiary details, duplicate detection, households and case updates over HTTP, on real PostgreSQL."""

import secrets
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import col

from casebridge_common.audit import AuditEntry
from casebridge_common.outbox import OutboxMessage
from casebridge_common.testing.plugin import TokenFor, bearer

RW = "cases:read cases:write"
WITH_CONSENT = "cases:read cases:write consents:write"
TODAY = datetime.now(UTC).date()


def office(token: TokenFor, client_id: str = "de-berlin-system", scope: str = RW) -> dict[str, str]:
    return bearer(token(client_id, "case-api", scope))


def person(born_on: date | None = None, **extra: object) -> dict[str, Any]:
    """A different person each time (name and date of birth), so other tests' people never match: the whole
    32-digit tag keeps the name similarity of two such people far below the threshold (with 8 digits about one
    pair in 3,000 reached it, and a test met a "possible duplicate" of another test's person)."""
    tag = uuid.uuid4().hex
    born = born_on or date(1960, 1, 1) + timedelta(days=secrets.randbelow(15_000))
    return {
        "given_name": f"Mariama {tag}",
        "family_name": "Diallo",
        "sex": "female",
        "born_on": born.isoformat(),
        "nationality": "GN",
        **extra,
    }


async def register(client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/v1/beneficiaries", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def events_of(test_db_url: str, key: str) -> list[dict[str, Any]]:
    engine = create_async_engine(test_db_url)
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(col(OutboxMessage.event)).where(col(OutboxMessage.key) == key).order_by(col(OutboxMessage.seq))
            )
        ).all()
    await engine.dispose()
    return [dict(r[0]) for r in rows]


async def audit_actions(test_db_url: str, resource_id: str) -> list[tuple[str, str]]:
    engine = create_async_engine(test_db_url)
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(col(AuditEntry.action), col(AuditEntry.outcome)).where(
                    col(AuditEntry.resource_id) == resource_id
                )
            )
        ).all()
    await engine.dispose()
    return [(str(a), str(o)) for a, o in rows]


DETAILS: dict[str, Any] = {
    "names": [{"script": "Arab", "given_name": "مريما", "family_name": "ديالو", "transliteration_of": None}],
    "languages": ["ff", "fr"],
    "contacts": [
        {
            "kind": "phone",
            "value": "+224 620 00 00 01",
            "holder": "self",
            "holder_name": None,
            "relationship": None,
            "consented_by_subject": False,
            "most_trusted": False,
        },
        {
            "kind": "phone",
            "value": "+224 620 00 00 02",
            "holder": "family_member",
            "holder_name": "Kadiatou Diallo",
            "relationship": "sister",
            "consented_by_subject": True,
            "most_trusted": True,
        },
    ],
    "documents": [
        {
            "document_type": "passport",
            "number": "R1234567",
            "issuing_country": "GN",
            "issued_on": "2020-02-01",
            "expires_on": "2030-01-31",
        }
    ],
    "country_of_origin": "GN",
    "country_of_return": "GN",
    "current_location": "Berlin-Spandau reception centre",
}


async def test_a_beneficiary_is_registered_with_names_in_scripts_contacts_and_documents(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    created = await register(client, office(token), person(**DETAILS))
    url = f"/v1/beneficiaries/{created['id']}"
    fetched = await client.get(url, headers=bearer(token("de-berlin-system", "case-api", f"{RW} cases.sensitive:read")))
    assert fetched.status_code == 200, fetched.text
    body = fetched.json()
    assert {field: body[field] for field in DETAILS} == DETAILS
    assert body["withheld"] == []
    # where the person returns to is migration history (C3): without the sensitive scope it is withheld
    plain = (await client.get(url, headers=office(token))).json()
    assert plain["country_of_return"] is None
    assert plain["contacts"] == DETAILS["contacts"]
    assert [w["category"] for w in plain["withheld"]] == ["migration_history"]
    [registered] = await events_of(test_db_url, created["id"])
    assert registered["type"] == "casebridge.beneficiary.registered.v1"
    assert "R1234567" not in str(registered)
    assert "Diallo" not in str(registered)
    assert ("create", "allowed") in await audit_actions(test_db_url, created["id"])


async def test_another_office_sees_the_details_only_through_a_case_and_never_by_id(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    created = await register(client, office(token), person(**DETAILS))
    response = await client.get(f"/v1/beneficiaries/{created['id']}", headers=office(token, "sn-dakar-system"))
    assert (response.status_code, response.json()["code"]) == (404, "beneficiary-not-found")


async def test_a_likely_twin_is_refused_with_the_matches_and_nothing_is_written(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    first_body = person()
    first = await register(client, office(token), first_body)
    given = first_body["given_name"].split()
    twin = {**first_body, "given_name": f"DIALLO {given[1]}", "family_name": "Mariáma"}
    refused = await client.post("/v1/beneficiaries", json=twin, headers=office(token))
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["code"] == "possible-duplicate"
    assert problem["matches"] == [{"beneficiary_id": first["id"], "score": 1.0}]
    confirmed = await register(client, office(token), {**twin, "confirm_not_duplicate": True})
    assert confirmed["id"] != first["id"]


async def test_a_different_birthday_nationality_or_office_is_not_a_duplicate(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    body = person(born_on=date(1971, 4, 4))
    await register(client, office(token), body)
    await register(client, office(token), {**body, "born_on": "1971-04-05"})
    await register(client, office(token), {**body, "nationality": "SN"})
    await register(client, office(token, "sn-dakar-system"), body)  # matches stay within the caller's office


async def test_an_estimated_birth_date_matches_within_a_year(client: httpx.AsyncClient, token: TokenFor) -> None:
    body = person(born_on=date(1980, 1, 1), born_on_is_estimated=True)
    first = await register(client, office(token), body)
    near = {**body, "born_on": "1980-11-20", "born_on_is_estimated": False}
    refused = await client.post("/v1/beneficiaries", json=near, headers=office(token))
    assert (refused.status_code, refused.json()["code"]) == (409, "possible-duplicate")
    assert [m["beneficiary_id"] for m in refused.json()["matches"]] == [first["id"]]
    await register(client, office(token), {**body, "born_on": "1981-06-01", "born_on_is_estimated": False})


async def test_an_idempotent_retry_replays_the_registration_instead_of_reporting_a_twin(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    headers = {**office(token), "Idempotency-Key": f"people-{uuid.uuid4()}"}
    body = person()
    first = await client.post("/v1/beneficiaries", json=body, headers=headers)
    again = await client.post("/v1/beneficiaries", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()


async def test_bad_details_are_refused_as_problems(client: httpx.AsyncClient, token: TokenFor) -> None:
    bad: list[dict[str, Any]] = [
        {"languages": ["French"]},
        {"names": [{"script": "Arab", "given_name": "", "family_name": "x"}]},
        {"contacts": [{"kind": "email", "value": "not-an-email"}]},
        {"documents": [{"document_type": "visa_sticker", "number": "1", "issuing_country": "GN"}]},
        {"country_of_origin": "Guinea"},
        {"confirm_not_duplicate": "perhaps"},
    ]
    for extra in bad:
        response = await client.post("/v1/beneficiaries", json=person(**extra), headers=office(token))
        assert response.status_code == 422, (extra, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_updating_a_beneficiary_needs_the_current_version_and_emits_the_changed_field_names(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    created = await register(client, office(token), person())
    url = f"/v1/beneficiaries/{created['id']}"
    change = {"current_location": "Conakry, Ratoma", "languages": ["ff"]}
    missing = await client.patch(url, json=change, headers=office(token))
    assert (missing.status_code, missing.json()["code"]) == (428, "if-match-required")
    stale = await client.patch(url, json=change, headers={**office(token), "If-Match": '"7"'})
    assert (stale.status_code, stale.json()["current_version"]) == (412, 1)
    updated = await client.patch(url, json=change, headers={**office(token), "If-Match": '"1"'})
    assert updated.status_code == 200, updated.text
    assert updated.headers["etag"] == '"2"'
    assert (updated.json()["current_location"], updated.json()["languages"], updated.json()["version"]) == (
        "Conakry, Ratoma",
        ["ff"],
        2,
    )
    events = await events_of(test_db_url, created["id"])
    assert [e["type"] for e in events] == [
        "casebridge.beneficiary.registered.v1",
        "casebridge.beneficiary.updated.v1",
    ]
    assert events[1]["data"]["changed_fields"] == ["current_location", "languages"]
    assert events[1]["data"]["beneficiary_version"] == 2
    assert "Ratoma" not in str(events[1])
    assert ("update", "allowed") in await audit_actions(test_db_url, created["id"])
    same = await client.patch(url, json=change, headers={**office(token), "If-Match": '"2"'})
    assert (same.status_code, same.json()["version"]) == (200, 2)
    assert len(await events_of(test_db_url, created["id"])) == 2  # nothing changed, nothing emitted


async def test_a_bad_update_changes_nothing(client: httpx.AsyncClient, token: TokenFor, test_db_url: str) -> None:
    created = await register(client, office(token), person())
    url = f"/v1/beneficiaries/{created['id']}"
    headers = {**office(token), "If-Match": '"1"'}
    for body, status in [
        ({"born_on": "2999-01-01"}, 422),
        ({"born_on": 0}, 422),  # not 1 January 1970
        ({"born_on": "86400"}, 422),
        ({"given_name": None}, 422),
        ({}, 422),
        ({"nickname": "Mari"}, 422),
        ({"contacts": [{"kind": "phone", "value": "+224 1", "holder": "self", "most_trusted": True}]}, 422),
    ]:
        response = await client.patch(url, json=body, headers=headers)
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert (await client.get(url, headers=office(token))).json()["version"] == 1
    assert len(await events_of(test_db_url, created["id"])) == 1


async def test_only_the_registering_office_updates_a_beneficiary(client: httpx.AsyncClient, token: TokenFor) -> None:
    created = await register(client, office(token), person())
    response = await client.patch(
        f"/v1/beneficiaries/{created['id']}",
        json={"current_location": "Dakar"},
        headers={**office(token, "sn-dakar-system"), "If-Match": '"1"'},
    )
    assert (response.status_code, response.json()["code"]) == (404, "beneficiary-not-found")


async def family(client: httpx.AsyncClient, headers: dict[str, str]) -> tuple[str, str, str]:
    mother = await register(client, headers, person(born_on=date(1985, 2, 2)))
    father = await register(client, headers, {**person(born_on=date(1983, 3, 3)), "sex": "male"})
    child = await register(client, headers, person(born_on=TODAY - timedelta(days=9 * 365)))
    return mother["id"], father["id"], child["id"]


async def test_a_household_lists_its_members_and_flags_minors_with_their_guardian(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    mother, father, child = await family(client, office(token))
    body = {
        "return_configuration": "family_unit_returning",
        "members": [
            {"beneficiary_id": mother, "relationship_to_head": "head"},
            {"beneficiary_id": father, "relationship_to_head": "spouse_or_partner"},
            {"beneficiary_id": child, "relationship_to_head": "child", "guardian": {"beneficiary_id": mother}},
        ],
    }
    created = await client.post("/v1/households", json=body, headers=office(token))
    assert created.status_code == 201, created.text
    household = created.json()
    fetched = await client.get(f"/v1/households/{household['id']}", headers=office(token))
    assert fetched.status_code == 200
    assert fetched.json() == household
    members = {m["beneficiary_id"]: m for m in household["members"]}
    assert members[child]["is_minor"]
    assert not members[mother]["is_minor"]
    assert members[child]["guardian"] == {"beneficiary_id": mother, "external": None}
    assert members[father]["relationship_to_head"] == "spouse_or_partner"
    of_child = await client.get(f"/v1/beneficiaries/{child}/household", headers=office(token))
    assert (of_child.status_code, of_child.json()["id"]) == (200, household["id"])
    monitoring = (await client.get(f"/v1/households/{household['id']}?purpose=m_and_e", headers=office(token))).json()
    assert monitoring["members"] is None  # no consent covers `household` for monitoring and evaluation
    assert [w["category"] for w in monitoring["withheld"]] == ["household"]
    assert ("view", "allowed") in await audit_actions(test_db_url, household["id"])


async def test_an_external_guardian_may_look_after_a_child_headed_household(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    child = await register(client, office(token), person(born_on=TODAY - timedelta(days=16 * 365)))
    guardian = {
        "external": {
            "full_name": "Aissatou Bah",
            "relationship": "legal_guardian",
            "appointing_authority": "Tribunal de Conakry",
            "decision_reference": "TC-2026-114",
            "appointed_on": "2026-10-01",
        }
    }
    body = {"members": [{"beneficiary_id": child["id"], "relationship_to_head": "head", "guardian": guardian}]}
    created = await client.post("/v1/households", json=body, headers=office(token))
    assert created.status_code == 201, created.text
    assert created.json()["members"][0]["guardian"] == {"beneficiary_id": None, **guardian}


async def test_household_refusals_are_problems_and_write_nothing(client: httpx.AsyncClient, token: TokenFor) -> None:
    mother, father, child = await family(client, office(token))
    stranger = await register(client, office(token, "sn-dakar-system"), person())
    head = {"beneficiary_id": mother, "relationship_to_head": "head"}
    refusals: list[tuple[list[dict[str, Any]], int, str]] = [
        ([head, {"beneficiary_id": child, "relationship_to_head": "child"}], 422, "guardian-required"),
        ([{"beneficiary_id": father, "relationship_to_head": "spouse_or_partner"}], 422, "household-head-required"),
        ([head, head], 422, "household-head-required"),
        (
            [head, {"beneficiary_id": child, "relationship_to_head": "child", "guardian": {"beneficiary_id": father}}],
            422,
            "guardian-not-member",
        ),
        ([head, {"beneficiary_id": stranger["id"], "relationship_to_head": "sibling"}], 404, "beneficiary-not-found"),
        ([{**head, "relationship_to_head": "boss"}], 422, "validation-error"),
    ]
    for members, status, code in refusals:
        response = await client.post("/v1/households", json={"members": members}, headers=office(token))
        assert (response.status_code, response.json().get("code")) == (status, code), response.text
    for member in (mother, father, child):
        response = await client.get(f"/v1/beneficiaries/{member}/household", headers=office(token))
        assert (response.status_code, response.json()["code"]) == (404, "household-not-found")
    fine = await client.post("/v1/households", json={"members": [head]}, headers=office(token))
    assert fine.status_code == 201
    again = await client.post("/v1/households", json={"members": [head]}, headers=office(token))
    assert (again.status_code, again.json()["code"]) == (409, "already-in-household")


async def test_another_office_sees_a_household_only_through_members_cases_and_only_those_members(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    berlin, dakar = office(token, scope=WITH_CONSENT), office(token, "sn-dakar-system")
    mother = await register(client, berlin, person(born_on=date(1985, 2, 2)))
    grandmother = await register(client, berlin, person(born_on=date(1950, 4, 4)))
    child = await register(client, berlin, person(born_on=TODAY - timedelta(days=9 * 365)))
    created = await client.post(
        "/v1/households",
        json={
            "members": [
                {"beneficiary_id": mother["id"], "relationship_to_head": "head"},
                {  # an adult under guardianship
                    "beneficiary_id": grandmother["id"],
                    "relationship_to_head": "parent",
                    "guardian": {"beneficiary_id": mother["id"]},
                },
                {
                    "beneficiary_id": child["id"],
                    "relationship_to_head": "child",
                    "guardian": {"beneficiary_id": mother["id"]},
                },
            ]
        },
        headers=berlin,
    )
    assert created.status_code == 201, created.text
    url = f"/v1/households/{created.json()['id']}"
    grandmothers_case, mothers_case = await case_of(client, berlin, grandmother), await case_of(client, berlin, mother)
    for path in (url, f"/v1/beneficiaries/{mother['id']}/household"):
        response = await client.get(path, headers=dakar)
        assert (response.status_code, response.json()["code"]) == (404, "household-not-found")

    await consent(client, berlin, grandmother["id"], ["identity_biodata"])
    await share(client, berlin, grandmothers_case)
    seen = await client.get(url, headers=dakar)
    assert seen.status_code == 200, seen.text
    assert (seen.json()["members"], [w["category"] for w in seen.json()["withheld"]]) == (None, ["household"])

    await consent(client, berlin, grandmother["id"], ["identity_biodata", "household"])
    members = (await client.get(url, headers=dakar)).json()["members"]
    assert [(m["beneficiary_id"], m["guardian"]) for m in members] == [(grandmother["id"], None)]  # mother unseen
    of_grandmother = await client.get(f"/v1/beneficiaries/{grandmother['id']}/household", headers=dakar)
    assert of_grandmother.json()["id"] == created.json()["id"]
    for unseen in (mother, child):  # their membership is not disclosed
        response = await client.get(f"/v1/beneficiaries/{unseen['id']}/household", headers=dakar)
        assert (response.status_code, response.json()["code"]) == (404, "household-not-found")

    await consent(client, berlin, mother["id"], ["identity_biodata", "household"])
    await share(client, berlin, mothers_case)
    members = (await client.get(url, headers=dakar)).json()["members"]
    assert [m["beneficiary_id"] for m in members] == [mother["id"], grandmother["id"]]  # the head first
    assert members[1]["guardian"] == {"beneficiary_id": mother["id"], "external": None}
    assert len((await client.get(url, headers=berlin)).json()["members"]) == 3
    erbil = await client.get(url, headers=office(token, "iq-erbil-system"))
    assert (erbil.status_code, erbil.json()["code"]) == (404, "household-not-found")
    unknown = await client.get(f"/v1/households/{uuid.uuid4()}", headers=berlin)
    assert unknown.status_code == 404


async def case_of(client: httpx.AsyncClient, headers: dict[str, str], beneficiary: dict[str, Any]) -> str:
    case = await client.post(
        "/v1/cases", json={"beneficiary_id": beneficiary["id"], "programme": "return_reintegration"}, headers=headers
    )
    assert case.status_code == 201, case.text
    return str(case.json()["id"])


async def consent(
    client: httpx.AsyncClient, headers: dict[str, str], beneficiary_id: str, categories: list[str]
) -> None:
    """A consent for sn-dakar to see `categories` for case management."""
    scope = {"data_categories": categories, "purposes": ["case_management"], "offices": ["sn-dakar"]}
    body = {"given_by": "self", "method": "written", "notice_version": "notice-2026-01-fr", "scopes": [scope]}
    response = await client.post(f"/v1/beneficiaries/{beneficiary_id}/consents", json=body, headers=headers)
    assert response.status_code == 201, response.text


async def share(client: httpx.AsyncClient, headers: dict[str, str], case_id: str) -> None:
    response = await client.post(
        f"/v1/cases/{case_id}/shares", json={"office_id": "sn-dakar", "mode": "view"}, headers=headers
    )
    assert response.status_code == 201, response.text


async def household_of(client: httpx.AsyncClient, token: TokenFor) -> tuple[dict[str, Any], str, str, str]:
    """A registered household (mother head, father, a child in the mother's care) and its members' ids."""
    mother, father, child = await family(client, office(token))
    created = await client.post(
        "/v1/households",
        json={
            "return_configuration": "family_unit_returning",
            "members": [
                {"beneficiary_id": mother, "relationship_to_head": "head"},
                {"beneficiary_id": father, "relationship_to_head": "spouse_or_partner"},
                {"beneficiary_id": child, "relationship_to_head": "child", "guardian": {"beneficiary_id": mother}},
            ],
        },
        headers=office(token),
    )
    assert created.status_code == 201, created.text
    assert created.headers["ETag"] == '"1"'
    return dict(created.json()), mother, father, child


async def test_a_household_is_edited_on_its_version_and_keeps_one_head_and_a_guardian_for_each_minor(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    household, mother, father, child = await household_of(client, token)
    url, h = f"/v1/households/{household['id']}", office(token)
    baby = await register(client, h, person(born_on=TODAY - timedelta(days=100)))
    move_out = {
        "remove_members": [mother],
        "change_members": [{"beneficiary_id": father, "relationship_to_head": "head"}],
    }
    missing = await client.patch(url, json=move_out, headers=h)
    assert (missing.status_code, missing.json()["code"]) == (428, "if-match-required")
    stale = await client.patch(url, json=move_out, headers=h | {"If-Match": '"7"'})
    assert (stale.status_code, stale.json()["current_version"]) == (412, 1)
    orphaned = await client.patch(url, json=move_out, headers=h | {"If-Match": '"1"'})
    assert (orphaned.status_code, orphaned.json()["code"]) == (422, "guardian-not-member")
    assert orphaned.json()["beneficiary_id"] == child  # the ward the request left without a guardian
    assert orphaned.json()["pointer"] == "#/change_members"

    moved = move_out | {
        "change_members": [
            {"beneficiary_id": father, "relationship_to_head": "head"},
            {"beneficiary_id": child, "guardian": {"beneficiary_id": father}},
        ],
        "add_members": [
            {"beneficiary_id": baby["id"], "relationship_to_head": "child", "guardian": {"beneficiary_id": father}}
        ],
        "return_configuration": "family_stayed_behind",
    }
    edited = await client.patch(url, json=moved, headers=h | {"If-Match": '"1"'})
    assert edited.status_code == 200, edited.text
    assert (edited.json()["version"], edited.headers["ETag"]) == (2, '"2"')
    assert edited.json()["return_configuration"] == "family_stayed_behind"
    members = {m["beneficiary_id"]: m for m in edited.json()["members"]}
    assert set(members) == {father, child, baby["id"]}
    assert edited.json()["members"][0]["beneficiary_id"] == father  # the new head first
    assert members[child]["guardian"] == members[baby["id"]]["guardian"] == {"beneficiary_id": father, "external": None}
    assert (await client.get(url, headers=h)).json() == edited.json()
    of_mother = await client.get(f"/v1/beneficiaries/{mother}/household", headers=h)
    assert of_mother.status_code == 404  # no longer a member: free to join another household
    elsewhere = await client.post(
        "/v1/households", json={"members": [{"beneficiary_id": mother, "relationship_to_head": "head"}]}, headers=h
    )
    assert elsewhere.status_code == 201, elsewhere.text

    same = await client.patch(
        url, json={"return_configuration": "family_stayed_behind"}, headers=h | {"If-Match": '"2"'}
    )
    assert (same.status_code, same.json()["version"]) == (200, 2)  # nothing changed: the version stays
    cleared = await client.patch(url, json={"return_configuration": None}, headers=h | {"If-Match": '"2"'})
    assert (cleared.json()["return_configuration"], cleared.json()["version"]) == (None, 3)
    assert ("update", "allowed") in await audit_actions(test_db_url, household["id"])
    assert await events_of(test_db_url, household["id"]) == []  # households emit no event


async def test_household_edits_that_would_break_it_are_problems_and_change_nothing(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    household, mother, father, child = await household_of(client, token)
    url, h = f"/v1/households/{household['id']}", office(token)
    other, *_ = await household_of(client, token)
    in_other = other["members"][0]["beneficiary_id"]
    stranger = await register(client, office(token, "sn-dakar-system"), person())
    newborn = await register(client, h, person(born_on=TODAY - timedelta(days=30)))
    refusals: list[tuple[dict[str, Any], int, str, str]] = [
        ({"remove_members": [mother]}, 422, "household-head-required", "#/change_members"),
        (
            {"change_members": [{"beneficiary_id": father, "relationship_to_head": "head"}]},
            422,
            "household-head-required",
            "#/change_members",
        ),
        ({"remove_members": [in_other]}, 422, "household-member-not-found", "#/remove_members/0"),
        (
            {"change_members": [{"beneficiary_id": in_other, "relationship_to_head": "sibling"}]},
            422,
            "household-member-not-found",
            "#/change_members/0/beneficiary_id",
        ),
        (
            {
                "remove_members": [father],
                "change_members": [{"beneficiary_id": father, "relationship_to_head": "sibling"}],
            },
            422,
            "household-member-repeated",
            "#/change_members/0/beneficiary_id",
        ),
        (
            {"add_members": [{"beneficiary_id": father, "relationship_to_head": "sibling"}]},
            422,
            "household-member-repeated",
            "#/add_members/0/beneficiary_id",
        ),
        (
            {"add_members": [{"beneficiary_id": newborn["id"], "relationship_to_head": "child"}]},
            422,
            "guardian-required",
            "#/add_members/0/guardian",
        ),
        (
            {"change_members": [{"beneficiary_id": child, "guardian": None}]},
            422,
            "guardian-required",
            "#/change_members/0/guardian",
        ),
        (
            {"change_members": [{"beneficiary_id": father, "guardian": {"beneficiary_id": child}}]},
            422,
            "guardian-not-adult",
            "#/change_members/0/guardian/beneficiary_id",
        ),
        (
            {"add_members": [{"beneficiary_id": stranger["id"], "relationship_to_head": "sibling"}]},
            404,
            "beneficiary-not-found",
            "#/add_members/0/beneficiary_id",
        ),
        (
            {"add_members": [{"beneficiary_id": in_other, "relationship_to_head": "sibling"}]},
            409,
            "already-in-household",
            "#/add_members/0/beneficiary_id",
        ),
        ({}, 422, "validation-error", "#/"),
        ({"change_members": [{"beneficiary_id": father}]}, 422, "validation-error", "#/change_members/0"),
    ]
    for body, status, code, pointer in refusals:
        response = await client.patch(url, json=body, headers=h | {"If-Match": '"1"'})
        problem = response.json()
        assert (response.status_code, problem.get("code")) == (status, code), (body, response.text)
        at = problem["errors"][0]["pointer"] if code == "validation-error" else problem["pointer"]
        assert at == pointer, (body, problem)
    assert (await client.get(url, headers=h)).json() == household
    dakar = await client.patch(
        url, json={"return_configuration": None}, headers=office(token, "sn-dakar-system") | {"If-Match": '"1"'}
    )
    assert (dakar.status_code, dakar.json()["code"]) == (404, "household-not-found")
    unknown = await client.patch(
        f"/v1/households/{uuid.uuid4()}", json={"return_configuration": None}, headers=h | {"If-Match": '"1"'}
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "household-not-found")


async def open_case(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    beneficiary = await register(client, headers, person())
    case = await client.post(
        "/v1/cases",
        json={"beneficiary_id": beneficiary["id"], "programme": "return_reintegration"},
        headers=headers,
    )
    assert case.status_code == 201, case.text
    return dict(case.json())


async def test_a_case_is_reassigned_with_if_match(client: httpx.AsyncClient, token: TokenFor) -> None:
    case = await open_case(client, office(token))
    url = f"/v1/cases/{case['id']}"
    missing = await client.patch(url, json={"assigned_worker": "moussa.diop"}, headers=office(token))
    assert missing.status_code == 428
    updated = await client.patch(
        url, json={"assigned_worker": "moussa.diop"}, headers={**office(token), "If-Match": '"1"'}
    )
    assert updated.status_code == 200, updated.text
    assert (updated.json()["assigned_worker"], updated.json()["version"]) == ("moussa.diop", 2)
    assert updated.headers["etag"] == '"2"'
    stale = await client.patch(url, json={"assigned_worker": "anna"}, headers={**office(token), "If-Match": '"1"'})
    assert (stale.status_code, stale.json()["code"], stale.json()["current_version"]) == (
        412,
        "version-mismatch",
        2,
    )
    cleared = await client.patch(url, json={"assigned_worker": None}, headers={**office(token), "If-Match": '"2"'})
    assert (cleared.json()["assigned_worker"], cleared.json()["version"]) == (None, 3)


async def test_a_case_update_refuses_bad_input_and_strangers(client: httpx.AsyncClient, token: TokenFor) -> None:
    case = await open_case(client, office(token))
    url = f"/v1/cases/{case['id']}"
    headers = {**office(token), "If-Match": '"1"'}
    for body in ({}, {"stage": "closed"}, {"assigned_worker": ""}, {"assigned_worker": 7}):
        response = await client.patch(url, json=body, headers=headers)
        assert response.status_code == 422, (body, response.text)
    stranger = await client.patch(
        url, json={"assigned_worker": "x"}, headers={**office(token, "sn-dakar-system"), "If-Match": '"1"'}
    )
    assert (stranger.status_code, stranger.json()["code"]) == (404, "case-not-found")
    assert (await client.get(url, headers=office(token))).json()["version"] == 1


async def test_a_number_for_a_date_is_a_wrong_type_not_seconds_since_1970(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    for born_on in (0, 1_000_000_000, "0", "1994"):
        response = await client.post("/v1/beneficiaries", json={**person(), "born_on": born_on}, headers=office(token))
        assert response.status_code == 422, (born_on, response.text)
        assert response.json()["code"] == "validation-error"
        [error] = response.json()["errors"]
        assert error["pointer"] == "#/born_on"
        assert "YYYY-MM-DD" in error["detail"]
