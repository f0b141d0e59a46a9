"""Bulk caseload import: accept a file, then import its rows in batches through the single-case use cases.

`submit_import` only stores the job and its rows (one transaction, so an upload is all or nothing);
`import_next_batch` is the worker's job: it locks the oldest unfinished import, takes its next pending rows and
registers each beneficiary and opens the case exactly as `POST /v1/beneficiaries` and `POST /v1/cases` do
(same validation, audit entries and outbox events), as the submitter and for their office.
"""

import csv
import hashlib
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID, uuid4

from openpyxl import load_workbook  # type: ignore[import-untyped]  # the stubs are not in the lock file
from pydantic import ValidationError

from case_service.domain.errors import (
    ImportColumnsMissing,
    ImportFileUnreadable,
    ImportNotFound,
    ImportTooLarge,
    ReturnDateInFuture,
    ReturnProfileNotApplicable,
)
from case_service.domain.imports import (
    NUMBER_IS_NOT_A_DATE,
    CaseImport,
    CaseImportRow,
    ImportFormat,
    ImportStatus,
    RowOutcome,
    RowProblem,
    content_hash,
    map_columns,
    normalise_choice,
    normalise_sex,
    parse_date,
    parse_flag,
    row_cells,
    stage_at_import,
)
from case_service.domain.models import RETURN_PROFILE_FIELDS, check_return_profile
from case_service.domain.stages import Stage
from case_service.schemas import OpenCase, RegisterBeneficiary
from case_service.service_layer import beneficiaries, cases
from case_service.unit_of_work import CaseUnitOfWork
from casebridge_common.audit import AuditAction
from casebridge_common.auth import Principal
from casebridge_common.events.contracts.case import CaseStageChanged
from casebridge_common.problems import DomainError

_XLSX_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True, slots=True)
class ImportLimits:
    max_bytes: int
    max_rows: int


def read_table(content: bytes, file_name: str) -> tuple[ImportFormat, list[list[str]]]:
    """The sheet's rows as text, header first: an XLSX workbook's first sheet, or a UTF-8 CSV (a BOM and
    `;` separators as written by spreadsheet programs are accepted)."""
    if content.startswith(_XLSX_MAGIC):
        try:
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            raise ImportFileUnreadable(f"{file_name} is not a readable XLSX workbook.") from exc
        sheet = workbook.worksheets[0]
        rows = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        workbook.close()
        return ImportFormat.XLSX, rows
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileUnreadable(f"{file_name} is neither an XLSX workbook nor UTF-8 text.") from exc
    dialect: type[csv.Dialect] | csv.Dialect
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        return ImportFormat.CSV, list(csv.reader(io.StringIO(text), dialect))
    except csv.Error as exc:
        raise ImportFileUnreadable(f"{file_name} is not valid CSV: {exc}") from exc


def submit_import(
    uow: CaseUnitOfWork, *, file_name: str, content: bytes, actor: Principal, now: datetime, limits: ImportLimits
) -> CaseImport:
    """Store the job and one pending row per non-empty data row. The header must name every required column
    of the mapping; other headers are ignored and listed. Nothing is imported yet: the worker does that."""
    assert actor.office_id is not None  # noqa: S101 - the router requires an office claim
    if len(content) > limits.max_bytes:
        raise ImportTooLarge(f"One import takes at most {limits.max_bytes} bytes.", max_bytes=limits.max_bytes)
    file_format, table = read_table(content, file_name)
    if not table:
        raise ImportFileUnreadable(f"{file_name} has no header row.")
    mapping = map_columns(table[0])
    if mapping.missing:
        raise ImportColumnsMissing(f"Missing columns: {', '.join(mapping.missing)}.", missing=mapping.missing)
    job = CaseImport(
        office_id=actor.office_id,
        organisation_id=actor.organisation_id,
        submitted_by=actor.subject,
        client_id=actor.client_id,
        country=actor.country,
        scopes=sorted(actor.scopes),
        roles=sorted(actor.roles),
        file_name=file_name[:255],
        file_format=file_format,
        file_sha256=hashlib.sha256(content).hexdigest(),
        ignored_columns=mapping.ignored,
        status=ImportStatus.QUEUED,
        total_rows=0,
        created_at=now,
    )
    rows = [
        CaseImportRow(
            import_id=job.id,
            row_number=number,
            office_id=actor.office_id,
            outcome=RowOutcome.PENDING,
            cells=cells,
            external_id=cells.get("external_id"),
        )
        for number, values in enumerate(table[1:], start=2)
        if (cells := row_cells(mapping, values))
    ]
    if len(rows) > limits.max_rows:
        raise ImportTooLarge(f"One import takes at most {limits.max_rows} rows.", max_rows=limits.max_rows)
    job.total_rows = len(rows)
    if not rows:
        job.status, job.finished_at = ImportStatus.COMPLETED, now
    uow.imports.add(job, rows)
    uow.audit.record(actor, AuditAction.CREATE, resource_type="case_import", resource_id=job.id)
    return job


