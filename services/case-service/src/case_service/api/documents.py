from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile
from fastapi.responses import JSONResponse

from case_service.api.dependencies import CasesRead, CasesWrite, PurposeParam, UoW
from case_service.domain.documents import DocumentKind, MediaType, content_disposition
from case_service.schemas.documents import Description, DocumentPage, DocumentRead
from case_service.service_layer import documents
from case_service.settings import Settings
from casebridge_common.access import Purpose
from casebridge_common.db import utc_now
from casebridge_common.http import (
    DEFAULT_LIMIT,
    Cursor,
    CursorParam,
    IdempotencyKeyHeader,
    LimitParam,
    page_of,
    time_and_id,
)
from casebridge_common.problems import problems

router = APIRouter(prefix="/v1/cases", tags=["documents"])


def _max_bytes(request: Request) -> int:
    settings: Settings = request.state.settings
    return settings.document_max_bytes


MaxBytes = Annotated[int, Depends(_max_bytes)]
_BINARY = {"schema": {"type": "string", "format": "binary"}}


@router.post(
    "/{case_id}/documents",
    status_code=201,
    response_model=DocumentRead,
    responses=problems(401, 403, 404, 409, 413, 415, 422),
)
async def upload_document(
    case_id: UUID,
    file: Annotated[UploadFile, File(description="the document; its part's Content-Type is the declared type")],
    kind: Annotated[DocumentKind, Form(description="decides the data category, and so who may read it")],
    uow: UoW,
    who: CasesWrite,
    max_bytes: MaxBytes,
    description: Annotated[Description | None, Form()] = None,
    key: IdempotencyKeyHeader = None,
) -> DocumentRead | JSONResponse:
    """Upload a document to the case file as `multipart/form-data` (`file`, `kind`, optional `description`).

    Accepted types are PDF, JPEG, PNG and DOCX, up to the configured size (10 MiB by default): a larger file is
    413 `document-too-large`, another type 415 `document-type-not-allowed`, content whose magic bytes do not
    match the part's declared `Content-Type` 415 `document-type-mismatch`, an empty file 422 `document-empty`.
    The content, file name and description are stored encrypted under the beneficiary's key (erasure destroys
    them); the SHA-256 of the content is returned. The kind's category decides who may read the document:
    identity and travel documents are `identity_biodata`, medical records `health_clinical`, legal documents
    `legal_criminal`, certificates `skills_employment`, consent forms and others `case_notes`."""
    content = await file.read(max_bytes + 1)
    upload = documents.checked_upload(
        kind, file.content_type or "", file.filename, description, content, max_bytes=max_bytes
    )
    async with uow:
        if (replay := await uow.idempotency.replay(key, who, upload)) is not None:
            return replay
        result = await documents.upload_document(uow, case_id, upload, content, actor=who, now=utc_now())
        await uow.idempotency.remember(status=201, body=result)
        await uow.commit()
    return result


@router.get("/{case_id}/documents", responses=problems(400, 401, 403, 404, 422))
async def list_documents(
    case_id: UUID,
    uow: UoW,
    who: CasesRead,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
    purpose: PurposeParam = Purpose.CASE_MANAGEMENT,
) -> DocumentPage:
    """The case's documents, newest first, in pages (`next_cursor`). Documents of a kind whose category the
    policy withholds from the caller are not listed; `withheld` names those categories and why."""
    query = {"case": str(case_id), "office": who.office_id, "purpose": purpose}
    after = time_and_id(Cursor.decode(cursor, query))
    async with uow:
        rows, kept_back = await documents.list_documents(
            uow, case_id, actor=who, purpose=purpose, now=utc_now(), after=after, limit=limit
        )
        await uow.commit()
    page = page_of(rows, limit=limit, sort_key=lambda d: [d.uploaded_at.isoformat(), str(d.id)], query=query)
    return DocumentPage(items=page.items, next_cursor=page.next_cursor, withheld=kept_back)


@router.get("/{case_id}/documents/{document_id}", responses=problems(401, 403, 404, 422))
async def read_document(
    case_id: UUID, document_id: UUID, uow: UoW, who: CasesRead, purpose: PurposeParam = Purpose.CASE_MANAGEMENT
) -> DocumentRead:
    """One document's metadata. A document of a withheld category is 404 `document-not-found`, like a
    missing or deleted one."""
    async with uow:
        result = await documents.read_document(uow, case_id, document_id, actor=who, purpose=purpose, now=utc_now())
        await uow.commit()
    return result


@router.get(
    "/{case_id}/documents/{document_id}/content",
    response_class=Response,
    responses={200: {"content": {m.value: _BINARY for m in MediaType}}, **problems(401, 403, 404, 410, 422)},
)
async def download_document(
    case_id: UUID, document_id: UUID, uow: UoW, who: CasesRead, purpose: PurposeParam = Purpose.CASE_MANAGEMENT
) -> Response:
    """The document's content as an attachment, with its checked type and `X-Content-Type-Options: nosniff`;
    audited as an export. 410 `document-erased` once the person's data was erased."""
    async with uow:
        result = await documents.download_document(uow, case_id, document_id, actor=who, purpose=purpose, now=utc_now())
        await uow.commit()
    return Response(
        result.content,
        media_type=result.media_type,
        headers={
            "Content-Disposition": content_disposition(result.filename),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "no-store",
        },
    )


@router.delete("/{case_id}/documents/{document_id}", status_code=204, responses=problems(401, 403, 404))
async def delete_document(case_id: UUID, document_id: UUID, uow: UoW, who: CasesWrite) -> Response:
    """Remove a document from the case file (a soft delete, audited): it no longer appears in any read."""
    async with uow:
        await documents.delete_document(uow, case_id, document_id, actor=who, now=utc_now())
        await uow.commit()
    return Response(status_code=204)
