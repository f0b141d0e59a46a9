"""Mobile delta sync: the caller's change feed with tombstones, and the batch push of offline edits.

The feed. A first sync (no cursor) is a snapshot: the caller's visible caseload by case id, each case with
its assessments, plans, notes and assistance, in pages; then the feed continues with the journal's changes
after the high-water mark taken when the snapshot began (changes made while it was paged are delivered again,
which is harmless: every item is the record's current state). Each item is projected exactly as the normal
read projects it (`reader_projection` and the builders of `projection.py`), and each case of a page leaves one
audit entry with the categories returned.

Tombstones, and the visibility rule. Visibility is decided per case at read time, never stored: for every case
with a journalled change in the page (its records, its shares, transfers, referral links, break-glass grants,
or its beneficiary's consents) the policy is asked again. A visible case gets its changed records (after a
change of access: its whole file, since the caller may now see more or less of it, or see it for the first
time); an invisible one gets one `no_longer_visible` tombstone, but only when the caller could once have seen
it (its office owned it, held a share or transfer of it, was a referral destination, or the caller held a
break-glass grant), so that a tombstone never reveals a case. A record that no longer exists gets a `deleted`
tombstone. A share or break-glass grant that lapses by time (no write happens) and the erasure's bulk
consent update write no journal row. A lapse is found by time instead: the cursor carries the time its page
was read (a snapshot: the time it began), and the next page of changes asks again for every case whose share
(the caller's office's) or break-glass grant (the caller's own) ran out since then, as a change of access of
that case, so the device gets its tombstone (or, if it is still visible otherwise, its file). The erasure's
bulk consent update still reaches a device only with the case's next journalled change; until then a direct
read answers 404 and devices should drop a case on that 404.

The push. Each edit (a note, an assessment, a stage change, a case update, an assistance item's delivery or
closure) runs in its own savepoint through the same use case as the single endpoint (policy,
audit, outbox), so a rejected edit undoes only itself. An applied edit's result is stored under its
`client_id` (the Idempotency-Key store, 24 h) and replayed on a re-push; conflicts and rejections are not
stored, so pushing the edit again re-evaluates it.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from case_service.domain.models import Case
from case_service.domain.sync import ChangeOp, SyncChange, SyncEntity, SyncPosition, TombstoneReason, is_stale
from case_service.schemas import CaseRead
from case_service.schemas.sync import (
    PushAssessment,
    PushAssistanceClosure,
    PushBatch,
    PushDelivery,
    PushItem,
    PushNote,
    PushOutcome,
    PushResult,
    PushStageChange,
    SyncItem,
)
from case_service.service_layer import assistance, cases, lifecycle
from case_service.service_layer.access import many_case_facts, reader_projection
from case_service.service_layer.projection import (
    assessment_read,
    assistance_read,
    audit_read,
    case_read,
    note_read,
    plan_read,
)
from case_service.unit_of_work import CaseUnitOfWork
from casebridge_common.access import DataCategory, Projection, Purpose
from casebridge_common.audit import AuditAction
from casebridge_common.auth import Principal
from casebridge_common.http import REQUEST_TARGET, etag
from casebridge_common.problems import PROBLEM_BASE, DomainError, PreconditionFailed, Problem
from casebridge_common.telemetry import current_trace_id

PURPOSE = Purpose.CASE_MANAGEMENT


@dataclass
class _Shown:
    """The items of one case in a page, and the categories they returned (for the audit entry)."""

    items: list[SyncItem] = field(default_factory=list)
    returned: set[DataCategory] = field(default_factory=set)


async def _records(
    uow: CaseUnitOfWork, case: Case, projection: Projection, ids: dict[SyncEntity, set[UUID]] | None, seq: int | None
) -> _Shown:
    """The case's records of each kind as projected for the reader: all of them (`ids` None) or the named ones,
    with a `deleted` tombstone for a named one that no longer exists."""
    shown = _Shown()

    def wanted(entity: SyncEntity) -> bool:
        return ids is None or bool(ids.get(entity))

    def upsert(entity: SyncEntity, entity_id: UUID, **record: object) -> SyncItem:
        return SyncItem.model_validate(
            {"seq": seq, "case_id": case.id, "entity_type": entity, "entity_id": entity_id, "op": ChangeOp.UPSERT}
            | record
        )

    if ids is None or SyncEntity.CASE in ids:
        read, view = case_read(case, projection)
        shown.items.append(upsert(SyncEntity.CASE, case.id, case=read))
        shown.returned |= view.returned
    found: set[UUID] = set()
    if wanted(SyncEntity.ASSESSMENT):
        rows = await (
            uow.assessments.history(case.id, None)
            if ids is None
            else uow.sync.assessments(case.id, ids[SyncEntity.ASSESSMENT])
        )
        for a in rows:
            read_a, view = assessment_read(a, projection)
            shown.items.append(upsert(SyncEntity.ASSESSMENT, a.id, assessment=read_a))
            shown.returned |= view.returned
            found.add(a.id)
    if wanted(SyncEntity.PLAN):
        plans = await (uow.plans.all_of(case.id) if ids is None else uow.sync.plans(case.id, ids[SyncEntity.PLAN]))
        for p in plans:
            read_p, view = plan_read(p, projection)
            shown.items.append(upsert(SyncEntity.PLAN, p.id, plan=read_p))
            shown.returned |= view.returned
            found.add(p.id)
    if wanted(SyncEntity.NOTE):
        notes = await (uow.notes.all_of(case.id) if ids is None else uow.sync.notes(case.id, ids[SyncEntity.NOTE]))
        for n in notes:
            read_n, view = note_read(n, projection)
            shown.items.append(upsert(SyncEntity.NOTE, n.id, note=read_n))
            shown.returned |= view.returned
            found.add(n.id)
    if wanted(SyncEntity.ASSISTANCE):
        items = await (
            uow.assistance.of_case(case.id) if ids is None else uow.sync.assistance(case.id, ids[SyncEntity.ASSISTANCE])
        )
        for i in items:
            read_i, view = assistance_read(i, projection)
            shown.items.append(upsert(SyncEntity.ASSISTANCE, i.id, assistance=read_i))
            shown.returned |= view.returned
            found.add(i.id)
    for entity, entity_ids in (ids or {}).items():
        if entity in (SyncEntity.CASE, SyncEntity.ACCESS):
            continue
        for missing in sorted(entity_ids - found):
            shown.items.append(
                SyncItem(
                    seq=seq,
                    case_id=case.id,
                    entity_type=entity,
                    entity_id=missing,
                    op=ChangeOp.DELETE,
                    reason=TombstoneReason.DELETED,
                )
            )
    return shown


def _audit(uow: CaseUnitOfWork, actor: Principal, case: Case, projection: Projection, shown: _Shown) -> None:
    audit_read(
        uow,
        actor,
        AuditAction.LIST,
        resource_type="case",
        resource_id=case.id,
        case_id=case.id,
        projection=projection,
        purpose=PURPOSE,
        returned=shown.returned,
    )


async def _snapshot_page(
    uow: CaseUnitOfWork, position: SyncPosition, *, actor: Principal, now: datetime, limit: int
) -> tuple[list[SyncItem], SyncPosition]:
    """Up to `limit` visible cases after `position.after_case`, each with its whole file."""
    items: list[SyncItem] = []
    shown_cases, after = 0, position.after_case
    while True:
        batch = await uow.sync.related_after(actor, now, after=after, limit=limit)
        facts = await many_case_facts(uow, batch, now=now)
        for case in batch:
            projection = await reader_projection(uow, actor, facts[case.id], PURPOSE, now=now)
            if not projection.visible:
                continue
            shown = await _records(uow, case, projection, None, None)
            _audit(uow, actor, case, projection, shown)
            items.extend(shown.items)
            shown_cases += 1
            if shown_cases == limit:
                return items, SyncPosition(seq=position.seq, since=position.since, snapshot=True, after_case=case.id)
        if len(batch) < limit:  # the caseload is done: the feed continues from here
            return items, SyncPosition(seq=position.seq, since=position.since)
        after = batch[-1].id


@dataclass
class _CaseChanges:
    seq: int = 0
    access: bool = False
    ids: dict[SyncEntity, set[UUID]] = field(default_factory=dict)


async def _by_case(uow: CaseUnitOfWork, rows: Sequence[SyncChange]) -> dict[UUID, _CaseChanges]:
    """The page's journal rows per case; a consent change counts as an access change of each of the
    beneficiary's cases."""
    beneficiaries = await uow.sync.cases_of_beneficiaries(r.beneficiary_id for r in rows if r.beneficiary_id)
    changes: dict[UUID, _CaseChanges] = {}
    for row in rows:
        assert row.seq is not None  # noqa: S101 - read by number
        if row.case_id is not None:
            targets = [row.case_id]
        else:
            targets = beneficiaries.get(row.beneficiary_id, []) if row.beneficiary_id is not None else []
        for case_id in targets:
            entry = changes.setdefault(case_id, _CaseChanges())
            entry.seq = max(entry.seq, row.seq)
            if row.entity_type is SyncEntity.ACCESS:
                entry.access = True
            else:
                entry.ids.setdefault(row.entity_type, set()).add(row.entity_id)
    return changes


