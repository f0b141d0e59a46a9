"""Documents of a case: upload, list, read, download and delete. The category of a document's kind decides who
may see it (a document of a withheld category does not exist for the reader) and who may add one."""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from case_service.domain.disclosure import DOCUMENT_SECTION, redact
from case_service.domain.documents import KIND_CATEGORY, CaseDocument, DocumentKind, check_content, clean_filename
from case_service.domain.errors import DocumentErased, DocumentNotFound
from case_service.repositories.documents import DocumentMetadata
from case_service.schemas.access import Withheld
from case_service.schemas.documents import DocumentRead, UploadDocument
from case_service.service_layer.access import reader_projection, visible_case, writable_case_and_facts
from case_service.service_layer.projection import audit_read, withheld
from case_service.unit_of_work import CaseUnitOfWork
from casebridge_common.access import DataCategory, Projection, Purpose
from casebridge_common.audit import AuditAction
from casebridge_common.auth import Principal

RESOURCE = "case_document"


def checked_upload(
    kind: DocumentKind,
    declared_type: str,
    filename: str | None,
    description: str | None,
    content: bytes,
    *,
    max_bytes: int,
) -> UploadDocument:
    """The upload once its content passed the size and type checks; raises 413/415/422 before anything is
    looked up or written."""
    media_type = check_content(declared_type, content, max_bytes=max_bytes)
    return UploadDocument(
        kind=kind,
        media_type=media_type,
        filename=clean_filename(filename, media_type),
        description=description,
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )


def document_read(document: CaseDocument, metadata: DocumentMetadata, projection: Projection) -> DocumentRead:
    full: dict[str, object] = {
        "id": document.id,
        "case_id": document.case_id,
        "kind": document.kind,
        "media_type": document.media_type,
        "filename": metadata.filename,
        "description": metadata.description,
        "size_bytes": document.size_bytes,
        "sha256": document.sha256,
        "erased": metadata.erased,
        "uploaded_by": document.uploaded_by,
        "uploaded_at": document.uploaded_at,
    }
    view = redact(DOCUMENT_SECTION[document.kind], full, projection.allowed.keys())
    return DocumentRead.model_validate(view.data | {"withheld": withheld(projection, view.withheld)})


async def upload_document(
    uow: CaseUnitOfWork, case_id: UUID, upload: UploadDocument, content: bytes, *, actor: Principal, now: datetime
) -> DocumentRead:
    """Store the content and its metadata sealed under the beneficiary's key. The owner office may add any kind;
    an `edit` share only kinds whose category its consent covers. The answer shows what the uploader may read."""
    category = KIND_CATEGORY[upload.kind]
    case, facts, _ = await writable_case_and_facts(uow, case_id, category, actor=actor, now=now)
    document = CaseDocument(
        case_id=case.id,
        kind=upload.kind,
        media_type=upload.media_type,
        size_bytes=upload.size_bytes,
        sha256=upload.sha256,
        sealed_metadata=b"",
        sealed_content=b"",
        uploaded_by=actor.subject,
        uploaded_at=now,
    )
    await uow.documents.add(document, content, filename=upload.filename, description=upload.description)
    uow.audit.record(
        actor,
        AuditAction.CREATE,
        resource_type=RESOURCE,
        resource_id=document.id,
        case_id=case.id,
        categories=[category],
    )
    projection = await reader_projection(uow, actor, facts, Purpose.CASE_MANAGEMENT, now=now)
    return document_read(document, DocumentMetadata(upload.filename, upload.description), projection)


def _kinds(projection: Projection) -> tuple[list[DocumentKind], set[DataCategory]]:
    """The kinds the reader may see, and the categories of the others."""
    shown = [k for k, c in KIND_CATEGORY.items() if c in projection.allowed]
    return shown, {c for k, c in KIND_CATEGORY.items() if k not in shown}


