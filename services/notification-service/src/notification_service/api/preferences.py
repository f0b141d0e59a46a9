from fastapi import APIRouter, Response

from casebridge_common.db import utc_now
from casebridge_common.http import IfMatch, etag
from casebridge_common.problems import problems
from notification_service.api.dependencies import InboxRead, InboxWrite, UoW
from notification_service.schemas import PreferencesRead, SetPreferences
from notification_service.service_layer import preferences

# Under /v1/inbox so the gateway's existing route reaches it.
router = APIRouter(prefix="/v1/inbox/preferences", tags=["preferences"])


@router.get("", responses=problems(401, 403))
async def get_preferences(uow: UoW, who: InboxRead, response: Response) -> PreferencesRead:
    """Your channels, e-mail address, language, quiet hours and digest choice: a user's token reads that
    user's, a system's token its office's (or organisation's). Never set: the defaults, with ETag "0"."""
    async with uow:
        result = PreferencesRead.model_validate(await preferences.read_preferences(uow, actor=who, now=utc_now()))
        await uow.commit()
    response.headers["ETag"] = etag(result.version)
    return result


@router.put("", responses=problems(401, 403, 412, 422, 428))
async def set_preferences(
    body: SetPreferences, uow: UoW, who: InboxWrite, response: Response, if_match: IfMatch = None
) -> PreferencesRead:
    """Replace your preferences. Needs `If-Match` (`"0"` the first time). E-mail needs an address."""
    quiet = (
        (body.quiet_hours_start, body.quiet_hours_end)
        if body.quiet_hours_start is not None and body.quiet_hours_end is not None
        else None
    )
    async with uow:
        stored = await preferences.set_preferences(
            uow,
            channels=body.channels,
            email_address=body.email_address,
            phone_number=body.phone_number,
            language=body.language,
            timezone=body.timezone,
            quiet_hours=quiet,
            digest=body.digest,
            if_match=if_match,
            actor=who,
            now=utc_now(),
        )
        result = PreferencesRead.model_validate(stored)
        await uow.commit()
    response.headers["ETag"] = etag(result.version)
    return result
