"""Bulk import over HTTP with a real CSV and a real XLSX, processed by the worker's own job on real PostgreSQL."""

import base64
import csv
import io
import json
import uuid
from datetime import date, datetime
from typing import Any

import httpx
from openpyxl import Workbook
from sqlalchemy import func, select, text

from case_service.domain.imports import CaseImportRow
from case_service.domain.models import Case
from case_service.settings import Settings
from case_service.worker import IMPORT_JOBS, run_jobs_once
from casebridge_common.audit import AuditEntry
from casebridge_common.db import create_engine, session_factory
from casebridge_common.outbox import OutboxMessage
from casebridge_common.testing.plugin import TokenFor, bearer

RW = "cases:read cases:write"
HEADER = "External ID,First Name,Surname,Sex,Date of birth,Nationality,Programme,Stage,Assigned worker,Remarks"


def office(token: TokenFor, client_id: str = "de-berlin-system") -> dict[str, str]:
    return bearer(token(client_id, "case-api", RW))


def legacy_csv(tag: str) -> bytes:
    """Four good rows (one repeated by content), and three bad ones."""
    lines = [
        HEADER,
        f"{tag}-1,Awa,Ndiaye,F,1963-02-11,SN,return_reintegration,,anna.schmidt,met in Dakar",
        f"{tag}-2,Mamadou,Sow{tag},M,1967-05-23,sn,return_reintegration,monitoring,,",
        f"{tag}-3,Nasrin,Ahmadi{tag},female,1969-08-30,AF,resettlement_integration,reception,,",
        f"{tag}-4,Hawa,Diallo{tag},female,2031-01-09,SN,return_reintegration,,,",  # born in the future
        f"{tag}-5,Ibrahima,Fall{tag},male,2001-06-21,SN,asylum,,,",  # unknown programme
        ",,,,,,,,,",  # blank: not a row
        f"{tag}-6,Fatou,Ba{tag},female,17/03/1994,SN,return_reintegration,closed,,",  # two problems
        f"{tag}-7, AWA ,Ndiaye,female,1963-02-11,SN,return_reintegration,,,",  # row 2 again, by content
    ]
    lines[1] = lines[1].replace("Ndiaye", f"Ndiaye{tag}")
    lines[-1] = lines[-1].replace("Ndiaye", f"Ndiaye{tag}")
    return ("\n".join(lines) + "\n").encode()


async def drain(test_db_url: str, oidc_issuer: str) -> None:
    """Run the worker's import job until no batch is left, in small batches to cross batch boundaries."""
    settings = Settings(database_url=test_db_url, oidc_issuer=oidc_issuer, environment="test", import_batch_rows=2)  # type: ignore[arg-type]
    engine = create_engine(test_db_url, pool_size=1)
    try:
        for _ in range(500):
            if not (await run_jobs_once(session_factory(engine), settings, IMPORT_JOBS)).get("caseload-imports"):
                break
    finally:
        await engine.dispose()


