from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from case_service.api.dependencies import CasesRead, PlanVersion, PurposeParam, UoW
from case_service.service_layer import plan_copy
from casebridge_common.access import Purpose
from casebridge_common.db import utc_now
from casebridge_common.problems import problems

router = APIRouter(prefix="/v1/cases", tags=["cases"])

LanguageParam = Annotated[
    str | None,
    Query(
        pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$",
        description="BCP 47 tag of the copy's language (en, fr, ar are translated); default: the beneficiary's",
        examples=["fr"],
    ),
]


@router.get(
    "/{case_id}/plans/{version}/beneficiary-copy",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {"example": "<!DOCTYPE html>…"}}}, **problems(401, 403, 404, 422)},
)
async def beneficiary_copy(
    case_id: UUID,
    version: PlanVersion,
    uow: UoW,
    who: CasesRead,
    language: LanguageParam = None,
    purpose: PurposeParam = Purpose.CASE_MANAGEMENT,
) -> HTMLResponse:
    """The beneficiary's copy of a plan version as printable HTML (A4 print styles): every field of the
    Annex 3 template and the plan's arrangements, labelled in `language`, or else in the first of the
    beneficiary's languages, where a translation exists (English, French, Arabic right-to-left); English
    otherwise. `Content-Language` names the language used, and `X-Plan-Copy-Language-Fallback: true` says
    that no translation existed. Needs `reintegration_plan` (403 `access-denied` otherwise); the name, grant
    amounts and scores are printed as not shown when their categories are withheld. Audited as an export."""
    async with uow:
        result = await plan_copy.beneficiary_copy(
            uow, case_id, version, language=language, actor=who, purpose=purpose, now=utc_now()
        )
        await uow.commit()
    return HTMLResponse(
        result.html,
        headers={
            "Content-Language": result.language.value,
            "X-Plan-Copy-Language-Fallback": "true" if result.fell_back else "false",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
            "Cache-Control": "no-store",
        },
    )