async def _changes_page(
    uow: CaseUnitOfWork, position: SyncPosition, high: int, *, actor: Principal, now: datetime, limit: int
) -> tuple[list[SyncItem], SyncPosition]:
    rows = await uow.sync.after(position.seq, up_to=high, limit=limit)
    last = rows[-1].seq if rows else position.seq
    assert last is not None  # noqa: S101 - read by number
    changes = await _by_case(uow, rows)
    for case_id in await uow.sync.lapsed(actor, after=position.since, up_to=now):
        entry = changes.setdefault(case_id, _CaseChanges())
        entry.seq, entry.access = last, True  # reported at the page's end: the journal has no number for it
    found = await uow.sync.cases(changes)
    facts = await many_case_facts(uow, list(found.values()), now=now)
    hidden: list[Case] = []
    items: list[SyncItem] = []
    for case_id, change in changes.items():
        case = found.get(case_id)
        if case is None:
            continue  # cases are never deleted (erasure keeps the row); nothing to say about an unknown id
        projection = await reader_projection(uow, actor, facts[case.id], PURPOSE, now=now)
        if not projection.visible:
            hidden.append(case)
            continue
        shown = await _records(uow, case, projection, None if change.access else change.ids, change.seq)
        _audit(uow, actor, case, projection, shown)
        items.extend(shown.items)
    once_related = await uow.sync.ever_related(actor, (c.id for c in hidden))
    items.extend(
        SyncItem(
            seq=changes[c.id].seq,
            case_id=c.id,
            entity_type=SyncEntity.CASE,
            entity_id=c.id,
            op=ChangeOp.DELETE,
            reason=TombstoneReason.NO_LONGER_VISIBLE,
        )
        for c in hidden
        if c.id in once_related
    )
    items.sort(key=lambda i: (i.seq or 0, str(i.case_id), i.entity_type != SyncEntity.CASE, str(i.entity_id)))
    return items, SyncPosition(seq=last, since=now)


