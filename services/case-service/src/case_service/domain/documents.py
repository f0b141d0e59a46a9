"""Documents of a case file (identity and travel documents, medical records, certificates, signed consent forms):
what may be stored, and how their content is checked. Pure: no I/O, no clock.

The content and the descriptive metadata (file name, description) are stored sealed under the beneficiary's data
key (domain/vault.py), so erasure crypto-shreds documents with everything else. Only structure stays in clear:
the kind, the media type, the size and the SHA-256 of the content (for integrity checks and de-duplication).
"""

import io
import re
import unicodedata
import zipfile
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from urllib.parse import quote
from uuid import UUID, uuid4

from sqlalchemy import CheckConstraint, Column, DateTime, Index, LargeBinary
from sqlalchemy import Enum as SAEnum
from sqlmodel import Field, SQLModel

from case_service.domain.errors import DocumentEmpty, DocumentTooLarge, DocumentTypeMismatch, DocumentTypeNotAllowed
from casebridge_common.access import DataCategory
from casebridge_common.db import enum_type

MAX_FILENAME_CHARS = 255


class DocumentKind(StrEnum):
    IDENTITY_DOCUMENT = "identity_document"
    TRAVEL_DOCUMENT = "travel_document"
    MEDICAL_RECORD = "medical_record"
    LEGAL_DOCUMENT = "legal_document"
    CERTIFICATE = "certificate"
    CONSENT_FORM = "consent_form"
    OTHER = "other"


# The data category a document of each kind belongs to: it decides who may read it (the policy's projection)
# and who may add one (an `edit` share must be consented for it).
KIND_CATEGORY: Mapping[DocumentKind, DataCategory] = {
    DocumentKind.IDENTITY_DOCUMENT: DataCategory.IDENTITY_BIODATA,
    DocumentKind.TRAVEL_DOCUMENT: DataCategory.IDENTITY_BIODATA,
    DocumentKind.MEDICAL_RECORD: DataCategory.HEALTH_CLINICAL,
    DocumentKind.LEGAL_DOCUMENT: DataCategory.LEGAL_CRIMINAL,
    DocumentKind.CERTIFICATE: DataCategory.SKILLS_EMPLOYMENT,
    DocumentKind.CONSENT_FORM: DataCategory.CASE_NOTES,
    DocumentKind.OTHER: DataCategory.CASE_NOTES,
}


class MediaType(StrEnum):
    """The allow-list: formats an office scans or receives documents in, none of which runs code when opened."""

    PDF = "application/pdf"
    JPEG = "image/jpeg"
    PNG = "image/png"
    DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


_EXTENSION: Mapping[MediaType, str] = {
    MediaType.PDF: ".pdf",
    MediaType.JPEG: ".jpg",
    MediaType.PNG: ".png",
    MediaType.DOCX: ".docx",
}


class CaseDocument(SQLModel, table=True):
    """One document of a case. ``sealed_content`` and ``sealed_metadata`` are AES-GCM under the beneficiary's
    key, bound to this row; ``filename`` and ``description`` are the opened metadata, never stored in clear."""

    __tablename__ = "case_documents"
    __table_args__ = (
        Index("ix_case_documents_case_uploaded", "case_id", "uploaded_at", "id"),
        CheckConstraint("size_bytes > 0", name="size_positive"),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    case_id: UUID = Field(foreign_key="cases.id")
    kind: DocumentKind = Field(sa_type=enum_type(DocumentKind))
    media_type: MediaType = Field(  # the DOCX type is longer than `enum_type`'s 64 characters
        sa_type=SAEnum(MediaType, native_enum=False, length=100, values_callable=lambda ms: [m.value for m in ms])
    )
    size_bytes: int
    sha256: str = Field(min_length=64, max_length=64)
    sealed_metadata: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sealed_content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    uploaded_by: str
    uploaded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    deleted_by: str | None = None
    deleted_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))

    @property
    def category(self) -> DataCategory:
        return KIND_CATEGORY[self.kind]


def sniff(content: bytes) -> MediaType | None:
    """The allowed format the bytes are in, from their magic numbers; None for anything else."""
    if content.startswith(b"%PDF-"):
        return MediaType.PDF
    if content.startswith(b"\xff\xd8\xff"):
        return MediaType.JPEG
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return MediaType.PNG
    if content.startswith(b"PK\x03\x04") and _is_docx(content):
        return MediaType.DOCX
    return None


def _is_docx(content: bytes) -> bool:
    # A DOCX is a ZIP with a Word main part; only the central directory is read, nothing is decompressed.
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError):
        return False
    return "[Content_Types].xml" in names and "word/document.xml" in names


def check_content(declared: str, content: bytes, *, max_bytes: int) -> MediaType:
    """The checked media type of an upload: not empty, not over `max_bytes`, of an allowed type, and in the
    format it claims to be (a renamed executable or an HTML page sent as a PDF is refused)."""
    if len(content) > max_bytes:
        raise DocumentTooLarge(
            f"The document is {len(content)} bytes; at most {max_bytes} are accepted.",
            size_bytes=len(content),
            max_bytes=max_bytes,
        )
    if not content:
        raise DocumentEmpty()
    media_type = declared.split(";", 1)[0].strip().lower()
    allowed = [m.value for m in MediaType]
    if media_type not in allowed:
        raise DocumentTypeNotAllowed(
            f"{media_type or 'No type'} is not accepted.", declared_type=media_type, allowed=allowed
        )
    actual = sniff(content)
    if actual is None:
        raise DocumentTypeNotAllowed(
            "The content is in none of the accepted formats.", declared_type=media_type, allowed=allowed
        )
    if actual != media_type:
        raise DocumentTypeMismatch(
            f"The content is {actual.value}, not {media_type} as declared.",
            declared_type=media_type,
            detected_type=actual.value,
        )
    return actual


_UNSAFE = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|]+')


def clean_filename(raw: str | None, media_type: MediaType) -> str:
    """A file name safe to store and to send back: no directories, control or reserved characters, at most
    255 characters, and a default when nothing is left."""
    name = unicodedata.normalize("NFC", (raw or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = _UNSAFE.sub("_", name).strip(" ._")[:MAX_FILENAME_CHARS]
    return name or f"document{_EXTENSION[media_type]}"


def content_disposition(filename: str) -> str:
    """An `attachment` disposition (RFC 6266) with an ASCII fallback and the UTF-8 name (RFC 8187)."""
    fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    fallback = _UNSAFE.sub("_", fallback).replace("%", "_").strip() or "document"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
