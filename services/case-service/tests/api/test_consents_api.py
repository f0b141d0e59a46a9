"""Consent records over HTTP: real tokens, real PostgreSQL; the events they commit and the audit they leave."""

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

from case_service.domain.consent import ConsentRecord, ConsentWithdrawal
from casebridge_common.audit import AuditEntry
from casebridge_common.outbox import OutboxMessage
from casebridge_common.testing.plugin import TokenFor, bearer

ALL = "cases:read cases:write consents:write audit:read"
ADULT = {
    "given_name": "Awa",
    "family_name": "Ndiaye",
    "sex": "female",
    "born_on": "1994-03-17",
    "nationality": "SN",
    "confirm_not_duplicate": True,
}
CHILD = {
    "given_name": "Ibou",
    "family_name": "Ndiaye",
    "sex": "male",
    "born_on": "2016-05-01",
    "nationality": "SN",
    "confirm_not_duplicate": True,
}
SCOPE = {
    "data_categories": ["identity_biodata", "contact", "skills_employment"],
    "purposes": ["referral_service_delivery"],
    "organisations": ["cfp-dakar"],
}
CONSENT = {"given_by": "self", "method": "written", "notice_version": "notice-2026-01-fr", "scopes": [SCOPE]}


def office(token: TokenFor, client_id: str = "de-berlin-system", scope: str = ALL) -> dict[str, str]:
    return bearer(token(client_id, "case-api", scope))


async def beneficiary_with_case(
    client: httpx.AsyncClient, headers: dict[str, str], person: dict[str, str] = ADULT
) -> tuple[str, str]:
    beneficiary = await client.post("/v1/beneficiaries", json=person, headers=headers)
    assert beneficiary.status_code == 201, beneficiary.text
    case = await client.post(
        "/v1/cases",
        json={"beneficiary_id": beneficiary.json()["id"], "programme": "return_reintegration"},
        headers=headers,
    )
    assert case.status_code == 201, case.text
    return beneficiary.json()["id"], case.json()["id"]


async def give(
    client: httpx.AsyncClient, headers: dict[str, str], beneficiary_id: str, body: dict[str, Any] = CONSENT
) -> dict[str, Any]:
    response = await client.post(f"/v1/beneficiaries/{beneficiary_id}/consents", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def events_of(test_db_url: str, beneficiary_id: str) -> list[dict[str, Any]]:
    """The consent events of a beneficiary in the outbox, in commit order."""
    engine = create_async_engine(test_db_url)
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(OutboxMessage.event)  # type: ignore[call-overload]
                .where(OutboxMessage.key == beneficiary_id, OutboxMessage.topic == "casebridge.consent.events.v1")
                .order_by(OutboxMessage.seq)
            )
        ).all()
    await engine.dispose()
    return [dict(row[0]) for row in rows]


async def rows_of(test_db_url: str, model: type[SQLModel], **where: object) -> list[Any]:
    engine = create_async_engine(test_db_url)
    async with engine.connect() as conn:
        query = select(model).where(*(getattr(model, column) == value for column, value in where.items()))
        result = list((await conn.execute(query)).all())
    await engine.dispose()
    return result