async def scalar(test_db_url: str, query: Any) -> int:
    engine = create_engine(test_db_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            return int(await conn.scalar(query) or 0)
    finally:
        await engine.dispose()


async def upload(
    client: httpx.AsyncClient, headers: dict[str, str], content: bytes, name: str = "legacy.csv", **extra: str
) -> httpx.Response:
    return await client.post("/v1/imports", files={"file": (name, content)}, headers={**headers, **extra})


async def test_a_csv_caseload_imports_good_rows_reports_bad_ones_and_a_rerun_duplicates_nothing(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str, oidc_issuer: str
) -> None:
    tag = uuid.uuid4().hex[:8]
    headers = office(token)
    submitted = await upload(client, headers, legacy_csv(tag))
    assert submitted.status_code == 202, submitted.text
    job = submitted.json()
    assert (job["status"], job["total_rows"], job["processed"], job["file_format"]) == ("queued", 7, 0, "csv")
    assert job["ignored_columns"] == ["Remarks"]

    await drain(test_db_url, oidc_issuer)
    done = (await client.get(f"/v1/imports/{job['id']}", headers=headers)).json()
    assert (done["status"], done["processed"], done["imported"], done["skipped"], done["rejected"]) == (
        "completed",
        7,
        3,
        1,
        3,
    )
    rows = {r.row_number: r for r in (await _rows(test_db_url, uuid.UUID(job["id"])))}
    assert all(r.cells is None for r in rows.values())  # the raw values are gone once processed
    imported = [r for r in rows.values() if r.outcome == "imported"]
    for row in imported:  # the single endpoints' effects: the case, its events, its audit entry
        case = await client.get(f"/v1/cases/{row.case_id}", headers=headers)
        assert case.status_code == 200
        assert case.json()["owner_office_id"] == "de-berlin"
        assert (
            await scalar(
                test_db_url,
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.resource_id == str(row.case_id), AuditEntry.action == "create"),  # type: ignore[arg-type]
            )
            == 1
        )
    monitoring = next(r for r in imported if r.external_id == f"{tag}-2")
    case = (await client.get(f"/v1/cases/{monitoring.case_id}", headers=headers)).json()
    assert (case["stage"], case["version"]) == ("monitoring", 2)
    events = await _event_types(test_db_url, str(monitoring.case_id))
    assert events == ["casebridge.case.opened.v1", "casebridge.case.stage_changed.v1"]
    awa = next(r for r in imported if r.external_id == f"{tag}-1")
    assert (await client.get(f"/v1/cases/{awa.case_id}", headers=headers)).json()["assigned_worker"] == "anna.schmidt"

    page = await client.get(f"/v1/imports/{job['id']}/rejections", params={"limit": 2}, headers=headers)
    assert page.status_code == 200
    first = page.json()
    assert [r["row_number"] for r in first["items"]] == [5, 6]
    assert first["items"][0]["problems"] == [
        {"column": "born_on", "code": "birth-date-in-future", "detail": "A date of birth cannot be in the future"}
    ]
    assert first["items"][1]["problems"][0]["column"] == "programme"
    rest = await client.get(
        f"/v1/imports/{job['id']}/rejections", params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers
    )
    assert [r["row_number"] for r in rest.json()["items"]] == [8]
    assert rest.json()["next_cursor"] is None
    issued = first["next_cursor"]
    document = json.loads(base64.urlsafe_b64decode(issued + "=" * (-len(issued) % 4)))
    for position in ([True], [2**31], [-1], ["6"], [6, 7]):
        forged = base64.urlsafe_b64encode(json.dumps({"a": position, "q": document["q"]}).encode()).decode()
        refused = await client.get(f"/v1/imports/{job['id']}/rejections", params={"cursor": forged}, headers=headers)
        assert (refused.status_code, refused.json()["code"]) == (400, "invalid-cursor"), position
    assert sorted(p["code"] for p in rest.json()["items"][0]["problems"]) == [
        "invalid-date-from-datetime-parsing",
        "stage-not-importable",
    ]
    report = await client.get(f"/v1/imports/{job['id']}/rejections", params={"format": "csv"}, headers=headers)
    assert report.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(report.text)))
    assert lines[0] == ["row_number", "external_id", "column", "code", "detail"]
    assert [(line[0], line[1]) for line in lines[1:]] == [
        ("5", f"{tag}-4"),
        ("6", f"{tag}-5"),
        ("8", f"{tag}-6"),
        ("8", f"{tag}-6"),
    ]

    cases_before = await scalar(test_db_url, select(func.count()).select_from(Case))
    again = await upload(client, headers, legacy_csv(tag), name="legacy-again.csv")
    assert again.status_code == 202
    await drain(test_db_url, oidc_issuer)
    rerun = (await client.get(f"/v1/imports/{again.json()['id']}", headers=headers)).json()
    assert (rerun["imported"], rerun["skipped"], rerun["rejected"]) == (0, 4, 3)
    assert await scalar(test_db_url, select(func.count()).select_from(Case)) == cases_before


async def test_an_xlsx_caseload_with_spreadsheet_dates_imports_and_is_replayed_by_its_idempotency_key(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str, oidc_issuer: str
) -> None:
    tag = uuid.uuid4().hex[:8]
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["given_name", "family_name", "sex", "born_on", "born_on_is_estimated", "nationality", "programme"])
    sheet.append(["Abdi", f"Warsame{tag}", "male", datetime(1985, 5, 1), "yes", "SO", "return_reintegration"])  # noqa: DTZ001
    sheet.append(["Hiwot", f"Tesfaye{tag}", "female", date(2012, 9, 14), "no", "ET", "resettlement_integration"])
    sheet.append(["Karwan", f"Aziz{tag}", "male", "not a date", None, "IQ", "return_reintegration"])
    out = io.BytesIO()
    book.save(out)
    key = {"Idempotency-Key": f"import-{tag}"}
    headers = office(token)
    first = await upload(client, headers, out.getvalue(), name="caseload.xlsx", **key)
    replay = await upload(client, headers, out.getvalue(), name="caseload.xlsx", **key)
    assert first.status_code == replay.status_code == 202
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["id"] == first.json()["id"]
    assert first.json()["file_format"] == "xlsx"
    await drain(test_db_url, oidc_issuer)
    done = (await client.get(f"/v1/imports/{first.json()['id']}", headers=headers)).json()
    assert (done["status"], done["imported"], done["skipped"], done["rejected"]) == ("completed", 2, 0, 1)
    rejected = (await client.get(f"/v1/imports/{first.json()['id']}/rejections", headers=headers)).json()
    assert [(r["row_number"], r["problems"][0]["column"]) for r in rejected["items"]] == [(4, "born_on")]