@dataclass(frozen=True, slots=True)
class _ValidRow:
    beneficiary: RegisterBeneficiary
    case: OpenCase
    stage: Stage
    digest: str


def _problems_of(error: ValidationError) -> list[RowProblem]:
    return [
        RowProblem(str(e["loc"][0]) if e["loc"] else None, f"invalid-{e['type']}".replace("_", "-"), e["msg"])
        for e in error.errors(include_url=False, include_input=False)
    ]


def validate_row(cells: dict[str, str], *, today: date) -> _ValidRow | list[RowProblem]:
    """The row as the two commands of the single endpoints, or everything wrong with it (checked against the
    same request models and return-profile rules, so a row is accepted exactly when the API would accept it,
    and nothing of a refused row is written)."""
    problems: list[RowProblem] = []
    estimated = parse_flag(cells.get("born_on_is_estimated"))
    confirmed = parse_flag(cells.get("confirm_not_duplicate"))
    for column, flag in (("born_on_is_estimated", estimated), ("confirm_not_duplicate", confirmed)):
        if flag is None:
            problems.append(RowProblem(column, "invalid-bool-parsing", "Use true/false, yes/no or 1/0."))
    dates = {column: parse_date(cells[column]) for column in ("born_on", "returned_on") if column in cells}
    unread = {column for column, parsed in dates.items() if parsed is None}  # reported once, not as missing too
    problems += [RowProblem(column, "date-is-a-number", NUMBER_IS_NOT_A_DATE) for column in sorted(unread)]
    beneficiary: RegisterBeneficiary | None = None
    try:
        fields: dict[str, object] = {
            "given_name": cells.get("given_name"),
            "family_name": cells.get("family_name"),
            "sex": normalise_sex(cells["sex"]) if "sex" in cells else None,
            "born_on": dates.get("born_on"),
            "born_on_is_estimated": bool(estimated),
            "confirm_not_duplicate": bool(confirmed),
            "current_location": cells.get("current_location"),
            "languages": cells["languages"].replace(";", ",").replace(",", " ").split()
            if "languages" in cells
            else None,
        }
        for country in ("nationality", "country_of_origin", "country_of_return", "country_of_resettlement"):
            fields[country] = cells[country].upper() if country in cells else None
        beneficiary = RegisterBeneficiary.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        problems += [problem for problem in _problems_of(exc) if problem.column not in unread]
    case: OpenCase | None = None
    try:
        command = {
            "beneficiary_id": uuid4(),  # replaced by the beneficiary's id once registered
            "programme": normalise_choice(cells["programme"]) if "programme" in cells else None,
            "assigned_worker": cells.get("assigned_worker"),
            "host_country": cells["host_country"].upper() if "host_country" in cells else None,
            "length_of_absence_years": cells.get("length_of_absence_years"),
            "returned_on": dates.get("returned_on"),
        }
        for choice in ("mode_of_return", "avrr_category", "return_intended_duration"):
            command[choice] = normalise_choice(cells[choice]) if choice in cells else None
        case = OpenCase.model_validate({k: v for k, v in command.items() if v is not None})
        profile = case.model_dump(include=set(RETURN_PROFILE_FIELDS), exclude_unset=True)
        check_return_profile(case.programme, profile, today=today)
    except ValidationError as exc:
        problems += [problem for problem in _problems_of(exc) if problem.column not in unread]
    except (ReturnProfileNotApplicable, ReturnDateInFuture) as refused:
        field = str(refused.context.get("pointer", "")).removeprefix("#/") or None
        problems.append(RowProblem(field, refused.code, refused.detail))
    stage = (
        stage_at_import(case.programme, cells.get("stage"), mode_of_return=case.mode_of_return)
        if case is not None
        else None
    )
    if isinstance(stage, RowProblem):
        problems.append(stage)
    if problems or beneficiary is None or case is None or not isinstance(stage, Stage):
        return problems
    digest = content_hash(
        given_name=beneficiary.given_name,
        family_name=beneficiary.family_name,
        sex=beneficiary.sex.value,
        born_on=beneficiary.born_on,
        nationality=beneficiary.nationality,
        programme=case.programme,
    )
    return _ValidRow(beneficiary, case, stage, digest)


