"""Encryption at rest, erasure (crypto-shredding) and the access report over HTTP: real tokens, real PostgreSQL."""

import uuid
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from case_service.settings import Settings
from case_service.worker import IMPORT_JOBS, run_jobs_once
from casebridge_common.db import create_engine, session_factory
from casebridge_common.testing.plugin import TokenFor, bearer

WRITER = "cases:read cases:write cases.sensitive:read consents:write"
CONTROLLER = "cases:read cases:write cases:admin cases.sensitive:read audit:read"
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
HEALTH = {
    "kind": "health",
    "summary": "Insulin-dependent diabetes, needs a cold chain",
    "return_decision": "return_with_care_plan",
    "life_saving_treatment_unavailable_in_origin": False,
}
NEEDS = {"kind": "needs", "economic": "No income since return", "psychosocial": "Isolated from peers"}
SECRET_NOTE = "Disclosed trafficking by a cousin in Agadez"
ERASURE = {"reason": "Asked in writing after closure", "request_reference": "DSR-2026-0042"}


def office(token: TokenFor, client_id: str = "de-berlin-system", scope: str = WRITER) -> dict[str, str]:
    return bearer(token(client_id, "case-api", scope))


def controller(token: TokenFor) -> dict[str, str]:
    return office(token, "de-berlin-dpo", CONTROLLER)


def clinician(token: TokenFor) -> dict[str, str]:
    """Health findings are clinical (C4): only a clinical role reads them."""
    return office(token, "de-berlin-clinic", "cases:read cases.sensitive:read")


async def sql(test_db_url: str, query: str, **params: object) -> list[Any]:
    engine = create_async_engine(test_db_url)
    async with engine.connect() as conn:
        rows = list((await conn.execute(text(query), params)).all())
    await engine.dispose()
    return rows


async def person_with_case(
    client: httpx.AsyncClient, headers: dict[str, str], person: dict[str, str] = ADULT
) -> tuple[str, dict[str, Any]]:
    beneficiary = await client.post("/v1/beneficiaries", json=person, headers=headers)
    assert beneficiary.status_code == 201, beneficiary.text
    case = await client.post(
        "/v1/cases",
        json={"beneficiary_id": beneficiary.json()["id"], "programme": "return_reintegration"},
        headers=headers,
    )
    assert case.status_code == 201, case.text
    return beneficiary.json()["id"], case.json()


async def with_sensitive_records(client: httpx.AsyncClient, headers: dict[str, str], case: dict[str, Any]) -> str:
    for body in (HEALTH, NEEDS):
        recorded = await client.post(f"/v1/cases/{case['id']}/assessments", json=body, headers=headers)
        assert recorded.status_code == 201, recorded.text
    note = await client.post(
        f"/v1/cases/{case['id']}/notes", json={"body": SECRET_NOTE, "is_confidential": True}, headers=headers
    )
    assert note.status_code == 201, note.text
    assert note.json()["body"] == SECRET_NOTE  # the writer gets its plaintext back
    plain = await client.post(f"/v1/cases/{case['id']}/notes", json={"body": "Called back"}, headers=headers)
    assert plain.status_code == 201, plain.text
    return str(note.json()["id"])


async def end_case(client: httpx.AsyncClient, headers: dict[str, str], case_id: str) -> None:
    current = await client.get(f"/v1/cases/{case_id}", headers=headers)
    moved = await client.post(
        f"/v1/cases/{case_id}/stage-transitions",
        json={"to_stage": "withdrawn"},
        headers={**headers, "If-Match": current.headers["etag"]},
    )
    assert moved.status_code == 200, moved.text


