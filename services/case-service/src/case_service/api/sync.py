from typing import Annotated

from fastapi import APIRouter, Query

from case_service.api.dependencies import CasesRead, CasesWrite, UoW
from case_service.domain.sync import SyncPosition
from case_service.schemas.sync import PushBatch, PushResults, SyncChanges
from case_service.service_layer import sync
from casebridge_common.auth import Principal
from casebridge_common.db import utc_now
from casebridge_common.http import DEFAULT_LIMIT, Cursor, InvalidCursor, LimitParam
from casebridge_common.problems import problems

router = APIRouter(prefix="/v1/sync", tags=["sync"])


def _feed_of(who: Principal) -> dict[str, str | None]:
    """A cursor belongs to one caller's feed: another caller's cursor is 400 `invalid-cursor`."""
    return {"view": "sync", "subject": who.subject, "office": who.office_id, "organisation": who.organisation_id}


@router.get("/changes", responses=problems(400, 401, 403, 422))
async def sync_changes(
    uow: UoW,
    who: CasesRead,
    cursor: Annotated[
        str | None, Query(max_length=2048, description="`next_cursor` of the previous sync; omit for a first sync")
    ] = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> SyncChanges:
    """Mobile delta sync: what changed since `cursor` in the cases the caller may see, oldest change first,
    each record in its current state and projected exactly as the normal reads project it (`withheld` says
    what was left out). A first sync (no cursor) returns the caller's visible caseload in pages of up to
    `limit` cases, each with its assessments, plans, notes and assistance, and then continues with the
    changes; a page of changes covers up to `limit` journalled changes. Tombstones (`op` delete): `deleted`
    for a record that no longer exists, `no_longer_visible` for a case the caller may no longer see (share
    revoked or expired, break-glass grant lapsed, case transferred, consent withdrawn); drop the case and
    everything under it. Keep calling with `next_cursor` while `has_more`, and keep the last `next_cursor` for
    the next sync. A malformed cursor, or one issued to another caller, is 400 `invalid-cursor`."""
    feed = _feed_of(who)
    decoded = Cursor.decode(cursor, feed)
    try:
        position = None if decoded is None else SyncPosition.decode(decoded)
    except ValueError as exc:
        raise InvalidCursor(parameter="cursor") from exc
    async with uow:
        high = await sync.number_changes(uow)
        await uow.commit()
    async with uow:
        items, after, has_more = await sync.changes_since(uow, position, high, actor=who, now=utc_now(), limit=limit)
        await uow.commit()
    return SyncChanges(items=items, next_cursor=Cursor.encode(after.encode(), feed), has_more=has_more)


@router.post("/push", responses=problems(401, 403, 422))
async def push_edits(body: PushBatch, uow: UoW, who: CasesWrite) -> PushResults:
    """Apply up to 100 offline edits, in order, each on its own: one result per edit, in the same order.
    Edits: `add_note`, `record_assessment`, `change_stage` and `update_case` (on the case's `version`),
    `record_delivery` and `close_assistance` (on the assistance item's `version`).
    `applied`: written through the same rules as the single endpoint (policy, audit, events), with the new
    `version`. `conflict`: the server moved on from the edit's `base_version`; nothing was written, and
    `current_version` with the server's copy (as the caller may see it) let the device resolve it and push a
    new edit. `rejected`: `problem` is the single endpoint's problem+json (same `code`), nothing was written.
    A rejected or conflicting edit does not undo the others. Pushing an applied edit's `client_id` again
    replays its result (`replayed`) without writing twice; a `client_id` reused for another edit is rejected
    `idempotency-key-reused`. A malformed batch is 422 and nothing is applied."""
    async with uow:
        results = await sync.push_edits(uow, body, actor=who, now=utc_now())
        await uow.commit()
    return PushResults(items=results)
