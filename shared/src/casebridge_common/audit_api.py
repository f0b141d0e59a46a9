"""`GET /v1/audit/verification`: every service exposes the check of its own audit hash chain."""

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from casebridge_common.audit import verify_chain
from casebridge_common.auth import Principal, Scope, requires
from casebridge_common.problems import problems

router = APIRouter(prefix="/v1/audit", tags=["audit"])
AuditReader = Annotated[Principal, requires(Scope.AUDIT_READ)]


class AuditVerificationRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ok": True,
                    "entries_checked": 18234,
                    "first_broken_seq": None,
                    "problem": None,
                    "last_seq": 18234,
                    "sealed_before_check": 3,
                },
                {
                    "ok": False,
                    "entries_checked": 411,
                    "first_broken_seq": 412,
                    "problem": "hash-mismatch",
                    "sealed_before_check": 0,
                },
            ]
        }
    )

    ok: bool = Field(description="true when every entry's hash and link to its predecessor are intact")
    entries_checked: int = Field(description="entries found intact, from seq 1 on")
    first_broken_seq: int | None = Field(default=None, description="the first entry that is altered or missing")
    problem: str | None = Field(
        default=None, description="`sequence-gap` (a row missing), `link-mismatch` or `hash-mismatch` (a row altered)"
    )
    last_seq: int | None = Field(default=None, description="the newest entry of an intact chain")
    sealed_before_check: int = Field(
        description="entries that were still unsealed when the check began (committed within about the last "
        "second, or more while the worker is not sealing); they were sealed first and are checked with the rest"
    )


@router.get("/verification", responses=problems(401, 403))
async def verify_audit_chain(request: Request, who: AuditReader) -> AuditVerificationRead:
    """Seal the entries still waiting for the worker's sealer, then recompute this service's audit hash chain
    from the first entry to the newest and report the first entry that was altered, inserted or removed. Needs
    the scope `audit:read`. Changes nothing but the sealing; on a large log it takes a while, so call it from an
    operator's tool, not on every page load."""
    result = await verify_chain(request.state.sessions)
    return AuditVerificationRead(
        ok=result.ok,
        entries_checked=result.entries_checked,
        first_broken_seq=result.first_broken_seq,
        problem=result.problem,
        last_seq=result.last_seq,
        sealed_before_check=result.sealed_before_check,
    )