async def test_a_likely_duplicate_is_rejected_like_on_registration_unless_the_row_confirms_it(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str, oidc_issuer: str
) -> None:
    headers = office(token)
    khady = {
        "given_name": "Khady",
        "family_name": "Mbaye",
        "sex": "female",
        "born_on": "1971-04-04",
        "nationality": "SN",
    }
    registered = await client.post("/v1/beneficiaries", json=khady, headers=headers)
    assert registered.status_code == 201, registered.text
    content = (
        "given_name,family_name,sex,born_on,nationality,programme,confirm_not_duplicate,languages,country_of_return\n"
        "Khady,Mbaye,female,1971-04-04,SN,return_reintegration,,,\n"
        'Khady,Mbaye,female,1971-04-04,SN,return_reintegration,yes,"wo, fr",sn\n'
    )
    job = (await upload(client, headers, content.encode())).json()
    await drain(test_db_url, oidc_issuer)
    done = (await client.get(f"/v1/imports/{job['id']}", headers=headers)).json()
    assert (done["imported"], done["rejected"]) == (1, 1)
    rejected = (await client.get(f"/v1/imports/{job['id']}/rejections", headers=headers)).json()["items"]
    assert [(r["row_number"], [p["code"] for p in r["problems"]]) for r in rejected] == [(2, ["possible-duplicate"])]
    (row,) = [r for r in await _rows(test_db_url, uuid.UUID(job["id"])) if r.outcome == "imported"]
    person = (await client.get(f"/v1/beneficiaries/{row.beneficiary_id}", headers=headers)).json()
    assert person["languages"] == ["wo", "fr"]
    stored = text("SELECT count(*) FROM beneficiaries WHERE id = :id AND country_of_return = 'SN'")
    assert await scalar(test_db_url, stored.bindparams(id=row.beneficiary_id)) == 1  # withheld without consent


async def test_bad_uploads_are_refused_whole_and_another_office_sees_no_import(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str
) -> None:
    headers = office(token)
    imports_before = await scalar(test_db_url, select(func.count()).select_from(CaseImportRow))
    missing = await upload(client, headers, b"given_name,family_name\nAwa,Ndiaye\n")
    assert missing.status_code == 422
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["code"] == "import-columns-missing"
    assert missing.json()["missing"] == ["born_on", "nationality", "programme", "sex"]
    unreadable = await upload(client, headers, b"PK\x03\x04broken", name="x.xlsx")
    assert unreadable.json()["code"] == "import-file-unreadable"
    no_file = await client.post("/v1/imports", headers=headers)
    assert no_file.json()["code"] == "validation-error"
    reader = await client.post(
        "/v1/imports",
        files={"file": ("a.csv", HEADER.encode())},
        headers=bearer(token("de-berlin-system", "case-api", "cases:read")),
    )
    assert reader.status_code == 403
    assert await scalar(test_db_url, select(func.count()).select_from(CaseImportRow)) == imports_before

    mine = await upload(client, headers, (HEADER + "\n").encode())
    assert mine.json()["status"] == "completed"  # nothing to import
    for path in (f"/v1/imports/{mine.json()['id']}", f"/v1/imports/{mine.json()['id']}/rejections"):
        other = await client.get(path, headers=office(token, "sn-dakar-system"))
        assert (other.status_code, other.json()["code"]) == (404, "import-not-found")
    bad_cursor = await client.get(
        f"/v1/imports/{mine.json()['id']}/rejections", params={"cursor": "nope"}, headers=headers
    )
    assert (bad_cursor.status_code, bad_cursor.json()["code"]) == (400, "invalid-cursor")


async def _rows(test_db_url: str, import_id: uuid.UUID) -> list[CaseImportRow]:
    engine = create_engine(test_db_url, pool_size=1)
    try:
        async with session_factory(engine)() as session:
            result = await session.scalars(select(CaseImportRow).where(CaseImportRow.import_id == import_id))  # type: ignore[arg-type]
            return list(result.all())
    finally:
        await engine.dispose()


