"""Bodies of the bulk caseload import API."""

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from case_service.domain.imports import ImportFormat, ImportStatus
from casebridge_common.http import IsoDateTime


class ImportUpload(BaseModel):
    """What identifies an upload for Idempotency-Key replays: the file's name and content digest."""

    file_name: str
    file_sha256: str


class ImportRead(BaseModel):
    """An import job and its progress: `processed` of `total_rows`, split into imported, skipped, rejected."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "5b1e6a0c-3f0e-4d59-8f4e-2f4f2b7c9e10",
                    "office_id": "de-berlin",
                    "file_name": "legacy-caseload-2026.xlsx",
                    "file_format": "xlsx",
                    "status": "running",
                    "total_rows": 1200,
                    "processed": 400,
                    "imported": 388,
                    "skipped": 5,
                    "rejected": 7,
                    "ignored_columns": ["Remarks"],
                    "created_at": "2026-12-02T09:00:00Z",
                    "started_at": "2026-12-02T09:00:02Z",
                    "finished_at": None,
                }
            ]
        },
    )

    id: UUID
    office_id: str
    file_name: str
    file_format: ImportFormat
    status: ImportStatus
    total_rows: int
    processed: int
    imported: int
    skipped: int
    rejected: int
    ignored_columns: list[str] = Field(description="headers that map to no field of the import mapping")
    created_at: IsoDateTime
    started_at: IsoDateTime | None
    finished_at: IsoDateTime | None


class RowProblemRead(BaseModel):
    column: str | None = Field(description="the mapped column at fault; null for the row as a whole")
    code: str = Field(examples=["birth-date-in-future"])
    detail: str


class RowRejection(BaseModel):
    """One rejected row: its spreadsheet row number (the header is row 1), its external id, what is wrong.
    Cell values are not repeated: fix the row in the source file and import it again."""

    row_number: int
    external_id: str | None
    problems: list[RowProblemRead]
