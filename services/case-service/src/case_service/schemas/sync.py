"""Bodies of the mobile sync endpoints: the change feed with its tombstones, and the batch push of offline
edits with one result per edit."""

from enum import StrEnum
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from case_service.domain.sync import ChangeOp, SyncEntity, TombstoneReason
from case_service.schemas import (
    AssessmentRead,
    AssistanceRead,
    CaseRead,
    ChangeStage,
    CloseAssistance,
    NoteRead,
    PlanRead,
    RecordAssessment,
    RecordDelivery,
    UpdateCase,
    WriteNote,
)
from casebridge_common.problems import Problem

MAX_PUSH_ITEMS = 100
_CASE = "7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11"


class SyncItem(BaseModel):
    """One record in its current state as the caller may see it (`op` upsert, exactly one of `case`,
    `assessment`, `plan`, `note`, `assistance` set), or a tombstone (`op` delete, with `reason`): `deleted`
    for a record that no longer exists, `no_longer_visible` on a `case` entry when the caller may no longer
    see the case at all (the device drops the case and everything under it)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "seq": 4211,
                    "case_id": _CASE,
                    "entity_type": "case",
                    "entity_id": _CASE,
                    "op": "delete",
                    "reason": "no_longer_visible",
                }
            ]
        }
    )

    seq: int | None = Field(description="journal number of the change; null in a snapshot")
    case_id: UUID
    entity_type: SyncEntity
    entity_id: UUID
    op: ChangeOp
    reason: TombstoneReason | None = None
    case: CaseRead | None = None
    assessment: AssessmentRead | None = None
    plan: PlanRead | None = None
    note: NoteRead | None = None
    assistance: AssistanceRead | None = None


class SyncChanges(BaseModel):
    """A page of the feed. Keep calling with `next_cursor` while `has_more`; store `next_cursor` for the next
    sync either way."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"items": [], "next_cursor": "eyJhIjpbImNoYW5nZXMiLDQyMTFd", "has_more": False}]
        }
    )

    items: list[SyncItem]
    next_cursor: str
    has_more: bool


class _PushItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: UUID = Field(description="generated on the device; pushing the same edit again replays its result")
    case_id: UUID


class PushNote(_PushItem):
    """Add a case note. Notes are only ever appended, so they cannot conflict and carry no base version."""

    op: Literal["add_note"]
    note: WriteNote


class PushAssessment(_PushItem):
    """Record a new version of an assessment made on `base_version`, the latest version of that kind the
    device had (null: none). A newer version on the server is a conflict."""

    op: Literal["record_assessment"]
    base_version: int | None = Field(ge=1)
    assessment: RecordAssessment


class PushStageChange(_PushItem):
    """Change the case's stage (or a sub-track) from `base_version`, the case version the device had."""

    op: Literal["change_stage"]
    base_version: int = Field(ge=1)
    change: ChangeStage


class PushCaseUpdate(_PushItem):
    """Change plain fields of the case (`PATCH /v1/cases/{id}`) from `base_version`, the case version the
    device had."""

    op: Literal["update_case"]
    base_version: int = Field(ge=1)
    fields: UpdateCase


class PushDelivery(_PushItem):
    """Record the hand-over of the item's next tranche (`POST /v1/cases/{id}/assistance/{item}/deliveries`) from
    `base_version`, the item's `version` the device had."""

    op: Literal["record_delivery"]
    assistance_item_id: UUID
    base_version: int = Field(ge=1)
    delivery: RecordDelivery


class PushAssistanceClosure(_PushItem):
    """Cancel the item or record it as an unmet need (`POST .../assistance/{item}/closure`) from
    `base_version`, the item's `version` the device had."""

    op: Literal["close_assistance"]
    assistance_item_id: UUID
    base_version: int = Field(ge=1)
    closure: CloseAssistance


PushItem = Annotated[
    PushNote | PushAssessment | PushStageChange | PushCaseUpdate | PushDelivery | PushAssistanceClosure,
    Field(discriminator="op"),
]


class PushBatch(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "client_id": "0b9f3c4e-52a4-4c1e-9d43-2f7f1a8e6c10",
                            "op": "add_note",
                            "case_id": _CASE,
                            "note": {"body": "Visited the shop; stock replenished", "is_confidential": False},
                        },
                        {
                            "client_id": "5d2e8b17-0c6a-4f58-8a1b-93e4d2c7f001",
                            "op": "record_assessment",
                            "case_id": _CASE,
                            "base_version": 1,
                            "assessment": {
                                "kind": "needs",
                                "economic": "Needs start-up capital",
                                "social": "Family support",
                                "psychosocial": "Stable",
                            },
                        },
                        {
                            "client_id": "9a7c51d2-3e0b-4d6f-b2a8-61c0e5f4a902",
                            "op": "change_stage",
                            "case_id": _CASE,
                            "base_version": 3,
                            "change": {
                                "to_stage": "arrived",
                                "attestations": ["handover_package_received_or_waived", "voluntariness_attested"],
                            },
                        },
                        {
                            "client_id": "c4e1f0a9-7b3d-4e2a-9f61-0d8b5a2c7e13",
                            "op": "update_case",
                            "case_id": _CASE,
                            "base_version": 4,
                            "fields": {"assigned_worker": "moussa.diop"},
                        },
                        {
                            "client_id": "e2a7c3b1-4f5d-4c6e-8a9b-1c2d3e4f5a60",
                            "op": "record_delivery",
                            "case_id": _CASE,
                            "assistance_item_id": "3c9e1a7b-2d4f-4e6a-9b8c-7d1e2f3a4b50",
                            "base_version": 1,
                            "delivery": {"tranche_number": 1, "delivered_on": "2027-01-15"},
                        },
                    ]
                }
            ]
        },
    )

    items: list[PushItem] = Field(min_length=1, max_length=MAX_PUSH_ITEMS)

    @model_validator(mode="after")
    def _distinct_client_ids(self) -> "PushBatch":
        if len({i.client_id for i in self.items}) != len(self.items):
            raise ValueError("every item needs its own client_id")
        return self


class PushOutcome(StrEnum):
    APPLIED = "applied"
    CONFLICT = "conflict"
    REJECTED = "rejected"


class PushResult(BaseModel):
    """`applied`: `version` is the new version and the record is set as the writer may read it back.
    `conflict`: nothing was written; `current_version` and the server's copy (as the caller may see it) are
    set. `rejected`: nothing was written; `problem` is what the single endpoint would have answered.
    `replayed`: an earlier push of this `client_id` was applied and this is its result."""

    client_id: UUID
    op: str
    case_id: UUID
    outcome: PushOutcome
    version: int | None = None
    current_version: int | None = None
    case: CaseRead | None = None
    assessment: AssessmentRead | None = None
    note: NoteRead | None = None
    assistance: AssistanceRead | None = None
    problem: Problem | None = None
    replayed: bool = False


class PushResults(BaseModel):
    items: list[PushResult]