async def _event_types(test_db_url: str, key: str) -> list[str]:
    engine = create_engine(test_db_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            result = await conn.execute(
                select(OutboxMessage.event)  # type: ignore[arg-type]
                .where(OutboxMessage.key == key, OutboxMessage.topic != "casebridge.case.monitoring.v1")
                .order_by(OutboxMessage.seq)
            )
            return [row[0]["type"] for row in result.all()]
    finally:
        await engine.dispose()


async def test_return_profile_columns_reach_the_case_and_a_refused_profile_writes_nothing_of_its_row(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str, oidc_issuer: str
) -> None:
    tag = uuid.uuid4().hex[:8]
    headers = office(token)
    content = "\n".join(
        [
            "First Name,Surname,Sex,Date of birth,Nationality,Programme,Mode of return,Host country,"
            "Length of absence years,Returned on",
            f"Awa,Ndiaye{tag},F,1963-02-11,SN,return_reintegration,avrr_voluntary,de,4.5,2026-10-02",
            f"Nasrin,Ahmadi{tag},female,1969-08-30,AF,resettlement_integration,,DE,,",  # not a return case
            f"Fatou,Ba{tag},female,1994-03-17,SN,return_reintegration,,,,2999-01-01",  # returns in the future
        ]
    ).encode()
    submitted = await upload(client, headers, content)
    assert submitted.status_code == 202, submitted.text
    await drain(test_db_url, oidc_issuer)
    done = (await client.get(f"/v1/imports/{submitted.json()['id']}", headers=headers)).json()
    assert (done["imported"], done["rejected"]) == (1, 2)
    rows = sorted(await _rows(test_db_url, uuid.UUID(submitted.json()["id"])), key=lambda r: r.row_number)
    assert [(p["column"], p["code"]) for r in rows[1:] for p in r.problems] == [
        ("host_country", "return-profile-not-applicable"),
        ("returned_on", "return-date-in-future"),
    ]
    engine = create_engine(test_db_url, pool_size=1)  # the stored case (a read withholds it without consent)
    try:
        async with session_factory(engine)() as session:
            case = await session.get(Case, rows[0].case_id)
    finally:
        await engine.dispose()
    assert case is not None
    assert (case.mode_of_return, case.host_country, str(case.length_of_absence_years), case.returned_on) == (
        "avrr_voluntary",
        "DE",
        "4.5",
        date(2026, 10, 2),
    )
    for refused in ("Ahmadi", "Ba"):  # nobody of a refused row was registered
        query = text("SELECT count(*) FROM beneficiaries WHERE family_name = :name").bindparams(name=refused + tag)
        assert await scalar(test_db_url, query) == 0


async def test_a_forced_return_is_imported_from_arrival_on_without_an_invented_date_of_return(
    client: httpx.AsyncClient, token: TokenFor, test_db_url: str, oidc_issuer: str
) -> None:
    tag = uuid.uuid4().hex
    headers = office(token)
    content = "\n".join(
        [
            "First Name,Surname,Sex,Date of birth,Nationality,Programme,Mode of return,Stage,Returned on",
            f"Moussa,Sow{tag},M,1990-06-01,SN,return_reintegration,forced_deported,,",
            f"Ousmane,Diop{tag},M,1988-01-15,SN,return_reintegration,spontaneous,monitoring,",
            f"Cheikh,Fall{tag},M,1985-09-09,SN,return_reintegration,forced_deported,,2026-09-30",
            f"Ibou,Sarr{tag},M,1992-04-04,SN,return_reintegration,forced_deported,pre_departure_counselling,",
        ]
    ).encode()
    submitted = await upload(client, headers, content)
    assert submitted.status_code == 202, submitted.text
    await drain(test_db_url, oidc_issuer)
    done = (await client.get(f"/v1/imports/{submitted.json()['id']}", headers=headers)).json()
    assert (done["imported"], done["rejected"]) == (3, 1)
    rows = sorted(await _rows(test_db_url, uuid.UUID(submitted.json()["id"])), key=lambda r: r.row_number)
    assert [(p["column"], p["code"]) for p in rows[3].problems] == [("stage", "stage-before-arrival")]
    engine = create_engine(test_db_url, pool_size=1)
    try:
        async with session_factory(engine)() as session:
            cases = [await session.get(Case, row.case_id) for row in rows[:3]]
    finally:
        await engine.dispose()
    assert [(c.stage, c.returned_on) for c in cases if c is not None] == [
        ("arrived", None),
        ("monitoring", None),
        ("arrived", date(2026, 9, 30)),
    ]
