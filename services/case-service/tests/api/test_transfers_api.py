"""Cross-border transfer over HTTP: real tokens, real PostgreSQL; de-berlin hands a case over to sn-dakar."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlmodel import col

from case_service.domain.consent import ConsentMethod, ConsentRecord
from case_service.domain.transfers import CaseTransfer
from case_service.main import create_app
from case_service.settings import Settings
from casebridge_common.access import ConsentStatus, DataCategory, GivenBy
from casebridge_common.audit import AuditEntry
from casebridge_common.outbox import OutboxMessage
from casebridge_common.testing.plugin import TokenFor, bearer

SCOPES = "cases:read cases:write cases.sensitive:read"
AWA = {
    "given_name": "Awa",
    "family_name": "Ndiaye",
    "sex": "female",
    "born_on": "1994-03-17",
    "nationality": "SN",
    "country_of_origin": "SN",
    "confirm_not_duplicate": True,
}
TO_DAKAR = {"to_office_id": "sn-dakar", "to_organisation_id": "iom-senegal", "to_country": "SN"}
CONSENTED = ["identity_biodata", "contact", "reintegration_plan", "case_notes"]
HANDOVER: dict[str, object] = {
    "data_categories": CONSENTED,
    "purposes": ["cross_border_handover"],
    "offices": ["sn-dakar"],
}


def office(token: TokenFor, client_id: str = "de-berlin-system") -> dict[str, str]:
    return bearer(token(client_id, "case-api", SCOPES))


def if_match(version: int, headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "If-Match": f'"{version}"'}


async def open_case(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    beneficiary = await client.post("/v1/beneficiaries", json=AWA, headers=headers)
    assert beneficiary.status_code == 201, beneficiary.text
    case = await client.post(
        "/v1/cases",
        json={"beneficiary_id": beneficiary.json()["id"], "programme": "return_reintegration"},
        headers=headers,
    )
    assert case.status_code == 201, case.text
    return dict(case.json())


async def give_consent(db_url: str, beneficiary_id: str, *scopes: dict[str, object]) -> uuid.UUID:
    """The consent as the consent API would have recorded it (its own tests cover that API)."""
    now = datetime.now(UTC)
    record = ConsentRecord(
        beneficiary_id=uuid.UUID(beneficiary_id),
        status=ConsentStatus.GIVEN,
        given_by=GivenBy.SELF,
        method=ConsentMethod.WRITTEN,
        notice_version="handover-notice-v1",
        scopes=list(scopes or (HANDOVER,)),
        valid_from=now - timedelta(days=1),
        recorded_by="anna.schmidt",
        recorded_by_office_id="de-berlin",
        recorded_at=now,
    )
    engine = create_async_engine(db_url)
    async with async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)() as session:
        session.add(record)
        await session.commit()
    await engine.dispose()
    return record.id


async def withdraw(db_url: str, consent_id: uuid.UUID) -> None:
    engine = create_async_engine(db_url)
    async with engine.begin() as conn:
        await conn.execute(
            update(ConsentRecord)
            .where(col(ConsentRecord.id) == consent_id)
            .values(status=ConsentStatus.WITHDRAWN, withdrawn_at=datetime.now(UTC))
        )
    await engine.dispose()


async def events_of(db_url: str, key: str) -> list[dict[str, Any]]:
    engine = create_async_engine(db_url)
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(col(OutboxMessage.event))
                .where(col(OutboxMessage.key) == key, col(OutboxMessage.topic) != "casebridge.case.monitoring.v1")
                .order_by(col(OutboxMessage.seq))
            )
        ).all()
    await engine.dispose()
    return [dict(r[0]) for r in rows]


async def count(db_url: str, model: type, **where: object) -> int:
    engine = create_async_engine(db_url)
    async with engine.connect() as conn:
        query = select(func.count()).select_from(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        result = int(await conn.scalar(query) or 0)
    await engine.dispose()
    return result


async def consented_case(client: httpx.AsyncClient, token: TokenFor, db_url: str) -> tuple[dict[str, Any], uuid.UUID]:
    case = await open_case(client, office(token))
    return case, await give_consent(db_url, case["beneficiary_id"])


async def propose(client: httpx.AsyncClient, token: TokenFor, case: dict[str, Any], **extra: object) -> httpx.Response:
    return await client.post(f"/v1/cases/{case['id']}/transfers", json=TO_DAKAR | extra, headers=office(token))


async def test_a_proposal_stores_the_consent_dry_run_as_its_manifest_and_emits_the_event(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    case, consent_id = await consented_case(client, token, test_db_url)
    response = await propose(client, token, case)
    assert response.status_code == 201, response.text
    transfer = response.json()
    assert response.headers["etag"] == '"1"'
    assert (transfer["status"], transfer["from_office_id"], transfer["to_office_id"]) == (
        "proposed",
        "de-berlin",
        "sn-dakar",
    )
    assert transfer["manifest"]["categories"] == sorted(CONSENTED)
    assert transfer["manifest"]["consent_ids"] == [str(consent_id)]
    withheld = {w["category"] for w in transfer["manifest"]["withheld"]}
    assert withheld == {c.value for c in DataCategory} - set(CONSENTED)
    proposed_at = datetime.fromisoformat(transfer["proposed_at"])
    assert datetime.fromisoformat(transfer["respond_by"]) - proposed_at == timedelta(days=7)
    assert datetime.fromisoformat(transfer["remind_at"]) - proposed_at == timedelta(days=4)
    assert [e["type"] for e in await events_of(test_db_url, case["id"])][-1] == "casebridge.case.transfer_proposed.v1"
    assert await count(test_db_url, AuditEntry, resource_type="case_transfer", resource_id=transfer["id"]) == 1


async def test_without_a_handover_consent_the_proposal_is_403_and_nothing_is_stored(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    case = await open_case(client, office(token))
    # a consent exists, but for another office and another purpose
    await give_consent(
        test_db_url,
        case["beneficiary_id"],
        {"data_categories": CONSENTED, "purposes": ["cross_border_handover"], "offices": ["iq-erbil"]},
        {"data_categories": CONSENTED, "purposes": ["referral_service_delivery"], "offices": ["sn-dakar"]},
    )
    response = await propose(client, token, case)
    assert (response.status_code, response.json()["code"]) == (403, "consent-required")
    assert response.headers["content-type"] == "application/problem+json"
    assert await count(test_db_url, CaseTransfer, case_id=uuid.UUID(case["id"])) == 0
    assert [e["type"] for e in await events_of(test_db_url, case["id"])] == ["casebridge.case.opened.v1"]


async def test_a_second_proposal_while_one_is_pending_is_409(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    case, _ = await consented_case(client, token, test_db_url)
    assert (await propose(client, token, case)).status_code == 201
    again = await propose(client, token, case)
    assert (again.status_code, again.json()["code"]) == (409, "transfer-already-pending")


async def test_a_retried_proposal_with_the_same_idempotency_key_replays_the_first_answer(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    case, _ = await consented_case(client, token, test_db_url)
    headers = {**office(token), "Idempotency-Key": f"transfer-{uuid.uuid4()}"}
    first = await client.post(f"/v1/cases/{case['id']}/transfers", json=TO_DAKAR, headers=headers)
    second = await client.post(f"/v1/cases/{case['id']}/transfers", json=TO_DAKAR, headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()
    assert await count(test_db_url, CaseTransfer, case_id=uuid.UUID(case["id"])) == 1


async def test_bad_input_is_422_naming_the_fields(client: httpx.AsyncClient, token: TokenFor, test_db_url: str) -> None:
    case, _ = await consented_case(client, token, test_db_url)
    response = await client.post(
        f"/v1/cases/{case['id']}/transfers",
        json={"to_office_id": "sn-dakar", "to_country": "Senegal", "respond_by": "2026-12-08T10:00:00"},
        headers=office(token),
    )
    assert response.status_code == 422
    assert {e["pointer"] for e in response.json()["errors"]} == {"#/to_organisation_id", "#/to_country", "#/respond_by"}
    own = await propose(client, token, case, to_office_id="de-berlin")
    assert (own.status_code, own.json()["code"]) == (422, "transfer-to-own-office")
    past = await propose(client, token, case, respond_by="2020-01-01T00:00:00Z")
    assert (past.status_code, past.json()["code"]) == (422, "invalid-transfer-deadline")


async def test_the_recipient_previews_only_the_consented_sections_and_what_is_withheld(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    case, _ = await consented_case(client, token, test_db_url)
    berlin = office(token)
    note = await client.post(
        f"/v1/cases/{case['id']}/notes", json={"body": "Wants to open a tailoring shop"}, headers=berlin
    )
    assert note.status_code == 201, note.text
    health = {"kind": "health", "summary": "Dialysis three times a week", "return_decision": "fit_to_return"}
    assert (await client.post(f"/v1/cases/{case['id']}/assessments", json=health, headers=berlin)).status_code == 201
    transfer = (await propose(client, token, case)).json()
    for who in ("sn-dakar-system", "de-berlin-system"):
        response = await client.get(f"/v1/transfers/{transfer['id']}", headers=office(token, who))
        assert response.status_code == 200, response.text
        preview = response.json()["preview"]
        summary = preview["case"]
        assert set(summary) == {"id", "programme", "stage", "opened_at", "owner_office_id"}  # no personal data
        assert (summary["id"], summary["owner_office_id"]) == (case["id"], "de-berlin")
        assert preview["sections"] == sorted(CONSENTED)
        assert "health_clinical" in {w["category"] for w in preview["withheld"]}
        assert preview["consent_still_covers"] is True
        assert (preview["beneficiary"]["given_name"], preview["beneficiary"]["born_on"]) == ("Awa", "1994-03-17")
        assert [n["body"] for n in preview["notes"]] == ["Wants to open a tailoring shop"]
        assert preview["assessments"] == []  # the health assessment is not consented to: not even its existence
        assert "Dialysis" not in response.text
    audited = await count(
        test_db_url, AuditEntry, resource_type="case_transfer", resource_id=transfer["id"], action="view"
    )
    assert audited == 2

    declined = await client.post(
        f"/v1/transfers/{transfer['id']}/decline",
        json={"reason": "outside_area"},
        headers=office(token, "sn-dakar-system"),
    )
    assert declined.status_code == 200
    after = (await client.get(f"/v1/transfers/{transfer['id']}", headers=office(token, "sn-dakar-system"))).json()
    assert (after["preview"]["notes"], after["preview"]["beneficiary"]) == ([], None)  # a declined offer shows nothing
    assert after["preview"]["consent_still_covers"] is False


async def test_an_unrelated_office_gets_404_everywhere(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    case, _ = await consented_case(client, token, test_db_url)
    transfer = (await propose(client, token, case)).json()
    erbil = office(token, "iq-erbil-system")
    proposal = await client.post(f"/v1/cases/{case['id']}/transfers", json=TO_DAKAR, headers=erbil)
    assert (proposal.status_code, proposal.json()["code"]) == (404, "case-not-found")
    calls = [
        client.get(f"/v1/transfers/{transfer['id']}", headers=erbil),
        client.post(f"/v1/transfers/{transfer['id']}/acceptance", headers=if_match(1, erbil)),
        client.post(f"/v1/transfers/{transfer['id']}/decline", json={"reason": "x"}, headers=erbil),
        client.post(f"/v1/transfers/{transfer['id']}/cancellation", json={}, headers=erbil),
    ]
    for call in calls:
        response = await call
        assert (response.status_code, response.json()["code"]) == (404, "transfer-not-found")
        assert case["id"] not in response.text
    unknown = await client.get(f"/v1/transfers/{uuid.uuid4()}", headers=office(token))
    assert (unknown.status_code, unknown.json()["code"]) == (404, "transfer-not-found")
    listed = await client.get("/v1/transfers?limit=200", headers=erbil)
    assert transfer["id"] not in {t["id"] for t in listed.json()["items"]}


async def test_lists_show_incoming_and_outgoing_transfers_in_pages(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    ids = []
    for _ in range(2):
        case, _ = await consented_case(client, token, test_db_url)
        ids.append((await propose(client, token, case)).json()["id"])
    incoming = await client.get(
        "/v1/transfers?role=incoming&status=proposed&limit=1", headers=office(token, "sn-dakar-system")
    )
    assert incoming.status_code == 200
    first = incoming.json()
    assert first["items"][0]["id"] == ids[1]
    assert first["next_cursor"]
    second = await client.get(
        f"/v1/transfers?role=incoming&status=proposed&limit=1&cursor={first['next_cursor']}",
        headers=office(token, "sn-dakar-system"),
    )
    assert second.json()["items"][0]["id"] == ids[0]
    outgoing = await client.get("/v1/transfers?role=outgoing&limit=200", headers=office(token))
    assert set(ids) <= {t["id"] for t in outgoing.json()["items"]}
    assert not set(ids) & {
        t["id"]
        for t in (await client.get("/v1/transfers?role=incoming&limit=200", headers=office(token))).json()["items"]
    }
    replayed = await client.get(f"/v1/transfers?role=outgoing&cursor={first['next_cursor']}", headers=office(token))
    assert (replayed.status_code, replayed.json()["code"]) == (400, "invalid-cursor")


async def test_acceptance_moves_ownership_and_the_sender_keeps_only_what_consent_allows(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    case = await open_case(client, office(token))
    # Berlin may keep the identity for its own case management; everything else only goes to Dakar
    await give_consent(
        test_db_url,
        case["beneficiary_id"],
        HANDOVER,
        {"data_categories": ["identity_biodata"], "purposes": ["case_management"], "offices": ["de-berlin"]},
    )
    transfer = (await propose(client, token, case)).json()
    dakar, berlin = office(token, "sn-dakar-system"), office(token)
    url = f"/v1/transfers/{transfer['id']}/acceptance"
    assert (await client.post(url, headers=dakar)).json()["code"] == "if-match-required"
    by_sender = await client.post(url, headers=if_match(1, berlin))
    assert (by_sender.status_code, by_sender.json()["code"]) == (403, "not-transfer-recipient")
    stale = await client.post(url, headers=if_match(7, dakar))
    assert (stale.status_code, stale.json()["code"]) == (412, "version-mismatch")
    accepted = await client.post(url, headers=if_match(1, dakar))
    assert accepted.status_code == 200, accepted.text
    assert (accepted.json()["status"], accepted.headers["etag"]) == ("accepted", '"2"')

    owned = await client.get(f"/v1/cases/{case['id']}", headers=dakar)
    assert owned.status_code == 200, owned.text
    assert (owned.json()["owner_office_id"], owned.json()["owner_organisation_id"]) == ("sn-dakar", "iom-senegal")
    assert owned.json()["version"] == case["version"] + 1
    # the screening results were not consented to for the handover: they stay behind, out of Dakar's sight
    held = {w["category"]: w["reason"] for w in owned.json()["withheld"]}
    assert held["vulnerability_results"] == "consent-does-not-cover"
    listed = (await client.get("/v1/cases?limit=200", headers=dakar)).json()["items"]
    (in_list,) = [c for c in listed if c["id"] == case["id"]]
    assert "vulnerability_results" in {w["category"] for w in in_list["withheld"]}  # the list holds back alike
    kept = await client.get(f"/v1/cases/{case['id']}", headers=berlin)
    assert kept.status_code == 200, kept.text
    assert kept.json()["owner_office_id"] == "sn-dakar"
    assert "identity_biodata" not in {w["category"] for w in kept.json().get("withheld", [])}
    types = [e["type"] for e in await events_of(test_db_url, case["id"])]
    assert types[-2:] == ["casebridge.case.transferred.v1", "casebridge.case.shared.v1"]
    again = await client.post(url, headers=if_match(2, dakar))
    assert (again.status_code, again.json()["code"]) == (409, "transfer-not-pending")


async def test_without_a_consent_for_the_sender_it_loses_sight_of_the_case_after_the_handover(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    case, _ = await consented_case(client, token, test_db_url)
    transfer = (await propose(client, token, case)).json()
    accepted = await client.post(
        f"/v1/transfers/{transfer['id']}/acceptance", headers=if_match(1, office(token, "sn-dakar-system"))
    )
    assert accepted.status_code == 200, accepted.text
    gone = await client.get(f"/v1/cases/{case['id']}", headers=office(token))
    assert (gone.status_code, gone.json()["code"]) == (404, "case-not-found")


async def test_identity_not_consented_for_the_handover_stays_out_of_the_new_owners_sight(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    case = await open_case(client, office(token))
    await give_consent(
        test_db_url,
        case["beneficiary_id"],
        {"data_categories": ["reintegration_plan"], "purposes": ["cross_border_handover"], "offices": ["sn-dakar"]},
    )
    transfer = (await propose(client, token, case)).json()
    dakar = office(token, "sn-dakar-system")
    assert (
        await client.post(f"/v1/transfers/{transfer['id']}/acceptance", headers=if_match(1, dakar))
    ).status_code == 200
    person = await client.get(f"/v1/beneficiaries/{case['beneficiary_id']}", headers=dakar)
    assert person.status_code == 200, person.text
    assert (person.json()["given_name"], person.json()["born_on"]) == (None, None)
    assert "identity_biodata" in {w["category"] for w in person.json()["withheld"]}
    # nor can the new owner find it out by filtering its case list on the country of origin: the newest case it
    # sees is this one, but not among those filtered on the (true) country
    newest = await client.get("/v1/cases?limit=1", headers=dakar)
    assert [c["id"] for c in newest.json()["items"]] == [case["id"]]
    filtered = await client.get("/v1/cases?limit=1&country_of_origin=SN", headers=dakar)
    assert case["id"] not in [c["id"] for c in filtered.json()["items"]]
    registered = await client.get(f"/v1/beneficiaries/{case['beneficiary_id']}", headers=office(token))
    assert registered.json()["given_name"] == "Awa"  # the registering office keeps its own record


async def test_acceptance_after_the_consent_was_withdrawn_is_403_and_changes_nothing(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    case, consent_id = await consented_case(client, token, test_db_url)
    transfer = (await propose(client, token, case)).json()
    await withdraw(test_db_url, consent_id)
    dakar = office(token, "sn-dakar-system")
    preview = (await client.get(f"/v1/transfers/{transfer['id']}", headers=dakar)).json()["preview"]
    assert preview["consent_still_covers"] is False
    refused = await client.post(f"/v1/transfers/{transfer['id']}/acceptance", headers=if_match(1, dakar))
    assert (refused.status_code, refused.json()["code"]) == (403, "consent-required")
    assert refused.json()["categories"] == sorted(CONSENTED)
    still = await client.get(f"/v1/cases/{case['id']}", headers=office(token))
    assert (still.status_code, still.json()["owner_office_id"]) == (200, "de-berlin")
    denied = await count(
        test_db_url, AuditEntry, resource_type="case_transfer", resource_id=transfer["id"], outcome="denied"
    )
    assert denied == 1


async def test_the_recipient_declines_and_the_sender_cancels(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    dakar, berlin = office(token, "sn-dakar-system"), office(token)
    case, _ = await consented_case(client, token, test_db_url)
    transfer = (await propose(client, token, case)).json()
    by_sender = await client.post(f"/v1/transfers/{transfer['id']}/decline", json={"reason": "x"}, headers=berlin)
    assert (by_sender.status_code, by_sender.json()["code"]) == (403, "not-transfer-recipient")
    declined = await client.post(
        f"/v1/transfers/{transfer['id']}/decline", json={"reason": "outside_area"}, headers=dakar
    )
    assert declined.status_code == 200, declined.text
    assert (declined.json()["status"], declined.json()["reason"]) == ("declined", "outside_area")
    ended = (await events_of(test_db_url, case["id"]))[-1]
    assert (ended["type"], ended["data"]["outcome"], ended["data"]["reason"]) == (
        "casebridge.case.transfer_ended.v1",
        "declined",
        "outside_area",
    )

    second = (await propose(client, token, case)).json()  # a declined transfer is no longer pending
    by_recipient = await client.post(f"/v1/transfers/{second['id']}/cancellation", json={}, headers=dakar)
    assert (by_recipient.status_code, by_recipient.json()["code"]) == (403, "not-transfer-sender")
    cancelled = await client.post(
        f"/v1/transfers/{second['id']}/cancellation", json={"reason": "return_postponed"}, headers=if_match(1, berlin)
    )
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    assert (await events_of(test_db_url, case["id"]))[-1]["data"]["outcome"] == "cancelled"
    late = await client.post(f"/v1/transfers/{second['id']}/acceptance", headers=if_match(2, dakar))
    assert (late.status_code, late.json()["code"]) == (409, "transfer-not-pending")


async def test_a_proposal_made_through_one_instance_is_accepted_through_a_fresh_one(
    fresh_database: str, oidc_issuer: str, token: TokenFor
) -> None:
    """The process survives a restart between its steps: all of it is in PostgreSQL, events in the outbox."""
    settings = Settings(database_url=fresh_database, oidc_issuer=oidc_issuer, environment="test")

    async def instance() -> LifespanManager:
        return LifespanManager(create_app(settings))

    async with await instance() as first:
        transport = httpx.ASGITransport(first.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://case-service") as client:
            case, _ = await consented_case(client, token, fresh_database)
            transfer = (await propose(client, token, case)).json()
    async with await instance() as second:  # a new app, a new engine: nothing carried over in memory
        transport = httpx.ASGITransport(second.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://case-service") as client:
            accepted = await client.post(
                f"/v1/transfers/{transfer['id']}/acceptance", headers=if_match(1, office(token, "sn-dakar-system"))
            )
            assert accepted.status_code == 200, accepted.text
    events = await events_of(fresh_database, case["id"])
    assert [e["type"] for e in events] == [
        "casebridge.case.opened.v1",
        "casebridge.case.transfer_proposed.v1",
        "casebridge.case.transferred.v1",
        "casebridge.case.shared.v1",
    ]
    assert events[2]["data"]["case_version"] == case["version"] + 1
    assert {e["data"]["transfer_id"] for e in events[1:3]} == {transfer["id"]}
    steps = await count(fresh_database, AuditEntry, resource_type="case_transfer", resource_id=transfer["id"])
    assert steps == 2
