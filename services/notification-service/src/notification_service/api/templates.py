from fastapi import APIRouter, Response

from casebridge_common.db import utc_now
from casebridge_common.http import IfMatch, etag
from casebridge_common.problems import problems
from notification_service.api.dependencies import InboxRead, InboxWrite, UoW
from notification_service.domain.emails import placeholders
from notification_service.domain.models import EmailTemplate, InboxKind, Language
from notification_service.schemas import SetTemplate, TemplateRead
from notification_service.service_layer import templates

# Under /v1/inbox so the gateway's existing route reaches it.
router = APIRouter(prefix="/v1/inbox/templates", tags=["templates"])


def _read(template: EmailTemplate) -> TemplateRead:
    result = TemplateRead.model_validate(template)
    result.placeholders = sorted(placeholders(template.kind))
    return result


@router.get("/{kind}/{language}", responses=problems(401, 403))
async def get_template(
    kind: InboxKind, language: Language, uow: UoW, who: InboxRead, response: Response
) -> TemplateRead:
    """Your office's (or organisation's) e-mail template for one kind and language; the shipped one (version 0)
    until it is edited."""
    async with uow:
        result = _read(await templates.read_template(uow, kind, language, actor=who, now=utc_now()))
    response.headers["ETag"] = etag(result.version)
    return result


@router.put("/{kind}/{language}", responses=problems(401, 403, 412, 422, 428))
async def set_template(
    kind: InboxKind,
    language: Language,
    body: SetTemplate,
    uow: UoW,
    who: InboxWrite,
    response: Response,
    if_match: IfMatch = None,
) -> TemplateRead:
    """Replace the template (Jinja2). Needs `If-Match` (`"0"` the first time). A syntax error is 422
    `template-syntax-error`, a placeholder the kind does not have 422 `unknown-template-placeholder`."""
    async with uow:
        stored = await templates.set_template(
            uow,
            kind,
            language,
            subject=body.subject,
            text=body.text,
            if_match=if_match,
            actor=who,
            now=utc_now(),
        )
        result = _read(stored)
        await uow.commit()
    response.headers["ETag"] = etag(result.version)
    return result