def submitter(job: CaseImport) -> Principal:
    """The identity the import acts as: the office and person who uploaded the file."""
    return Principal(
        subject=job.submitted_by,
        client_id=job.client_id,
        organisation_id=job.organisation_id,
        office_id=job.office_id,
        country=job.country,
        scopes=frozenset(job.scopes),
        roles=frozenset(job.roles),
    )


async def _import_row(uow: CaseUnitOfWork, valid: _ValidRow, *, actor: Principal, now: datetime) -> tuple[UUID, UUID]:
    beneficiary = await beneficiaries.register_checked(uow, valid.beneficiary, actor=actor, now=now)
    case = await cases.open_case_within(
        uow, valid.case.model_copy(update={"beneficiary_id": beneficiary.id}), actor=actor, now=now
    )
    if case.stage is not valid.stage:  # the legacy case already stood further along its lifecycle
        first = case.stage
        case.stage, case.version = valid.stage, case.version + 1
        uow.outbox.emit(
            CaseStageChanged(
                case_id=case.id,
                case_version=case.version,
                programme=case.programme,
                owner_office_id=case.owner_office_id,
                from_stage=first.value,
                to_stage=valid.stage.value,
                changed_at=now,
            )
        )
    return beneficiary.id, case.id


async def import_next_batch(uow: CaseUnitOfWork, *, now: datetime, limit: int) -> int:
    """Process up to `limit` pending rows of the oldest unfinished import; returns how many were processed
    (0: nothing to do). The caller commits: the rows' effects and the job's counts land together, so a crash
    loses at most one uncommitted batch, which the next round takes again."""
    job = await uow.imports.next_unfinished()
    if job is None:
        return 0
    if job.status is ImportStatus.QUEUED:
        job.status, job.started_at = ImportStatus.RUNNING, now
    rows = await uow.imports.pending_rows(job.id, limit=limit)
    actor = submitter(job)
    checked = {row.row_number: validate_row(row.cells or {}, today=now.date()) for row in rows}
    seen_external, seen_hashes = await uow.imports.imported_keys(
        job.office_id,
        external_ids=[row.external_id for row in rows if row.external_id is not None],
        hashes=[v.digest for v in checked.values() if isinstance(v, _ValidRow)],
    )
    for row in rows:
        valid = checked[row.row_number]
        row.cells, row.processed_at = None, now
        if not isinstance(valid, _ValidRow):
            row.outcome, row.problems = RowOutcome.REJECTED, [p.as_dict() for p in valid]
            job.rejected += 1
            continue
        row.content_hash = valid.digest
        if valid.digest in seen_hashes or (row.external_id is not None and row.external_id in seen_external):
            row.outcome = RowOutcome.SKIPPED
            job.skipped += 1
            continue
        try:
            row.beneficiary_id, row.case_id = await _import_row(uow, valid, actor=actor, now=now)
        except DomainError as exc:  # a rule of the use cases: a date of birth in the future, a likely duplicate
            # (both raised before anything is written)
            pointer = str(exc.context.get("pointer", ""))
            row.outcome = RowOutcome.REJECTED
            row.problems = [RowProblem(pointer.removeprefix("#/") or None, exc.code, exc.detail).as_dict()]
            job.rejected += 1
            continue
        row.outcome = RowOutcome.IMPORTED
        job.imported += 1
        seen_hashes.add(valid.digest)
        if row.external_id is not None:
            seen_external.add(row.external_id)
    if len(rows) < limit:
        job.status, job.finished_at = ImportStatus.COMPLETED, now
    return len(rows)


async def read_import(uow: CaseUnitOfWork, import_id: UUID, *, actor: Principal) -> CaseImport:
    """The import if the caller's office submitted it; 404 otherwise, as for an unknown id."""
    assert actor.office_id is not None  # noqa: S101 - the router requires an office claim
    job = await uow.imports.get_visible(import_id, office_id=actor.office_id)
    if job is None:
        raise ImportNotFound(import_id=import_id)
    return job


async def rejections(
    uow: CaseUnitOfWork, import_id: UUID, *, actor: Principal, after: int | None, limit: int | None
) -> list[CaseImportRow]:
    """Rejected rows in row order (limit + 1 for a page; all for the CSV report). Audited as an export: the
    report ties legacy case numbers to the office's caseload."""
    job = await read_import(uow, import_id, actor=actor)
    rows = await uow.imports.rejections(job.id, after=after, limit=None if limit is None else limit + 1)
    uow.audit.record(actor, AuditAction.EXPORT, resource_type="case_import", resource_id=job.id)
    return rows
