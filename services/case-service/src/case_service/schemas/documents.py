"""Bodies of the document endpoints."""

from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from case_service.domain.documents import DocumentKind, MediaType
from case_service.schemas.access import Withheld
from casebridge_common.http import IsoDateTime

Description = Annotated[str, Field(min_length=1, max_length=2000)]


class UploadDocument(BaseModel):
    """An upload as the service checked it (the multipart form's fields and the content's digest): what a
    repeated `Idempotency-Key` is compared with."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "travel_document",
                    "media_type": "application/pdf",
                    "filename": "laissez-passer.pdf",
                    "description": "Laissez-passer issued by the consulate",
                    "size_bytes": 184_233,
                    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                }
            ]
        },
    )

    kind: DocumentKind
    media_type: MediaType
    filename: str
    description: Description | None = None
    size_bytes: int = Field(gt=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class DocumentRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0b8e3f5e-2f4c-4f62-8d7e-3c1f0a9b6d21",
                    "case_id": "7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11",
                    "kind": "travel_document",
                    "media_type": "application/pdf",
                    "filename": "laissez-passer.pdf",
                    "description": "Laissez-passer issued by the consulate",
                    "size_bytes": 184_233,
                    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                    "erased": False,
                    "uploaded_by": "de-berlin-system",
                    "uploaded_at": "2026-12-02T09:30:00Z",
                }
            ]
        }
    )

    id: UUID
    case_id: UUID
    kind: DocumentKind
    media_type: MediaType
    filename: str | None = Field(default=None, description="null once the person's data was erased, or withheld")
    description: str | None = None
    size_bytes: int
    sha256: str = Field(description="SHA-256 of the content, hex")
    erased: bool = Field(default=False, description="the content and metadata were crypto-shredded on erasure")
    uploaded_by: str
    uploaded_at: IsoDateTime
    withheld: list[Withheld] = Field(default_factory=list)


class DocumentPage(BaseModel):
    """A page of the documents the caller may see; kinds whose category is withheld are left out and listed."""

    items: list[DocumentRead]
    next_cursor: str | None = None
    withheld: list[Withheld] = Field(default_factory=list)