async def test_sensitive_payloads_and_confidential_notes_are_ciphertext_in_the_tables(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    h = office(token)
    beneficiary_id, case = await person_with_case(client, h)
    await with_sensitive_records(client, h, case)
    assessments = await sql(
        test_db_url,
        "SELECT kind, data::text, sealed_data FROM assessments WHERE case_id = :c ORDER BY kind",
        c=uuid.UUID(case["id"]),
    )
    by_kind = {kind: (data, sealed) for kind, data, sealed in assessments}
    health_data, health_sealed = by_kind["health"]
    assert health_data == "{}"
    assert health_sealed is not None
    assert b"diabetes" not in health_sealed
    assert by_kind["needs"][1] is None  # C2 kinds stay plain
    assert "No income" in by_kind["needs"][0]
    notes = await sql(
        test_db_url,
        "SELECT body, sealed_body, is_confidential FROM case_notes WHERE case_id = :c",
        c=uuid.UUID(case["id"]),
    )
    confidential = [(b, s) for b, s, c in notes if c]
    assert confidential == [("", confidential[0][1])]
    assert SECRET_NOTE.encode() not in confidential[0][1]
    keys = await sql(
        test_db_url,
        "SELECT wrapped_key, key_version, destroyed_at FROM beneficiary_keys WHERE beneficiary_id = :b",
        b=uuid.UUID(beneficiary_id),
    )
    [(wrapped, key_version, destroyed_at)] = keys
    assert (wrapped is not None, key_version, destroyed_at) == (True, 1, None)
    shown = await client.get(f"/v1/cases/{case['id']}/assessments?kind=health", headers=clinician(token))
    assert shown.status_code == 200, shown.text
    assert shown.json()["items"][0]["data"]["summary"] == HEALTH["summary"]
    assert shown.json()["items"][0]["erased"] is False


async def test_erasure_is_refused_while_a_case_is_open_and_changes_nothing(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    h = office(token)
    beneficiary_id, case = await person_with_case(client, h)
    await with_sensitive_records(client, h, case)
    refused = await client.post(f"/v1/beneficiaries/{beneficiary_id}/erasure", json=ERASURE, headers=controller(token))
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    body = refused.json()
    assert body["code"] == "retention-hold"
    assert body["holds"] == [{"reason": "case-open", "case_id": case["id"], "legal_hold_id": None, "until": None}]
    assert (await client.get(f"/v1/beneficiaries/{beneficiary_id}", headers=h)).json()["given_name"] == "Awa"
    [(wrapped,)] = await sql(
        test_db_url, "SELECT wrapped_key FROM beneficiary_keys WHERE beneficiary_id = :b", b=uuid.UUID(beneficiary_id)
    )
    assert wrapped is not None


async def test_a_childs_case_is_kept_for_the_monitoring_period_after_it_ends(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    h = office(token)
    beneficiary_id, case = await person_with_case(client, h, CHILD)
    await end_case(client, h, case["id"])
    refused = await client.post(f"/v1/beneficiaries/{beneficiary_id}/erasure", json=ERASURE, headers=controller(token))
    assert (refused.status_code, refused.json()["code"]) == (409, "retention-hold")
    [hold] = refused.json()["holds"]
    assert (hold["reason"], hold["case_id"]) == ("child-post-closure-monitoring", case["id"])
    assert hold["until"] is not None


async def test_a_legal_hold_blocks_erasure_until_it_is_released(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    h = office(token)
    beneficiary_id, case = await person_with_case(client, h)
    await end_case(client, h, case["id"])
    url = f"/v1/beneficiaries/{beneficiary_id}"
    keyed = controller(token) | {"Idempotency-Key": f"hold-{uuid.uuid4()}"}
    hold = {"reason": "Witness in a pending prosecution"}
    placed = await client.post(f"{url}/legal-holds", json=hold, headers=keyed)
    assert placed.status_code == 201, placed.text
    replayed = await client.post(f"{url}/legal-holds", json=hold, headers=keyed)
    assert (replayed.headers["idempotent-replayed"], replayed.json()) == ("true", placed.json())
    refused = await client.post(f"{url}/erasure", json=ERASURE, headers=controller(token))
    assert refused.status_code == 409
    assert refused.json()["holds"][0] == {
        "reason": "legal-hold",
        "case_id": None,
        "legal_hold_id": placed.json()["id"],
        "until": None,
    }
    release = f"{url}/legal-holds/{placed.json()['id']}/release"
    released = await client.post(release, headers=controller(token))
    again = await client.post(release, headers=controller(token))
    assert (released.status_code, again.json()["released_at"]) == (200, released.json()["released_at"])
    assert (await client.post(f"{url}/erasure", json=ERASURE, headers=controller(token))).status_code == 201
    unknown = await client.post(f"{url}/legal-holds/{uuid.uuid4()}/release", headers=controller(token))
    assert (unknown.status_code, unknown.json()["code"]) == (404, "legal-hold-not-found")


async def test_erasure_destroys_the_key_anonymises_the_person_and_reads_show_the_sections_erased(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    h = office(token)
    beneficiary_id, case = await person_with_case(client, h)
    await with_sensitive_records(client, h, case)
    consent = await client.post(
        f"/v1/beneficiaries/{beneficiary_id}/consents",
        json={
            "given_by": "self",
            "method": "verbal_in_person",
            "interpreter": "Moussa Diallo",
            "notice_version": "notice-2026-01-fr",
            "scopes": [{"data_categories": ["identity_biodata"], "purposes": ["m_and_e"], "offices": ["de-berlin"]}],
        },
        headers=h,
    )
    assert consent.status_code == 201, consent.text
    await end_case(client, h, case["id"])
    erased = await client.post(f"/v1/beneficiaries/{beneficiary_id}/erasure", json=ERASURE, headers=controller(token))
    assert erased.status_code == 201, erased.text
    assert (erased.json()["case_ids"], erased.json()["requested_by"]) == ([case["id"]], "de-berlin-dpo")

    [(wrapped, destroyed_at)] = await sql(
        test_db_url,
        "SELECT wrapped_key, destroyed_at FROM beneficiary_keys WHERE beneficiary_id = :b",
        b=uuid.UUID(beneficiary_id),
    )
    assert (wrapped, destroyed_at is not None) == (None, True)
    person = (await client.get(f"/v1/beneficiaries/{beneficiary_id}", headers=h)).json()
    assert (person["given_name"], person["family_name"], person["born_on"]) == ("erased", "erased", "1994-01-01")
    [(interpreter, status, version)] = await sql(
        test_db_url,
        "SELECT interpreter, status, version FROM consent_records WHERE id = :i",
        i=uuid.UUID(consent.json()["id"]),
    )
    assert (interpreter, status, version) == (None, "given", 2)  # the terms stay as the record of what was allowed

    # reads degrade: the sensitive payload is gone, the rest of the case file is still there
    history = await client.get(f"/v1/cases/{case['id']}/assessments", headers=clinician(token))
    assert history.status_code == 200, history.text
    by_kind = {a["kind"]: a for a in history.json()["items"]}
    assert (by_kind["health"]["data"], by_kind["health"]["erased"]) == (None, True)
    history = await client.get(f"/v1/cases/{case['id']}/assessments?kind=needs", headers=h)
    assert history.json()["items"][0]["data"]["economic"] == NEEDS["economic"]
    notes = await client.get(f"/v1/cases/{case['id']}/notes", headers=h)
    assert notes.status_code == 200, notes.text
    assert sorted((n["is_confidential"], n["erased"], n["body"]) for n in notes.json()["items"]) == [
        (False, False, "Called back"),
        (True, True, None),
    ]
    report = await client.get(f"/v1/beneficiaries/{beneficiary_id}/access-report", headers=controller(token))
    assert report.status_code == 200, report.text
    [record] = report.json()["cases"]
    health = next(a for a in record["assessments"] if a["kind"] == "health")
    assert (health["erased"], health["data"]) == (True, None)
    assert [(n["erased"], n["body"]) for n in record["notes"] if n["is_confidential"]] == [(True, None)]
    assert report.json()["erasure"]["request_reference"] == "DSR-2026-0042"

    [(event,)] = await sql(
        test_db_url,
        "SELECT event FROM outbox_messages WHERE key = :k AND event->>'type' = 'casebridge.beneficiary.erased.v1'",
        k=beneficiary_id,
    )
    assert event["data"]["case_ids"] == [case["id"]]
    assert set(event["data"]) == {"beneficiary_id", "case_ids", "erased_at"}
    [(categories,)] = await sql(
        test_db_url,
        "SELECT categories FROM audit_entries WHERE action = 'erase' AND resource_id = :r",
        r=beneficiary_id,
    )
    assert {"identity_biodata", "health_clinical", "vulnerability_results"} <= set(categories)

    late = await client.post(
        f"/v1/cases/{case['id']}/notes", json={"body": "New disclosure", "is_confidential": True}, headers=h
    )
    assert (late.status_code, late.json()["code"]) == (409, "beneficiary-erased")


async def test_erasure_is_idempotent(client: httpx.AsyncClient, token: TokenFor, test_db_url: str) -> None:
    h = office(token)
    beneficiary_id, case = await person_with_case(client, h)
    await end_case(client, h, case["id"])
    url = f"/v1/beneficiaries/{beneficiary_id}/erasure"
    first = await client.post(url, json=ERASURE, headers=controller(token))
    again = await client.post(
        url, json={"reason": "sent twice", "request_reference": "DSR-x"}, headers=controller(token)
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    events = await sql(
        test_db_url,
        "SELECT count(*) FROM outbox_messages WHERE key = :k AND event->>'type' = 'casebridge.beneficiary.erased.v1'",
        k=beneficiary_id,
    )
    assert events == [(1,)]
    person = (await client.get(f"/v1/beneficiaries/{beneficiary_id}", headers=h)).json()
    assert person["version"] == 2  # anonymised once


async def test_legacy_plaintext_rows_are_read_as_they_are_and_sealed_then_shredded_by_erasure(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    """Rows written before encryption at rest carry no sealed value: reads accept them; erasure seals them under
    the key before destroying it, so they are shredded with everything else."""
    h = office(token)
    beneficiary_id, case = await person_with_case(client, h)
    legacy = uuid.uuid4()
    await sql_exec(
        test_db_url,
        "INSERT INTO assessments (id, case_id, kind, version, is_sensitive, data, recorded_by, recorded_at) "
        "VALUES (:id, :c, 'vulnerability_screening', 1, true, :d, 'legacy', now())",
        id=legacy,
        c=uuid.UUID(case["id"]),
        d='{"categories": ["victim_of_trafficking"], "phase": "pre_departure"}',
    )
    shown = await client.get(f"/v1/cases/{case['id']}/assessments?kind=vulnerability_screening", headers=h)
    assert shown.json()["items"][0]["data"]["categories"] == ["victim_of_trafficking"]
    await end_case(client, h, case["id"])
    assert (
        await client.post(f"/v1/beneficiaries/{beneficiary_id}/erasure", json=ERASURE, headers=controller(token))
    ).status_code == 201
    [(data, sealed)] = await sql(test_db_url, "SELECT data::text, sealed_data FROM assessments WHERE id = :i", i=legacy)
    assert (data, sealed is not None) == ("{}", True)
    assert b"trafficking" not in sealed
    [(categories,)] = await sql(
        test_db_url, "SELECT vulnerability_categories FROM cases WHERE id = :i", i=uuid.UUID(case["id"])
    )
    assert categories == []


async def sql_exec(test_db_url: str, statement: str, **params: object) -> None:
    engine = create_async_engine(test_db_url)
    async with engine.begin() as conn:
        await conn.execute(text(statement), params)
    await engine.dispose()


async def test_only_a_data_controller_or_supervisor_of_the_persons_office_may_act(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    beneficiary_id, _ = await person_with_case(client, office(token))
    clinic = office(token, "de-berlin-clinic", CONTROLLER)
    for response in (
        await client.post(f"/v1/beneficiaries/{beneficiary_id}/erasure", json=ERASURE, headers=clinic),
        await client.get(f"/v1/beneficiaries/{beneficiary_id}/access-report", headers=clinic),
    ):
        assert (response.status_code, response.json()["code"]) == (403, "subject-rights-role-required")
    erbil = office(token, "iq-erbil-system", CONTROLLER)
    for target in (beneficiary_id, str(uuid.uuid4())):
        for response in (
            await client.post(f"/v1/beneficiaries/{target}/erasure", json=ERASURE, headers=erbil),
            await client.get(f"/v1/beneficiaries/{target}/access-report", headers=erbil),
            await client.post(f"/v1/beneficiaries/{target}/legal-holds", json={"reason": "x"}, headers=erbil),
        ):
            assert (response.status_code, response.json()["code"]) == (404, "beneficiary-not-found")
    no_audit_scope = office(token, "de-berlin-dpo", "cases:read cases:write")
    refused = await client.get(f"/v1/beneficiaries/{beneficiary_id}/access-report", headers=no_audit_scope)
    assert (refused.status_code, refused.json()["code"]) == (403, "insufficient-scope")
    # erasing and holding records are the cases API's admin operations: the DPO's token must carry cases:admin
    no_admin_scope = office(token, "de-berlin-dpo", "cases:read cases:write audit:read")
    url = f"/v1/beneficiaries/{beneficiary_id}"
    for response in (
        await client.post(f"{url}/erasure", json=ERASURE, headers=no_admin_scope),
        await client.post(f"{url}/legal-holds", json={"reason": "x"}, headers=no_admin_scope),
        await client.post(f"{url}/legal-holds/{uuid.uuid4()}/release", headers=no_admin_scope),
    ):
        assert (response.status_code, response.json()["code"]) == (403, "insufficient-scope")
    assert (await client.get(url, headers=office(token))).json()["given_name"] == ADULT["given_name"]
    bad = await client.post(
        f"/v1/beneficiaries/{beneficiary_id}/erasure", json={"reason": ""}, headers=controller(token)
    )
    assert bad.status_code == 422
    assert {e["pointer"] for e in bad.json()["errors"]} >= {"#/reason", "#/request_reference"}


async def test_the_access_report_holds_everything_about_the_person_and_every_disclosure(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    h = office(token)
    beneficiary_id, case = await person_with_case(client, h)
    note_id = await with_sensitive_records(client, h, case)
    consent = await client.post(
        f"/v1/beneficiaries/{beneficiary_id}/consents",
        json={
            "given_by": "self",
            "method": "written",
            "notice_version": "notice-2026-01-fr",
            "scopes": [
                {
                    "data_categories": ["identity_biodata", "reintegration_plan"],
                    "purposes": ["case_management", "cross_border_handover"],
                    "offices": ["sn-dakar"],
                }
            ],
        },
        headers=h,
    )
    assert consent.status_code == 201, consent.text
    share = await client.post(
        f"/v1/cases/{case['id']}/shares", json={"office_id": "sn-dakar", "mode": "view"}, headers=h
    )
    assert share.status_code == 201, share.text
    dakar_read = await client.get(f"/v1/cases/{case['id']}", headers=office(token, "sn-dakar-system", "cases:read"))
    assert dakar_read.status_code == 200, dakar_read.text
    transfer = await client.post(
        f"/v1/cases/{case['id']}/transfers",
        json={"to_office_id": "sn-dakar", "to_organisation_id": "iom-senegal", "to_country": "SN"},
        headers=h,
    )
    assert transfer.status_code == 201, transfer.text

    response = await client.get(f"/v1/beneficiaries/{beneficiary_id}/access-report", headers=controller(token))
    assert response.status_code == 200, response.text
    assert "content-disposition" not in response.headers
    report = response.json()
    assert (report["beneficiary"]["given_name"], report["erasure"], report["withheld"]) == ("Awa", None, [])
    [record] = report["cases"]
    health = next(a for a in record["assessments"] if a["kind"] == "health")
    assert (health["data"]["summary"], health["erased"]) == (HEALTH["summary"], False)  # opened from the vault
    assert {n["id"]: n["body"] for n in record["notes"]}[note_id] == SECRET_NOTE
    [given] = report["consents"]
    assert (given["id"], given["status"], given["withdrawals"]) == (consent.json()["id"], "given", [])
    kinds = {(d["kind"], d["recipient_office_id"]) for d in report["disclosures"]}
    assert {("share", "sn-dakar"), ("read", "sn-dakar")} <= kinds
    read = next(d for d in report["disclosures"] if d["kind"] == "read")
    assert (read["case_id"], read["basis"], read["purpose"]) == (case["id"], consent.json()["id"], "case_management")
    assert not any(d["recipient_office_id"] == "de-berlin" and d["kind"] == "read" for d in report["disclosures"])
    handover = next(d for d in report["disclosures"] if d["kind"] == "transfer")
    assert (handover["recipient_office_id"], handover["status"], handover["basis"]) == (
        "sn-dakar",
        "proposed",
        consent.json()["id"],
    )
    assert set(handover["categories"]) == {"identity_biodata", "reintegration_plan"}

    exports = await sql(
        test_db_url,
        "SELECT count(*) FROM audit_entries WHERE action = 'export' AND resource_id = :r",
        r=beneficiary_id,
    )
    assert exports == [(1,)]
    download = await client.get(
        f"/v1/beneficiaries/{beneficiary_id}/access-report?download=true", headers=controller(token)
    )
    assert download.headers["content-disposition"] == f'attachment; filename="access-report-{beneficiary_id}.json"'
    assert download.json()["beneficiary_id"] == beneficiary_id
    assert ("export", "de-berlin") in {(d["kind"], d["recipient_office_id"]) for d in download.json()["disclosures"]}


async def test_without_the_sensitive_scope_the_report_lists_the_sensitive_sections_as_withheld(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    h = office(token)
    beneficiary_id, case = await person_with_case(client, h)
    await with_sensitive_records(client, h, case)
    plain = office(token, "de-berlin-dpo", "cases:read audit:read")
    report = (await client.get(f"/v1/beneficiaries/{beneficiary_id}/access-report", headers=plain)).json()
    assert report["withheld"] == ["confidential_notes", "sensitive_assessments"]
    [record] = report["cases"]
    assert {a["kind"]: a["data"] is None for a in record["assessments"]} == {"health": True, "needs": False}


PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n"


async def upload(
    client: httpx.AsyncClient, headers: dict[str, str], case_id: str, kind: str, filename: str
) -> dict[str, Any]:
    created = await client.post(
        f"/v1/cases/{case_id}/documents",
        files={"file": (filename, PDF, "application/pdf")},
        data={"kind": kind, "description": f"{kind} of Awa"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    return dict(created.json())


async def with_documents_and_a_visit(
    client: httpx.AsyncClient, headers: dict[str, str], case_id: str, test_db_url: str
) -> tuple[dict[str, str], dict[str, Any]]:
    """A medical record, a passport, a deleted certificate, and a held follow-up visit with both kinds of notes."""
    documents = {
        kind: (await upload(client, headers, case_id, kind, f"{kind}.pdf"))["id"]
        for kind in ("medical_record", "identity_document", "certificate")
    }
    deleted = await client.delete(f"/v1/cases/{case_id}/documents/{documents['certificate']}", headers=headers)
    assert deleted.status_code == 204, deleted.text
    # where the earlier stages would have brought the case (the lifecycle tests walk them)
    await sql_exec(test_db_url, "UPDATE cases SET stage = 'implementation' WHERE id = :i", i=uuid.UUID(case_id))
    today = (await client.get(f"/v1/cases/{case_id}", headers=headers)).json()["opened_at"][:10]
    visit = await client.post(
        f"/v1/cases/{case_id}/follow-ups", json={"planned_on": today, "kind": "home_visit"}, headers=headers
    )
    assert visit.status_code == 201, visit.text
    held = await client.post(
        f"/v1/cases/{case_id}/follow-ups/{visit.json()['id']}/outcome",
        json={
            "status": "completed",
            "held_on": today,
            "outcome": "plan_on_track",
            "notes": "Shop open six days a week",
            "psychosocial_notes": "Sleeps better since the visit",
        },
        headers={**headers, "If-Match": '"1"'},
    )
    assert held.status_code == 200, held.text
    return documents, dict(held.json())


async def test_the_access_report_lists_document_metadata_and_follow_up_visits_by_the_disclosure_rules(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    h = office(token)
    beneficiary_id, case = await person_with_case(client, h)
    documents, visit = await with_documents_and_a_visit(client, h, case["id"], test_db_url)

    full = await client.get(f"/v1/beneficiaries/{beneficiary_id}/access-report", headers=controller(token))
    assert full.status_code == 200, full.text
    assert full.json()["withheld"] == []
    [record] = full.json()["cases"]
    by_kind = {d["kind"]: d for d in record["documents"]}
    assert {k: (d["id"], d["filename"]) for k, d in by_kind.items()} == {
        kind: (documents[kind], f"{kind}.pdf") for kind in documents
    }
    assert by_kind["medical_record"]["description"] == "medical_record of Awa"
    assert (by_kind["certificate"]["deleted_by"], by_kind["certificate"]["deleted_at"] is not None) == (
        "de-berlin-system",
        True,
    )
    assert by_kind["identity_document"]["deleted_at"] is None
    assert all("content" not in d for d in record["documents"])  # metadata, never the content
    assert (by_kind["medical_record"]["size_bytes"], by_kind["medical_record"]["erased"]) == (len(PDF), False)
    [seen] = record["follow_ups"]
    assert (seen["id"], seen["status"], seen["outcome"], seen["notes"], seen["psychosocial_notes"]) == (
        visit["id"],
        "completed",
        "plan_on_track",
        "Shop open six days a week",
        "Sleeps better since the visit",
    )

    plain = office(token, "de-berlin-dpo", "cases:read audit:read")
    report = (await client.get(f"/v1/beneficiaries/{beneficiary_id}/access-report", headers=plain)).json()
    assert {"follow_up_outcomes", "sensitive_document_metadata"} <= set(report["withheld"])
    [record] = report["cases"]
    by_kind = {d["kind"]: d for d in record["documents"]}
    # identity documents and certificates are personal data; medical records are clinical (encrypted at rest)
    assert {k: d["filename"] for k, d in by_kind.items()} == {
        "medical_record": None,
        "identity_document": "identity_document.pdf",
        "certificate": "certificate.pdf",
    }
    assert (by_kind["medical_record"]["description"], by_kind["medical_record"]["sha256"]) == (
        None,
        by_kind["identity_document"]["sha256"],
    )
    [seen] = record["follow_ups"]
    assert (seen["status"], seen["planned_on"], seen["outcome"], seen["notes"], seen["psychosocial_notes"]) == (
        "completed",
        visit["planned_on"],
        None,
        None,
        None,
    )


async def test_after_erasure_the_report_shows_documents_and_visit_notes_as_erased(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    h = office(token)
    beneficiary_id, case = await person_with_case(client, h)
    documents, _ = await with_documents_and_a_visit(client, h, case["id"], test_db_url)
    await sql_exec(test_db_url, "UPDATE cases SET stage = 'withdrawn' WHERE id = :i", i=uuid.UUID(case["id"]))
    erased = await client.post(f"/v1/beneficiaries/{beneficiary_id}/erasure", json=ERASURE, headers=controller(token))
    assert erased.status_code == 201, erased.text
    report = (await client.get(f"/v1/beneficiaries/{beneficiary_id}/access-report", headers=controller(token))).json()
    [record] = report["cases"]
    assert {(d["id"], d["filename"], d["description"], d["erased"]) for d in record["documents"]} == {
        (document_id, None, None, True) for document_id in documents.values()
    }
    [seen] = record["follow_ups"]
    assert (seen["erased"], seen["notes"], seen["psychosocial_notes"], seen["outcome"]) == (
        True,
        None,
        None,
        "plan_on_track",
    )


IMPORT_HEADER = "External ID,First Name,Surname,Sex,Date of birth,Nationality,Programme,confirm_not_duplicate"


async def drain_imports(test_db_url: str, oidc_issuer: str) -> None:
    """The worker's own import job, until no batch is left."""
    settings = Settings(database_url=test_db_url, oidc_issuer=oidc_issuer, environment="test")  # type: ignore[arg-type]
    engine = create_engine(test_db_url, pool_size=1)
    try:
        for _ in range(100):
            if not (await run_jobs_once(session_factory(engine), settings, IMPORT_JOBS)).get("caseload-imports"):
                break
    finally:
        await engine.dispose()


async def test_erasure_scrubs_the_persons_import_rows_down_to_row_number_outcome_and_problems(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str, oidc_issuer: str
) -> None:
    tag = uuid.uuid4().hex[:8]
    person = f"Awa,Ndiaye{tag},F,1971-04-0{uuid.uuid4().int % 9 + 1},SN"
    legacy = "\n".join(
        [
            IMPORT_HEADER,
            f"{tag}-1,{person},return_reintegration,true",  # row 2: the person
            f"{tag}-1b, AWA ,ndiaye{tag},female,{person.split(',')[3]},SN,return_reintegration,true",  # same content
            f"{tag}-2,Mamadou,Sow{tag},M,1967-05-23,SN,return_reintegration,true",  # row 4: someone else
            f"{tag}-1,{person},asylum,true",  # row 5: the person's legacy number, rejected
        ]
    )
    h = office(token)
    submitted = await client.post("/v1/imports", files={"file": ("legacy.csv", legacy.encode())}, headers=h)
    assert submitted.status_code == 202, submitted.text
    import_id = submitted.json()["id"]
    await drain_imports(test_db_url, oidc_issuer)
    columns = "row_number, outcome, external_id, content_hash, beneficiary_id, case_id, cells, problems"
    before = {
        r[0]: r
        for r in await sql(test_db_url, f"SELECT {columns} FROM case_import_rows WHERE import_id = :i", i=import_id)  # noqa: S608 - fixed columns
    }
    assert [before[n][1] for n in (2, 3, 4, 5)] == ["imported", "skipped", "imported", "rejected"]
    beneficiary_id, case_id = before[2][4], before[2][5]
    await sql_exec(test_db_url, "UPDATE cases SET stage = 'withdrawn' WHERE id = :i", i=case_id)

    erased = await client.post(f"/v1/beneficiaries/{beneficiary_id}/erasure", json=ERASURE, headers=controller(token))
    assert erased.status_code == 201, erased.text
    after = {
        r[0]: r
        for r in await sql(test_db_url, f"SELECT {columns} FROM case_import_rows WHERE import_id = :i", i=import_id)  # noqa: S608 - fixed columns
    }
    for number in (2, 3, 5):
        assert after[number][:2] == before[number][:2]  # the row number and outcome stay
        assert after[number][2:7] == (None, None, None, None, None)
    assert after[5][7] == before[5][7] != []  # the rejection's problems (codes, no values) stay for the report
    assert after[4] == before[4]  # someone else's row is untouched
    assert str(before[2][3]) not in str(await sql(test_db_url, "SELECT * FROM case_import_rows"))
    job = (await client.get(f"/v1/imports/{import_id}", headers=h)).json()
    assert (job["imported"], job["skipped"], job["rejected"]) == (2, 1, 1)
    [rejected] = (await client.get(f"/v1/imports/{import_id}/rejections", headers=h)).json()["items"]
    assert (rejected["row_number"], rejected["external_id"]) == (5, None)