async def number_changes(uow: CaseUnitOfWork) -> int:
    """Number the committed journal rows not numbered yet; the journal's high-water mark. Its own short
    transaction: the numbering lock is held only for this, not while a page is read and projected."""
    return await uow.sync.number_pending()


async def changes_since(
    uow: CaseUnitOfWork, position: SyncPosition | None, high: int, *, actor: Principal, now: datetime, limit: int
) -> tuple[list[SyncItem], SyncPosition, bool]:
    """One page of the caller's feed from `position` (None: a first sync, which starts with a snapshot) up to
    the high-water mark `high`, the position after it, and whether more is waiting. A snapshot page holds up to
    `limit` cases; a page of changes covers up to `limit` journal rows (a change of access expands to the
    case's whole file)."""
    start = position or SyncPosition(seq=high, since=now, snapshot=True)
    if start.snapshot:
        items, after = await _snapshot_page(uow, start, actor=actor, now=now, limit=limit)
        return items, after, after.snapshot or high > after.seq
    items, after = await _changes_page(uow, start, high, actor=actor, now=now, limit=limit)
    return items, after, high > after.seq


def _problem(exc: DomainError) -> Problem:
    return Problem.model_validate(
        {
            "type": PROBLEM_BASE + exc.code,
            "title": exc.title,
            "status": exc.status,
            "code": exc.code,
            "detail": exc.detail,
            "instance": REQUEST_TARGET.get().partition(" ")[2] or None,
            "trace_id": current_trace_id(),
        }
        | {k: v for k, v in exc.context.items() if k not in {"type", "title", "status", "code", "detail"}}
    )


