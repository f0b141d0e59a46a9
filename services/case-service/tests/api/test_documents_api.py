"""Documents and the beneficiary's plan copy over HTTP, on real PostgreSQL with real tokens."""

import hashlib
import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import col

from case_service.main import create_app
from case_service.settings import Settings
from casebridge_common.audit import AuditEntry
from casebridge_common.testing.plugin import TokenFor, bearer

RW = "cases:read cases:write"
CLINICAL = "cases:read cases:write cases.sensitive:read"
AWA = {
    "given_name": "Awa",
    "family_name": "Ndiaye",
    "sex": "female",
    "born_on": "1994-03-17",
    "nationality": "SN",
}
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + bytes(range(256)) + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64


def office(token: TokenFor, client_id: str = "de-berlin-system", scope: str = RW) -> dict[str, str]:
    return bearer(token(client_id, "case-api", scope))


def someone(**extra: object) -> dict[str, object]:
    """A person no earlier test registered, so duplicate detection lets them through."""
    born_on = date(1960, 1, 1) + timedelta(days=secrets.randbelow(40 * 365))
    return AWA | {"family_name": f"Ndiaye {uuid.uuid4().hex[:10]}", "born_on": born_on.isoformat()} | extra


async def open_case(
    client: httpx.AsyncClient, headers: dict[str, str], person: dict[str, object] | None = None
) -> dict[str, Any]:
    beneficiary = await client.post("/v1/beneficiaries", json=person or someone(), headers=headers)
    assert beneficiary.status_code == 201, beneficiary.text
    case = await client.post(
        "/v1/cases",
        json={"beneficiary_id": beneficiary.json()["id"], "programme": "return_reintegration"},
        headers=headers,
    )
    assert case.status_code == 201, case.text
    return dict(case.json())


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    case_id: str,
    content: bytes = PDF,
    *,
    kind: str = "travel_document",
    content_type: str = "application/pdf",
    filename: str = "laissez-passer Awa.pdf",
    **form: str,
) -> httpx.Response:
    return await client.post(
        f"/v1/cases/{case_id}/documents",
        files={"file": (filename, content, content_type)},
        data={"kind": kind, **form},
        headers=headers,
    )


async def raw_rows(test_db_url: str, case_id: str) -> list[Any]:
    engine = create_async_engine(test_db_url)
    async with engine.connect() as conn:
        result = await conn.exec_driver_sql(
            "SELECT sealed_content, sealed_metadata, sha256, size_bytes FROM case_documents WHERE case_id = $1",
            (uuid.UUID(case_id),),
        )
        rows = list(result.all())
    await engine.dispose()
    return rows


async def audit_of(test_db_url: str, resource_id: str) -> list[AuditEntry]:
    engine = create_async_engine(test_db_url)
    async with engine.connect() as conn:
        rows = (await conn.execute(select(AuditEntry).where(col(AuditEntry.resource_id) == resource_id))).all()
    await engine.dispose()
    return [AuditEntry.model_validate(dict(r._mapping)) for r in rows]


