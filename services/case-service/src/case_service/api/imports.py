import csv
import hashlib
import io
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, File, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse

from case_service.api.dependencies import CasesRead, CasesWrite, UoW
from case_service.domain.imports import CaseImport, CaseImportRow
from case_service.schemas.imports import ImportRead, ImportUpload, RowProblemRead, RowRejection
from case_service.service_layer import imports
from case_service.settings import Settings
from casebridge_common.db import utc_now
from casebridge_common.http import (
    DEFAULT_LIMIT,
    Cursor,
    CursorParam,
    IdempotencyKeyHeader,
    InvalidCursor,
    LimitParam,
    Page,
    page_of,
    whole_number,
)
from casebridge_common.problems import problems

router = APIRouter(prefix="/v1/imports", tags=["imports"])


def _read(job: CaseImport) -> ImportRead:
    return ImportRead.model_validate(job)


def _rejection(row: CaseImportRow) -> RowRejection:
    return RowRejection(
        row_number=row.row_number,
        external_id=row.external_id,
        problems=[
            RowProblemRead(column=p.get("column") or None, code=p["code"], detail=p["detail"]) for p in row.problems
        ],
    )


@router.post("", status_code=202, response_model=ImportRead, responses=problems(401, 403, 422))
async def submit_import(
    request: Request,
    uow: UoW,
    who: CasesWrite,
    file: Annotated[UploadFile, File(description="the caseload as CSV (UTF-8) or XLSX, header in the first row")],
    key: IdempotencyKeyHeader = None,
) -> ImportRead | JSONResponse:
    """Upload a legacy caseload (README "Bulk import" documents the column mapping). The job is stored and
    answered at once (202); the worker then imports the rows in batches as the caller, for the caller's
    office: each good row registers a beneficiary and opens a case through the same rules, audit and events
    as `POST /v1/beneficiaries` and `POST /v1/cases`; a bad row is rejected with its problems; a row this
    office imported before (same `external_id`, or same person and programme) is `skipped`, so re-running a
    file never duplicates a case. Follow progress at `GET /v1/imports/{id}`. A missing required column is 422
    `import-columns-missing`, an unreadable file 422 `import-file-unreadable`, a file over the limits 422
    `import-too-large`; nothing is stored then. Send an `Idempotency-Key` to retry an upload safely."""
    settings: Settings = request.state.settings
    content = await file.read(settings.import_max_bytes + 1)
    file_name = file.filename or "upload"
    upload = ImportUpload(file_name=file_name, file_sha256=hashlib.sha256(content).hexdigest())
    async with uow:
        if (replay := await uow.idempotency.replay(key, who, upload)) is not None:
            return replay
        job = imports.submit_import(
            uow,
            file_name=file_name,
            content=content,
            actor=who,
            now=utc_now(),
            limits=imports.ImportLimits(max_bytes=settings.import_max_bytes, max_rows=settings.import_max_rows),
        )
        result = _read(job)
        await uow.idempotency.remember(status=202, body=result)
        await uow.commit()
    return result


@router.get("/{import_id}", responses=problems(401, 403, 404, 422))
async def get_import(import_id: UUID, uow: UoW, who: CasesRead) -> ImportRead:
    """An import of the caller's office with its progress: `processed` of `total_rows` so far, as imported,
    skipped and rejected; `status` is `completed` once every row is processed. Another office's import is
    404 `import-not-found`."""
    async with uow:
        result = _read(await imports.read_import(uow, import_id, actor=who))
    return result


@router.get(
    "/{import_id}/rejections",
    response_model=Page[RowRejection],
    responses={
        **problems(400, 401, 403, 404, 422),
        200: {"content": {"text/csv": {"example": "row_number,external_id,column,code,detail\n"}}},
    },
)
async def list_rejections(
    import_id: UUID,
    uow: UoW,
    who: CasesRead,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
    format: Annotated[Literal["json", "csv"], Query(description="`csv`: the whole report as one CSV file")] = "json",
) -> Page[RowRejection] | Response:
    """The rejected rows in row order, each with every problem found (column, stable code, detail), in pages
    (`next_cursor`), or with `format=csv` the whole report as CSV (one line per problem), to fix the source
    file and upload it again: rows imported before are skipped then."""
    query = {"import": str(import_id), "office": who.office_id}
    after = Cursor.decode(cursor, query)
    if after is not None and len(after) != 1:
        raise InvalidCursor(parameter="cursor")
    after_row = None if after is None else whole_number(after[0])
    async with uow:
        rows = await imports.rejections(
            uow,
            import_id,
            actor=who,
            after=after_row,
            limit=None if format == "csv" else limit,
        )
        await uow.commit()  # the audit entry of this export must persist
    if format == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["row_number", "external_id", "column", "code", "detail"])
        for row in rows:
            for p in row.problems:
                writer.writerow([row.row_number, row.external_id or "", p.get("column", ""), p["code"], p["detail"]])
        return Response(
            out.getvalue(),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="import-{import_id}-rejections.csv"'},
        )
    return page_of([_rejection(r) for r in rows], limit=limit, sort_key=lambda r: [r.row_number], query=query)