async def _apply(uow: CaseUnitOfWork, item: PushItem, *, actor: Principal, now: datetime) -> PushResult:
    """One edit through its single endpoint's use case; a stale base version is a conflict, not a write."""
    base: dict[str, object] = {"client_id": item.client_id, "op": item.op, "case_id": item.case_id}
    if isinstance(item, PushNote):
        note = await lifecycle.write_note(uow, item.case_id, item.note, actor=actor, now=now)
        return PushResult.model_validate(base | {"outcome": PushOutcome.APPLIED, "note": note})
    if isinstance(item, PushAssessment):
        await uow.cases.get(item.case_id, for_update=True)  # versions of a kind only grow under the case lock
        kind = item.assessment.kind
        current = await uow.assessments.latest_version(item.case_id, kind)
        if is_stale(item.base_version, current):
            latest, _ = await lifecycle.assessment_history(
                uow, item.case_id, kind, actor=actor, purpose=PURPOSE, now=now, after=None, limit=1
            )
            return PushResult.model_validate(
                base
                | {
                    "outcome": PushOutcome.CONFLICT,
                    "current_version": current,
                    "assessment": latest[0] if latest else None,
                }
            )
        recorded = await lifecycle.record_assessment(uow, item.case_id, item.assessment, actor=actor, now=now)
        return PushResult.model_validate(
            base | {"outcome": PushOutcome.APPLIED, "version": recorded.version, "assessment": recorded}
        )
    if isinstance(item, PushDelivery | PushAssistanceClosure):
        return await _apply_to_assistance(uow, item, base, actor=actor, now=now)
    try:
        if isinstance(item, PushStageChange):
            changed = await lifecycle.change_stage(
                uow, item.case_id, item.change, actor=actor, if_match=etag(item.base_version), now=now
            )
            case = CaseRead.model_validate(changed)
        else:
            case = await cases.patch_case(
                uow, item.case_id, item.fields, actor=actor, if_match=etag(item.base_version), now=now
            )
    except PreconditionFailed as exc:
        copy = await cases.read_case(uow, item.case_id, actor=actor, purpose=PURPOSE, now=now)
        current_version = exc.context.get("current_version")
        return PushResult.model_validate(
            base | {"outcome": PushOutcome.CONFLICT, "current_version": current_version, "case": copy}
        )
    return PushResult.model_validate(base | {"outcome": PushOutcome.APPLIED, "version": case.version, "case": case})


async def _apply_to_assistance(
    uow: CaseUnitOfWork,
    item: PushDelivery | PushAssistanceClosure,
    base: dict[str, object],
    *,
    actor: Principal,
    now: datetime,
) -> PushResult:
    """A delivery or a closure of an assistance item, made on the item's `base_version`."""
    if_match = etag(item.base_version)
    try:
        if isinstance(item, PushDelivery):
            changed = await assistance.record_delivery(
                uow, item.case_id, item.assistance_item_id, item.delivery, actor=actor, now=now, if_match=if_match
            )
        else:
            changed = await assistance.close_assistance(
                uow, item.case_id, item.assistance_item_id, item.closure, actor=actor, now=now, if_match=if_match
            )
    except PreconditionFailed as exc:
        copy = await assistance.read_assistance(
            uow, item.case_id, item.assistance_item_id, actor=actor, purpose=PURPOSE, now=now
        )
        current_version = exc.context.get("current_version")
        return PushResult.model_validate(
            base | {"outcome": PushOutcome.CONFLICT, "current_version": current_version, "assistance": copy}
        )
    return PushResult.model_validate(
        base | {"outcome": PushOutcome.APPLIED, "version": changed.version, "assistance": changed}
    )


async def push_edits(uow: CaseUnitOfWork, batch: PushBatch, *, actor: Principal, now: datetime) -> list[PushResult]:
    """Apply a batch of offline edits in order, each in its own savepoint: one result per edit."""
    results: list[PushResult] = []
    for item in batch.items:
        savepoint = await uow.session.begin_nested()
        try:
            replay = await uow.idempotency.replay(f"sync-push:{item.client_id}", actor, item)
            if replay is not None:
                await savepoint.rollback()
                results.append(PushResult.model_validate_json(bytes(replay.body)).model_copy(update={"replayed": True}))
                continue
            result = await _apply(uow, item, actor=actor, now=now)
        except DomainError as exc:
            await savepoint.rollback()
            results.append(
                PushResult(
                    client_id=item.client_id,
                    op=item.op,
                    case_id=item.case_id,
                    outcome=PushOutcome.REJECTED,
                    problem=_problem(exc),
                )
            )
            continue
        if result.outcome is PushOutcome.APPLIED:
            await uow.idempotency.remember(status=200, body=result)
            await savepoint.commit()
        else:
            await savepoint.rollback()
        results.append(result)
    return results