async def test_giving_consent_commits_the_record_its_event_and_an_audit_entry(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    headers = office(token)
    beneficiary_id, case_id = await beneficiary_with_case(client, headers)
    consent = await give(client, headers, beneficiary_id, CONSENT | {"evidence_ref": "attachments/1"})
    assert (consent["status"], consent["version"], consent["recorded_by_office_id"], consent["supersedes"]) == (
        "given",
        1,
        "de-berlin",
        None,
    )
    [given] = await events_of(test_db_url, beneficiary_id)
    assert given["type"] == "casebridge.consent.given.v1"
    assert given["data"]["consent_id"] == consent["id"]
    assert given["data"]["case_ids"] == [case_id]
    assert (given["data"]["owner_office_id"], given["data"]["renewed"]) == ("de-berlin", False)
    assert given["data"]["scopes"][0]["organisations"] == ["cfp-dakar"]
    created = await rows_of(test_db_url, AuditEntry, resource_id=consent["id"], action="consent_change")
    assert [(e.resource_type, e.categories) for e in created] == [
        ("consent", ["contact", "identity_biodata", "skills_employment"])
    ]

    fetched = await client.get(f"/v1/consents/{consent['id']}", headers=headers)
    assert fetched.status_code == 200
    assert fetched.headers["etag"] == '"1"'
    assert fetched.json() == consent
    assert len(await rows_of(test_db_url, AuditEntry, resource_id=consent["id"], action="view")) == 1


async def test_a_retried_give_with_the_same_idempotency_key_records_one_consent(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    headers = office(token)
    beneficiary_id, _ = await beneficiary_with_case(client, headers)
    keyed = headers | {"Idempotency-Key": f"give-{uuid.uuid4()}"}
    url = f"/v1/beneficiaries/{beneficiary_id}/consents"
    first = await client.post(url, json=CONSENT, headers=keyed)
    again = await client.post(url, json=CONSENT, headers=keyed)
    assert (first.status_code, again.status_code, again.headers["idempotent-replayed"]) == (201, 201, "true")
    assert again.json() == first.json()
    assert len(await rows_of(test_db_url, ConsentRecord, beneficiary_id=uuid.UUID(beneficiary_id))) == 1


@pytest.mark.parametrize(
    ("person", "body", "code", "pointer"),
    [
        (
            ADULT,
            CONSENT | {"scopes": [SCOPE | {"purposes": ["case_management", "immigration_enforcement"]}]},
            "forbidden-purpose",
            "#/scopes/0/purposes",
        ),
        (CHILD, CONSENT, "guardian-consent-required", "#/given_by"),
        (
            CHILD,
            CONSENT | {"given_by": "parent", "capacity_assessed_by": "anna.schmidt", "child_assent": True},
            "guardian-consent-required",
            "#/child_views",
        ),
        (ADULT, CONSENT | {"given_by": "legal_guardian"}, "capacity-assessment-required", "#/capacity_assessed_by"),
        (
            ADULT,
            CONSENT | {"valid_from": "2027-01-01T00:00:00Z", "valid_until": "2026-12-31T00:00:00Z"},
            "invalid-validity-period",
            "#/valid_until",
        ),
    ],
)
async def test_an_invalid_consent_is_a_422_problem_and_records_nothing(
    client: httpx.AsyncClient,
    token: TokenFor,
    test_db_url: str,
    person: dict[str, str],
    body: dict[str, Any],
    code: str,
    pointer: str,
) -> None:
    headers = office(token)
    beneficiary_id, _ = await beneficiary_with_case(client, headers, person)
    response = await client.post(f"/v1/beneficiaries/{beneficiary_id}/consents", json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert (response.json()["code"], response.json()["pointer"]) == (code, pointer)
    assert await rows_of(test_db_url, ConsentRecord, beneficiary_id=uuid.UUID(beneficiary_id)) == []
    assert await events_of(test_db_url, beneficiary_id) == []


async def test_a_guardians_consent_for_a_child_with_assent_and_views_is_recorded(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    headers = office(token)
    beneficiary_id, _ = await beneficiary_with_case(client, headers, CHILD)
    consent = await give(
        client,
        headers,
        beneficiary_id,
        CONSENT
        | {
            "given_by": "parent",
            "given_by_name": "Mariama Ndiaye",
            "capacity_assessed_by": "anna.schmidt",
            "child_assent": True,
            "child_views": "I want to go to school in Dakar.",
        },
    )
    assert (consent["given_by"], consent["child_assent"], consent["child_views"]) == (
        "parent",
        True,
        "I want to go to school in Dakar.",
    )
    [given] = await events_of(test_db_url, beneficiary_id)
    assert (given["data"]["given_by"], given["data"]["child_assent"]) == ("parent", True)


async def test_another_office_cannot_see_or_change_the_consents_and_gets_404(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    berlin, erbil = office(token), office(token, "iq-erbil-system")
    beneficiary_id, _ = await beneficiary_with_case(client, berlin)
    consent = await give(client, berlin, beneficiary_id)
    attempts = [
        await client.post(f"/v1/beneficiaries/{beneficiary_id}/consents", json=CONSENT, headers=erbil),
        await client.get(f"/v1/beneficiaries/{beneficiary_id}/consents", headers=erbil),
    ]
    assert [(r.status_code, r.json()["code"]) for r in attempts] == [(404, "beneficiary-not-found")] * 2
    by_id = [
        await client.get(f"/v1/consents/{consent['id']}", headers=erbil),
        await client.get(f"/v1/consents/{consent['id']}/receipt", headers=erbil),
        await client.post(
            f"/v1/consents/{consent['id']}/withdrawal", json={"channel": "staff"}, headers=erbil | {"If-Match": '"1"'}
        ),
        await client.post(
            f"/v1/consents/{consent['id']}/renewal", json={"valid_until": None}, headers=erbil | {"If-Match": '"1"'}
        ),
        await client.post(
            f"/v1/consents/{consent['id']}/narrowing", json={"scopes": [SCOPE]}, headers=erbil | {"If-Match": '"1"'}
        ),
    ]
    assert [(r.status_code, r.json()["code"]) for r in by_id] == [(404, "consent-not-found")] * 5
    assert "etag" not in by_id[0].headers
    still = await client.get(f"/v1/consents/{consent['id']}", headers=berlin)
    assert (still.json()["status"], still.json()["version"]) == ("given", 1)


async def test_writing_needs_the_consents_write_scope(client: httpx.AsyncClient, token: TokenFor) -> None:
    headers = office(token)
    beneficiary_id, _ = await beneficiary_with_case(client, headers)
    response = await client.post(
        f"/v1/beneficiaries/{beneficiary_id}/consents",
        json=CONSENT,
        headers=office(token, scope="cases:read cases:write"),
    )
    assert (response.status_code, response.json()["code"]) == (403, "insufficient-scope")


async def test_a_change_without_if_match_is_428_and_with_a_stale_one_412_with_the_current_version(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    headers = office(token)
    beneficiary_id, _ = await beneficiary_with_case(client, headers)
    consent = await give(client, headers, beneficiary_id)
    url = f"/v1/consents/{consent['id']}/withdrawal"
    missing = await client.post(url, json={"channel": "phone"}, headers=headers)
    stale = await client.post(url, json={"channel": "phone"}, headers=headers | {"If-Match": '"7"'})
    assert (missing.status_code, missing.json()["code"]) == (428, "if-match-required")
    assert (stale.status_code, stale.json()["code"], stale.json()["current_version"]) == (412, "version-mismatch", 1)


async def test_withdrawal_emits_consent_withdrawn_with_a_deadline_and_tracks_the_holders(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    headers = office(token)
    beneficiary_id, case_id = await beneficiary_with_case(client, headers)
    consent = await give(client, headers, beneficiary_id)
    given_receipt = (await client.get(f"/v1/consents/{consent['id']}/receipt", headers=headers)).json()
    response = await client.post(
        f"/v1/consents/{consent['id']}/withdrawal", json={"channel": "phone"}, headers=headers | {"If-Match": '"1"'}
    )
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"'
    assert (response.json()["status"], response.json()["withdrawal_channel"]) == ("withdrawn", "phone")

    withdrawn = (await events_of(test_db_url, beneficiary_id))[-1]
    data = withdrawn["data"]
    assert (withdrawn["type"], data["kind"], data["case_ids"], data["superseded_by"]) == (
        "casebridge.consent.withdrawn.v1",
        "withdrawn",
        [case_id],
        None,
    )
    assert data["withdrawn_scopes"][0]["data_categories"] == SCOPE["data_categories"]
    withdrawn_at, deadline = (
        datetime.fromisoformat(data["withdrawn_at"]),
        datetime.fromisoformat(data["acknowledge_by"]),
    )
    assert deadline - withdrawn_at == timedelta(hours=24)
    [tracked] = await rows_of(test_db_url, ConsentWithdrawal, consent_id=uuid.UUID(consent["id"]))
    assert str(tracked.id) == data["withdrawal_id"]
    assert tracked.expected_holders == ["referral-service", "scoring-service", "notification-service"]

    receipt = (await client.get(f"/v1/consents/{consent['id']}/receipt", headers=headers)).json()
    assert (receipt["status"], receipt["withdrawal_channel"], receipt["consent_version"]) == ("withdrawn", "phone", 2)
    assert receipt["receipt_id"] != given_receipt["receipt_id"]
    assert receipt["issued_at"] == response.json()["withdrawn_at"]
    kept = await client.get(f"/v1/consents/{consent['id']}/receipt?version=1", headers=headers)
    assert kept.json() == given_receipt  # the receipt issued at give stays as it was issued
    again = await client.post(
        f"/v1/consents/{consent['id']}/withdrawal", json={"channel": "phone"}, headers=headers | {"If-Match": '"2"'}
    )
    assert (again.status_code, again.json()["code"]) == (409, "consent-not-active")


async def test_the_receipt_is_a_json_ld_document_without_names(client: httpx.AsyncClient, token: TokenFor) -> None:
    headers = office(token)
    beneficiary_id, _ = await beneficiary_with_case(client, headers)
    consent = await give(client, headers, beneficiary_id, CONSENT | {"evidence_ref": "attachments/1"})
    response = await client.get(f"/v1/consents/{consent['id']}/receipt", headers=headers)
    assert response.status_code == 200
    receipt = response.json()
    assert receipt["@type"] == "ConsentReceipt"
    assert "https://w3id.org/dpv" in receipt["@context"]
    assert receipt["controller"] == {"office_id": "de-berlin", "organisation_id": "iom-germany"}
    assert receipt["subject"] == {"pseudonymous_id": beneficiary_id}
    assert (receipt["status"], receipt["given_by"], receipt["method"], receipt["evidence_ref"]) == (
        "given",
        "self",
        "written",
        "attachments/1",
    )
    assert receipt["purposes"] == ["referral_service_delivery"]
    assert receipt["recipients"]["organisations"] == ["cfp-dakar"]
    assert receipt["links"]["record"] == f"/v1/consents/{consent['id']}"
    assert "Ndiaye" not in response.text
    second = await client.get(f"/v1/consents/{consent['id']}/receipt", headers=headers)
    assert second.json()["receipt_id"] == receipt["receipt_id"]
    unknown = await client.get(f"/v1/consents/{consent['id']}/receipt?version=9", headers=headers)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "consent-receipt-not-found")


async def test_narrowing_writes_a_new_record_and_asks_holders_to_purge_what_it_dropped(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    headers = office(token)
    beneficiary_id, _ = await beneficiary_with_case(client, headers)
    old = await give(client, headers, beneficiary_id)
    narrower_scope = SCOPE | {"data_categories": ["identity_biodata", "contact"]}
    url = f"/v1/consents/{old['id']}/narrowing"
    wider = await client.post(
        url, json={"scopes": [SCOPE | {"purposes": ["m_and_e"]}]}, headers=headers | {"If-Match": '"1"'}
    )
    assert (wider.status_code, wider.json()["code"]) == (422, "consent-narrowing-widens")
    same = await client.post(url, json={"scopes": [SCOPE]}, headers=headers | {"If-Match": '"1"'})
    assert (same.status_code, same.json()["code"]) == (422, "consent-narrowing-unchanged")

    response = await client.post(url, json={"scopes": [narrower_scope]}, headers=headers | {"If-Match": '"1"'})
    assert response.status_code == 201, response.text
    new = response.json()
    assert (new["status"], new["supersedes"], new["scopes"][0]["data_categories"]) == (
        "given",
        old["id"],
        ["identity_biodata", "contact"],
    )
    assert (await client.get(f"/v1/consents/{old['id']}", headers=headers)).json()["status"] == "narrowed"
    # the withdrawal of what was dropped comes first, so a holder that excludes on it sees the narrower consent
    # after it (scoring-service lets survey data back into analysis on that consent.given)
    narrowed, given = (await events_of(test_db_url, beneficiary_id))[-2:]
    assert (given["type"], given["data"]["consent_id"], given["data"]["supersedes"]) == (
        "casebridge.consent.given.v1",
        new["id"],
        old["id"],
    )
    assert (narrowed["type"], narrowed["data"]["kind"], narrowed["data"]["superseded_by"]) == (
        "casebridge.consent.withdrawn.v1",
        "narrowed",
        new["id"],
    )
    assert narrowed["data"]["consent_id"] == old["id"]
    assert [s["data_categories"] for s in narrowed["data"]["withdrawn_scopes"]] == [["skills_employment"]]
    old_receipt = (await client.get(f"/v1/consents/{old['id']}/receipt", headers=headers)).json()
    assert (old_receipt["status"], old_receipt["links"]["superseded_by"]) == ("narrowed", new["id"])
    new_receipt = (await client.get(f"/v1/consents/{new['id']}/receipt", headers=headers)).json()
    assert (new_receipt["status"], new_receipt["links"]["supersedes"]) == ("given", old["id"])
    assert new_receipt["data_categories"] == ["contact", "identity_biodata"]

    history = await client.get(f"/v1/beneficiaries/{beneficiary_id}/consents?limit=1", headers=headers)
    assert [c["id"] for c in history.json()["items"]] == [old["id"]]
    rest = await client.get(
        f"/v1/beneficiaries/{beneficiary_id}/consents?limit=1&cursor={history.json()['next_cursor']}",
        headers=headers,
    )
    assert ([c["id"] for c in rest.json()["items"]], rest.json()["next_cursor"]) == ([new["id"]], None)


async def test_a_partial_withdrawal_is_a_narrowing(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    headers = office(token)
    beneficiary_id, _ = await beneficiary_with_case(client, headers)
    old = await give(client, headers, beneficiary_id)
    url = f"/v1/consents/{old['id']}/withdrawal"
    foreign = {"channel": "staff", "scopes": [SCOPE | {"organisations": ["another-partner"]}]}
    refused = await client.post(url, json=foreign, headers=headers | {"If-Match": '"1"'})
    assert (refused.status_code, refused.json()["code"]) == (422, "consent-narrowing-widens")
    partial = {"channel": "staff", "scopes": [SCOPE | {"data_categories": ["skills_employment"]}]}
    response = await client.post(url, json=partial, headers=headers | {"If-Match": '"1"'})
    assert response.status_code == 200, response.text
    assert (response.json()["supersedes"], response.json()["scopes"][0]["data_categories"]) == (
        old["id"],
        ["identity_biodata", "contact"],
    )
    narrowed, given = (await events_of(test_db_url, beneficiary_id))[-2:]
    assert given["data"]["consent_id"] == response.json()["id"]
    assert (narrowed["data"]["kind"], narrowed["data"]["withdrawn_scopes"][0]["data_categories"]) == (
        "narrowed",
        ["skills_employment"],
    )


async def test_renewal_writes_a_renewed_record_with_the_same_terms(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    headers = office(token)
    beneficiary_id, _ = await beneficiary_with_case(client, headers)
    old = await give(client, headers, beneficiary_id, CONSENT | {"valid_until": "2027-06-01T00:00:00Z"})
    response = await client.post(
        f"/v1/consents/{old['id']}/renewal",
        json={"valid_until": "2028-06-01T00:00:00Z", "method": "verbal_phone"},
        headers=headers | {"If-Match": '"1"'},
    )
    assert response.status_code == 201, response.text
    renewal = response.json()
    assert (renewal["status"], renewal["supersedes"], renewal["scopes"], renewal["method"]) == (
        "renewed",
        old["id"],
        old["scopes"],
        "verbal_phone",
    )
    assert renewal["valid_until"].startswith("2028-06-01")
    assert (await client.get(f"/v1/consents/{old['id']}", headers=headers)).json()["status"] == "expired"
    event = (await events_of(test_db_url, beneficiary_id))[-1]
    assert (event["data"]["consent_id"], event["data"]["status"], event["data"]["renewed"]) == (
        renewal["id"],
        "renewed",
        True,
    )


async def test_the_compliance_view_lists_the_offices_withdrawals_with_their_holders(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    headers = office(token)
    beneficiary_id, _ = await beneficiary_with_case(client, headers)
    consent = await give(client, headers, beneficiary_id)
    await client.post(
        f"/v1/consents/{consent['id']}/withdrawal", json={"channel": "written"}, headers=headers | {"If-Match": '"1"'}
    )
    pending = await client.get("/v1/compliance/withdrawals?status=pending&limit=200", headers=headers)
    assert pending.status_code == 200
    [mine] = [w for w in pending.json()["items"] if w["consent_id"] == consent["id"]]
    assert (mine["kind"], mine["status"], mine["owner_office_id"]) == ("withdrawn", "pending", "de-berlin")
    assert [(h["holder"], h["state"], h["acknowledged_at"]) for h in mine["holders"]] == [
        ("referral-service", "pending", None),
        ("scoring-service", "pending", None),
        ("notification-service", "pending", None),
    ]
    complete = await client.get("/v1/compliance/withdrawals?status=complete&limit=200", headers=headers)
    assert consent["id"] not in [w["consent_id"] for w in complete.json()["items"]]
    one = await client.get(f"/v1/compliance/withdrawals/{mine['id']}", headers=headers)
    assert one.json() == mine

    erbil = office(token, "iq-erbil-system")
    other = await client.get(f"/v1/compliance/withdrawals/{mine['id']}", headers=erbil)
    assert (other.status_code, other.json()["code"]) == (404, "withdrawal-not-found")
    listed = await client.get("/v1/compliance/withdrawals?limit=200", headers=erbil)
    assert mine["id"] not in [w["id"] for w in listed.json()["items"]]
    reader = await client.get("/v1/compliance/withdrawals", headers=office(token, scope="cases:read"))
    assert (reader.status_code, reader.json()["code"]) == (403, "insufficient-scope")


async def test_a_requested_consent_authorises_nothing_until_the_person_gives_it(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    berlin = office(token)
    beneficiary_id, _ = await beneficiary_with_case(client, berlin)
    requested = await client.post(
        f"/v1/beneficiaries/{beneficiary_id}/consent-requests",
        json=CONSENT,
        headers=berlin | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert requested.status_code == 201, requested.text
    assert requested.json()["status"] == "requested"
    assert await events_of(test_db_url, beneficiary_id) == []  # nothing may be shared yet

    stale = await client.post(
        f"/v1/consents/{requested.json()['id']}/answer", json={"answer": "given"}, headers=berlin | {"If-Match": '"9"'}
    )
    assert stale.status_code == 412
    given = await client.post(
        f"/v1/consents/{requested.json()['id']}/answer",
        json={"answer": "given", "evidence_ref": "attachments/signed-form-1"},
        headers=berlin | {"If-Match": requested.headers["ETag"]},
    )
    assert given.status_code == 200, given.text
    assert (given.json()["status"], given.json()["version"]) == ("given", 2)
    [event] = await events_of(test_db_url, beneficiary_id)
    assert event["type"] == "casebridge.consent.given.v1"
    assert event["data"]["consent_id"] == requested.json()["id"]

    again = await client.post(
        f"/v1/consents/{requested.json()['id']}/answer",
        json={"answer": "refused"},
        headers=berlin | {"If-Match": given.headers["ETag"]},
    )
    assert again.status_code == 409
    assert again.json()["code"] == "consent-not-requested"
    receipts = await client.get(f"/v1/consents/{requested.json()['id']}/receipt", params={"version": 1}, headers=berlin)
    assert receipts.status_code == 200, receipts.text
    assert receipts.json()["status"] == "requested"


async def test_a_refused_consent_never_authorises_and_emits_nothing(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    berlin = office(token)
    beneficiary_id, _ = await beneficiary_with_case(client, berlin)
    requested = await client.post(f"/v1/beneficiaries/{beneficiary_id}/consent-requests", json=CONSENT, headers=berlin)
    refused = await client.post(
        f"/v1/consents/{requested.json()['id']}/answer",
        json={"answer": "refused", "method": "verbal_phone"},
        headers=berlin | {"If-Match": requested.headers["ETag"]},
    )
    assert refused.status_code == 200, refused.text
    assert (refused.json()["status"], refused.json()["method"]) == ("refused", "verbal_phone")
    assert await events_of(test_db_url, beneficiary_id) == []
    [row] = await rows_of(test_db_url, ConsentRecord, id=uuid.UUID(requested.json()["id"]))
    assert row.status == "refused"