@pytest.fixture(scope="module")
async def small_client(test_db_url: str, oidc_issuer: str) -> AsyncIterator[httpx.AsyncClient]:
    """The case API with a 1 KiB document limit."""
    settings = Settings(database_url=test_db_url, oidc_issuer=oidc_issuer, environment="test", document_max_bytes=1024)
    async with LifespanManager(create_app(settings)) as manager:
        transport = httpx.ASGITransport(manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://case-service") as client:
            yield client


async def test_an_uploaded_document_downloads_byte_for_byte_and_is_stored_encrypted(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    h = office(token)
    case = await open_case(client, h)
    created = await upload(client, h, case["id"], description="Issued by the consulate")
    assert created.status_code == 201, created.text
    document = created.json()
    assert document["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert (document["kind"], document["media_type"], document["filename"], document["size_bytes"]) == (
        "travel_document",
        "application/pdf",
        "laissez-passer Awa.pdf",
        len(PDF),
    )

    download = await client.get(f"/v1/cases/{case['id']}/documents/{document['id']}/content", headers=h)
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"laissez-passer Awa.pdf\"; filename*=UTF-8''laissez-passer%20Awa.pdf"
    )

    [row] = await raw_rows(test_db_url, case["id"])
    sealed_content, sealed_metadata = bytes(row.sealed_content), bytes(row.sealed_metadata)
    assert sealed_content[:1] == b"\x01"
    assert len(sealed_content) == len(PDF) + 29
    assert b"%PDF" not in sealed_content
    assert bytes(range(256)) not in sealed_content
    assert b"laissez-passer" not in sealed_metadata
    assert b"consulate" not in sealed_metadata
    assert (row.sha256, row.size_bytes) == (document["sha256"], len(PDF))

    read = await client.get(f"/v1/cases/{case['id']}/documents/{document['id']}", headers=h)
    assert read.json()["description"] == "Issued by the consulate"
    listed = await client.get(f"/v1/cases/{case['id']}/documents", headers=h)
    assert [d["id"] for d in listed.json()["items"]] == [document["id"]]
    actions = {(e.action, e.outcome) for e in await audit_of(test_db_url, document["id"])}
    assert {("create", "allowed"), ("view", "allowed"), ("export", "allowed")} <= actions


async def test_an_oversized_document_is_413_and_nothing_is_stored(
    small_client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    h = office(token)
    case = await open_case(small_client, h)
    response = await upload(small_client, h, case["id"], PDF + b"x" * 1024)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert (response.json()["code"], response.json()["max_bytes"]) == ("document-too-large", 1024)
    assert (await upload(small_client, h, case["id"], PDF)).status_code == 201
    assert len(await raw_rows(test_db_url, case["id"])) == 1


@pytest.mark.parametrize(
    ("content", "content_type", "code"),
    [
        (b"<html><script>alert(1)</script></html>", "application/pdf", "document-type-not-allowed"),
        (b"MZ\x90\x00\x03 a renamed executable", "image/jpeg", "document-type-not-allowed"),
        (PDF, "text/html", "document-type-not-allowed"),
        (PNG, "application/pdf", "document-type-mismatch"),
    ],
)
async def test_content_that_is_not_what_it_claims_is_415_and_nothing_is_stored(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str, content: bytes, content_type: str, code: str
) -> None:
    h = office(token)
    case = await open_case(client, h)
    response = await upload(client, h, case["id"], content, content_type=content_type)
    assert response.status_code == 415, response.text
    assert response.json()["code"] == code
    assert await raw_rows(test_db_url, case["id"]) == []


async def test_bad_form_fields_are_422(client: httpx.AsyncClient, token: TokenFor) -> None:
    h = office(token)
    case = await open_case(client, h)
    unknown_kind = await upload(client, h, case["id"], kind="selfie")
    assert (unknown_kind.status_code, unknown_kind.json()["code"]) == (422, "validation-error")
    empty = await upload(client, h, case["id"], b"")
    assert (empty.status_code, empty.json()["code"]) == (422, "document-empty")
    no_file = await client.post(f"/v1/cases/{case['id']}/documents", data={"kind": "other"}, headers=h)
    assert no_file.status_code == 422


async def test_another_office_gets_404_for_every_document_route(client: httpx.AsyncClient, token: TokenFor) -> None:
    h = office(token)
    case = await open_case(client, h)
    document = (await upload(client, h, case["id"])).json()
    dakar = office(token, "sn-dakar-system")
    base = f"/v1/cases/{case['id']}/documents"
    for response in (
        await client.get(base, headers=dakar),
        await client.get(f"{base}/{document['id']}", headers=dakar),
        await client.get(f"{base}/{document['id']}/content", headers=dakar),
        await client.delete(f"{base}/{document['id']}", headers=dakar),
        await upload(client, dakar, case["id"]),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "case-not-found"
    real, fake = await upload(client, dakar, case["id"]), await upload(client, dakar, str(uuid.uuid4()))
    assert sorted(real.headers) == sorted(fake.headers)
    assert real.json()["case_id"] == case["id"]
    varying = {"instance", "trace_id", "case_id"}
    assert {k: v for k, v in real.json().items() if k not in varying} == {
        k: v for k, v in fake.json().items() if k not in varying
    }


async def test_a_medical_record_is_shown_only_to_clinical_readers(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    h = office(token)
    case = await open_case(client, h)
    created = await upload(client, h, case["id"], kind="medical_record", filename="hiv-test.pdf")
    assert created.status_code == 201
    record = created.json()
    assert record["filename"] is None
    assert record["withheld"][0]["category"] == "health_clinical"
    listed = (await client.get(f"/v1/cases/{case['id']}/documents", headers=h)).json()
    assert listed["items"] == []
    assert {w["category"] for w in listed["withheld"]} >= {"health_clinical"}
    hidden = await client.get(f"/v1/cases/{case['id']}/documents/{record['id']}/content", headers=h)
    assert (hidden.status_code, hidden.json()["code"]) == (404, "document-not-found")
    assert ("view", "denied") in {(e.action, e.outcome) for e in await audit_of(test_db_url, record["id"])}

    clinic = office(token, "de-berlin-clinic", CLINICAL)
    shown = await client.get(f"/v1/cases/{case['id']}/documents/{record['id']}", headers=clinic)
    assert shown.status_code == 200, shown.text
    assert shown.json()["filename"] == "hiv-test.pdf"
    content = await client.get(f"/v1/cases/{case['id']}/documents/{record['id']}/content", headers=clinic)
    assert content.content == PDF


async def test_a_deleted_document_leaves_every_read(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    h = office(token)
    case = await open_case(client, h)
    document = (await upload(client, h, case["id"], kind="certificate")).json()
    base = f"/v1/cases/{case['id']}/documents"
    assert (await client.delete(f"{base}/{document['id']}", headers=h)).status_code == 204
    assert (await client.get(f"{base}/{document['id']}", headers=h)).status_code == 404
    assert (await client.get(base, headers=h)).json()["items"] == []
    again = await client.delete(f"{base}/{document['id']}", headers=h)
    assert (again.status_code, again.json()["code"]) == (404, "document-not-found")
    assert ("delete", "allowed") in {(e.action, e.outcome) for e in await audit_of(test_db_url, document["id"])}


async def test_documents_page_newest_first_with_a_cursor(client: httpx.AsyncClient, token: TokenFor) -> None:
    h = office(token)
    case = await open_case(client, h)
    ids = [(await upload(client, h, case["id"], filename=f"scan-{n}.pdf")).json()["id"] for n in range(3)]
    first = (await client.get(f"/v1/cases/{case['id']}/documents?limit=2", headers=h)).json()
    assert [d["id"] for d in first["items"]] == ids[::-1][:2]
    rest = await client.get(f"/v1/cases/{case['id']}/documents?limit=2&cursor={first['next_cursor']}", headers=h)
    assert ([d["id"] for d in rest.json()["items"]], rest.json()["next_cursor"]) == ([ids[0]], None)
    bad = await client.get(f"/v1/cases/{case['id']}/documents?cursor=not-a-cursor", headers=h)
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid-cursor")


async def test_a_repeated_upload_with_the_same_idempotency_key_is_replayed(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    h = office(token)
    case = await open_case(client, h)
    key = {**h, "Idempotency-Key": str(uuid.uuid4())}
    first, second = await upload(client, key, case["id"]), await upload(client, key, case["id"])
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json()["id"] == first.json()["id"]
    assert len(await raw_rows(test_db_url, case["id"])) == 1
    other = await upload(client, key, case["id"], PNG, content_type="image/png")
    assert (other.status_code, other.json()["code"]) == (422, "idempotency-key-reused")


PLAN: dict[str, Any] = {
    "drafted_in": "origin",
    "content": {
        "place_of_return": "Thiès <script>alert(1)</script>",
        "summary_economic": "Tailoring micro-business",
        "items": [{"type": "income_generating_activity", "income_generating_sub_type": "individual_microbusiness"}],
        "grant_currency": "XOF",
        "grant_lines": [{"description": "Sewing machine", "estimated_cost": 250000}],
        "estimated_duration_months": 12,
        "exit_strategy": "<img src=x onerror=alert(1)>",
    },
}


async def draft(
    client: httpx.AsyncClient, headers: dict[str, str], person: dict[str, object] | None = None
) -> dict[str, Any]:
    case = await open_case(client, headers, person)
    response = await client.post(f"/v1/cases/{case['id']}/plans", json=PLAN, headers=headers)
    assert response.status_code == 201, response.text
    return case


async def test_the_beneficiary_copy_is_printable_french_html_with_every_value_escaped(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    h = office(token)
    case = await draft(client, h)
    response = await client.get(f"/v1/cases/{case['id']}/plans/1/beneficiary-copy?language=fr", headers=h)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert (response.headers["content-language"], response.headers["x-plan-copy-language-fallback"]) == ("fr", "false")
    html = response.text
    assert '<html lang="fr" dir="ltr">' in html
    assert "Plan de réintégration" in html
    assert "Exemplaire du bénéficiaire" in html
    assert "Awa Ndiaye" in html
    assert case["id"] in html
    assert "Micro-entreprise individuelle" in html
    assert "250,000.00" in html
    assert "@media print" in html
    assert "<script>" not in html
    assert "<img" not in html
    assert "Thiès &lt;script&gt;alert(1)&lt;/script&gt;" in html
    exports = [e for e in await audit_of(test_db_url, (await plan_id(client, h, case))) if e.action == "export"]
    assert exports
    assert "reintegration_plan" in exports[0].categories


async def plan_id(client: httpx.AsyncClient, headers: dict[str, str], case: dict[str, Any]) -> str:
    return str((await client.get(f"/v1/cases/{case['id']}/plans/1", headers=headers)).json()["id"])


async def test_the_arabic_copy_is_right_to_left(client: httpx.AsyncClient, token: TokenFor) -> None:
    h = office(token)
    case = await draft(client, h)
    response = await client.get(f"/v1/cases/{case['id']}/plans/1/beneficiary-copy?language=ar-IQ", headers=h)
    assert response.status_code == 200
    assert response.headers["content-language"] == "ar"
    assert '<html lang="ar" dir="rtl">' in response.text
    assert "خطة إعادة الإدماج" in response.text


async def test_a_language_without_translation_falls_back_to_english_and_says_so(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    h = office(token)
    case = await draft(client, h)
    response = await client.get(f"/v1/cases/{case['id']}/plans/1/beneficiary-copy?language=wo", headers=h)
    assert (response.headers["content-language"], response.headers["x-plan-copy-language-fallback"]) == ("en", "true")
    assert "this copy is in English" in response.text
    bad = await client.get(f"/v1/cases/{case['id']}/plans/1/beneficiary-copy?language=<x>", headers=h)
    assert (bad.status_code, bad.json()["code"]) == (422, "validation-error")


async def test_without_a_language_the_copy_uses_the_beneficiarys_languages(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    h = office(token)
    case = await draft(client, h, someone(languages=["wo", "fr"]))
    response = await client.get(f"/v1/cases/{case['id']}/plans/1/beneficiary-copy", headers=h)
    assert response.headers["content-language"] == "fr"


async def test_the_copy_is_404_for_another_office_and_for_a_missing_version(
    client: httpx.AsyncClient, token: TokenFor
) -> None:
    h = office(token)
    case = await draft(client, h)
    other = await client.get(
        f"/v1/cases/{case['id']}/plans/1/beneficiary-copy?language=fr", headers=office(token, "sn-dakar-system")
    )
    assert (other.status_code, other.json()["code"]) == (404, "case-not-found")
    missing = await client.get(f"/v1/cases/{case['id']}/plans/9/beneficiary-copy", headers=h)
    assert (missing.status_code, missing.json()["code"]) == (404, "plan-not-found")


async def test_destroying_the_beneficiarys_key_shreds_the_documents(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    h = office(token)
    case = await open_case(client, h)
    document = (await upload(client, h, case["id"])).json()
    engine = create_async_engine(test_db_url)
    async with engine.begin() as conn:  # what erasure does to the key (service_layer/vault.py `shred`)
        await conn.exec_driver_sql(
            "UPDATE beneficiary_keys SET wrapped_key = NULL, destroyed_at = now() WHERE beneficiary_id = $1",
            (uuid.UUID(case["beneficiary_id"]),),
        )
    await engine.dispose()
    base = f"/v1/cases/{case['id']}/documents/{document['id']}"
    read = (await client.get(base, headers=h)).json()
    assert (read["erased"], read["filename"], read["sha256"]) == (True, None, document["sha256"])
    gone = await client.get(f"{base}/content", headers=h)
    assert (gone.status_code, gone.json()["code"]) == (410, "document-erased")
    refused = await upload(client, h, case["id"])
    assert (refused.status_code, refused.json()["code"]) == (409, "beneficiary-erased")