async def list_documents(
    uow: CaseUnitOfWork,
    case_id: UUID,
    *,
    actor: Principal,
    purpose: Purpose,
    now: datetime,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> tuple[list[DocumentRead], list[Withheld]]:
    """Newest first (limit + 1 rows: the router cuts the page). Kinds of a withheld category are filtered out in
    SQL, so pages and cursors show nothing of them; `withheld` names their categories."""
    case, _, projection = await visible_case(
        uow, case_id, actor=actor, purpose=purpose, now=now, resource_type=RESOURCE
    )
    kinds, hidden = _kinds(projection)
    rows = await uow.documents.page(case.id, kinds, after=after, limit=limit) if kinds else []
    reads = [document_read(row, await uow.documents.metadata(row), projection) for row in rows]
    audit_read(
        uow,
        actor,
        AuditAction.LIST,
        resource_type=RESOURCE,
        resource_id=case.id,
        case_id=case.id,
        projection=projection,
        purpose=purpose,
        returned={row.category for row in rows[:limit]},
    )
    return reads, withheld(projection, hidden)


async def _visible_document(
    uow: CaseUnitOfWork, case_id: UUID, document_id: UUID, *, actor: Principal, purpose: Purpose, now: datetime
) -> tuple[CaseDocument, Projection]:
    """A document of a withheld category is as absent as a missing one (404), and the probe is audited."""
    case, _, projection = await visible_case(
        uow, case_id, actor=actor, purpose=purpose, now=now, resource_type=RESOURCE
    )
    document = await uow.documents.get(case.id, document_id)
    if document is None or document.category not in projection.allowed:
        uow.audit.record(
            actor,
            AuditAction.VIEW,
            resource_type=RESOURCE,
            resource_id=document_id,
            case_id=case.id,
            purpose=purpose,
            outcome="denied",
            reason=None if document is None else projection.withheld[document.category].reason,
        )
        raise DocumentNotFound(document_id=document_id)
    return document, projection


async def read_document(
    uow: CaseUnitOfWork, case_id: UUID, document_id: UUID, *, actor: Principal, purpose: Purpose, now: datetime
) -> DocumentRead:
    document, projection = await _visible_document(uow, case_id, document_id, actor=actor, purpose=purpose, now=now)
    audit_read(
        uow,
        actor,
        AuditAction.VIEW,
        resource_type=RESOURCE,
        resource_id=document.id,
        case_id=document.case_id,
        projection=projection,
        purpose=purpose,
        returned={document.category},
    )
    return document_read(document, await uow.documents.metadata(document), projection)


@dataclass(frozen=True, slots=True)
class DocumentContent:
    filename: str
    media_type: str
    content: bytes


async def download_document(
    uow: CaseUnitOfWork, case_id: UUID, document_id: UUID, *, actor: Principal, purpose: Purpose, now: datetime
) -> DocumentContent:
    """The opened content; audited as an export (the file leaves the case file). 410 after erasure."""
    document, projection = await _visible_document(uow, case_id, document_id, actor=actor, purpose=purpose, now=now)
    metadata = await uow.documents.metadata(document)
    content = await uow.documents.content(document)
    if content is None or metadata.filename is None:
        raise DocumentErased(document_id=document_id)
    audit_read(
        uow,
        actor,
        AuditAction.EXPORT,
        resource_type=RESOURCE,
        resource_id=document.id,
        case_id=document.case_id,
        projection=projection,
        purpose=purpose,
        returned={document.category},
    )
    return DocumentContent(filename=metadata.filename, media_type=document.media_type.value, content=content)


async def delete_document(
    uow: CaseUnitOfWork, case_id: UUID, document_id: UUID, *, actor: Principal, now: datetime
) -> None:
    """Soft delete: the document leaves every read; the sealed row stays for the retention period and is
    crypto-shredded with the rest on erasure."""
    document = await uow.documents.get(case_id, document_id, for_update=True)
    category = document.category if document is not None else DataCategory.CASE_NOTES
    case, _, _ = await writable_case_and_facts(uow, case_id, category, actor=actor, now=now)
    if document is None:
        raise DocumentNotFound(document_id=document_id)
    document.deleted_at, document.deleted_by = now, actor.subject
    uow.audit.record(
        actor,
        AuditAction.DELETE,
        resource_type=RESOURCE,
        resource_id=document.id,
        case_id=case.id,
        categories=[category],
    )
