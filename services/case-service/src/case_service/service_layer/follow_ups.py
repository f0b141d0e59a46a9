"""Follow-up and monitoring visits: schedules by programme and vulnerability, extra visits, outcomes, and the
overdue job.

A schedule is generated when a case enters the stage where its follow-up starts (plan signature for a return
case, the follow-up stage for a resettlement case, post-closure monitoring for both), or on request, and is
recomputed whenever a new vulnerability screening changes what applies. Reads go through the access policy
(`visible_case`, projected per field with `domain/disclosure.py`), writes through `writable_case`; every one is
audited (`resource_type` `follow_up_visit`).
"""

from datetime import date, datetime, timedelta
from uuid import UUID

from case_service.domain.disclosure import Section, redact
from case_service.domain.errors import CaseNotActive, FollowUpNotStarted, FollowUpVisitNotFound
from case_service.domain.follow_ups import (
    FollowUpVisit,
    PlannedVisit,
    Schedule,
    ScheduleFacts,
    VisitStatus,
    ends_follow_up,
    extra_visit,
    new_visit,
    overdue_cutoff,
    phase_of,
    plan_visits,
    reschedule,
    schedule_of,
)
from case_service.domain.models import Case, is_minor
from case_service.domain.stages import is_active
from case_service.schemas.access import Withheld
from case_service.schemas.follow_ups import FollowUpRead, FollowUpScheduleRead, RecordVisitOutcome, ScheduleVisit
from case_service.service_layer.access import reader_projection, visible_case, writable_case_and_facts
from case_service.service_layer.projection import audit_read, withheld
from case_service.unit_of_work import CaseUnitOfWork
from casebridge_common.access import DataCategory, Projection, Purpose
from casebridge_common.audit import AuditAction
from casebridge_common.auth import Principal
from casebridge_common.events.contracts.case import CaseFollowUpDue, FollowUpPhase
from casebridge_common.http import require_if_match

RESOURCE = "follow_up_visit"
# The overdue job acts for no office; its audit entries name the service.
WORKER = Principal(
    subject="case-service.follow-up-overdue",
    client_id="case-service",
    organisation_id=None,
    office_id=None,
    country=None,
    scopes=frozenset(),
    roles=frozenset(),
)


async def _schedule_facts(uow: CaseUnitOfWork, case: Case, phase: FollowUpPhase, today: date) -> ScheduleFacts:
    beneficiary = await uow.beneficiaries.get(case.beneficiary_id)
    return ScheduleFacts(
        programme=case.programme,
        phase=phase,
        vulnerability_categories=frozenset(case.vulnerability_categories),
        is_child=beneficiary is not None and is_minor(beneficiary.born_on, today),
    )


async def _apply_schedule(
    uow: CaseUnitOfWork, case: Case, phase: FollowUpPhase, *, by: Principal, now: datetime
) -> tuple[Schedule, list[UUID]]:
    """Generate the phase's schedule, or bring it in line with the case's facts; returns the schedule that
    applies and the upcoming visits it cancelled."""
    today = now.date()
    facts = await _schedule_facts(uow, case, phase, today)
    current = await uow.follow_ups.of_phase(case.id, phase)
    generated = [v for v in current if v.schedule is not Schedule.EXTRA]
    anchor = generated[0].anchor_on if generated else today
    target: list[PlannedVisit] = plan_visits(facts, anchor)
    change = reschedule(current, target, today)
    for visit in current:
        if visit.id in change.cancel:
            visit.cancel()
    added = [new_visit(case.id, phase, anchor, p, by=by.subject, now=now) for p in change.add]
    for visit in added:
        uow.follow_ups.add(visit)
    if added or change.cancel:
        uow.audit.record(
            by,
            AuditAction.UPDATE if generated else AuditAction.CREATE,
            resource_type=RESOURCE,
            resource_id=None,
            case_id=case.id,
            purpose=Purpose.CASE_MANAGEMENT,
        )
    return schedule_of(facts)[0], change.cancel


async def on_stage_entered(uow: CaseUnitOfWork, case: Case, *, actor: Principal, now: datetime) -> None:
    """Called by a stage change, in its transaction: a case entering a follow-up phase gets its schedule once
    (going back to planning and forward again keeps the visits already planned). A case that ends (closed,
    withdrawn, deceased, ...) cancels the visits still planned for its follow-up, so none turns overdue."""
    if (phase := phase_of(case.programme, case.stage)) is not None:
        await _apply_schedule(uow, case, phase, by=actor, now=now)
    elif ends_follow_up(case.stage):
        planned = [
            v
            for ended in FollowUpPhase
            for v in await uow.follow_ups.of_phase(case.id, ended)
            if v.status is VisitStatus.PLANNED
        ]
        for visit in planned:
            visit.cancel()
        if planned:
            uow.audit.record(actor, AuditAction.UPDATE, resource_type=RESOURCE, resource_id=None, case_id=case.id)


async def on_screening_recorded(uow: CaseUnitOfWork, case: Case, *, actor: Principal, now: datetime) -> None:
    """Called when a vulnerability screening is recorded: the upcoming visits follow the new categories."""
    if (phase := phase_of(case.programme, case.stage)) is not None:
        await _apply_schedule(uow, case, phase, by=actor, now=now)


def _full(visit: FollowUpVisit, notes: str | None, psychosocial_notes: str | None, erased: bool) -> dict[str, object]:
    return {
        "id": visit.id,
        "case_id": visit.case_id,
        "phase": visit.phase,
        "schedule": visit.schedule,
        "anchor_on": visit.anchor_on,
        "planned_on": visit.planned_on,
        "kind": visit.kind,
        "status": visit.status,
        "held_on": visit.held_on,
        "outcome": visit.outcome,
        "notes": notes,
        "psychosocial_notes": psychosocial_notes,
        "is_overdue": visit.is_overdue,
        "overdue_at": visit.overdue_at,
        "erased": erased,
        "created_by": visit.created_by,
        "created_at": visit.created_at,
        "recorded_by": visit.recorded_by,
        "recorded_at": visit.recorded_at,
        "version": visit.version,
    }


async def _read(
    uow: CaseUnitOfWork, visit: FollowUpVisit, projection: Projection
) -> tuple[FollowUpRead, set[DataCategory], set[DataCategory]]:
    opened = await uow.follow_ups.notes_of(visit)
    view = redact(
        Section.FOLLOW_UP,
        _full(visit, opened.notes, opened.psychosocial_notes, opened.erased),
        projection.allowed.keys(),
    )
    read = FollowUpRead.model_validate(view.data | {"withheld": withheld(projection, view.withheld)})
    return read, set(view.returned), set(view.withheld)


async def _writable(
    uow: CaseUnitOfWork, case_id: UUID, category: DataCategory, actor: Principal, now: datetime
) -> tuple[Case, Projection]:
    case, facts, _ = await writable_case_and_facts(uow, case_id, category, actor=actor, now=now)
    return case, await reader_projection(uow, actor, facts, Purpose.CASE_MANAGEMENT, now=now)


async def schedule_follow_ups(
    uow: CaseUnitOfWork, case_id: UUID, *, actor: Principal, now: datetime
) -> FollowUpScheduleRead:
    """Generate or recompute the schedule of the phase the case is in (409 `follow-up-not-started` outside)."""
    case, projection = await _writable(uow, case_id, DataCategory.CASE_NOTES, actor, now)
    phase = phase_of(case.programme, case.stage)
    if phase is None:
        raise FollowUpNotStarted(stage=case.stage)
    schedule, cancelled = await _apply_schedule(uow, case, phase, by=actor, now=now)
    items = [(await _read(uow, v, projection))[0] for v in await uow.follow_ups.of_phase(case.id, phase)]
    return FollowUpScheduleRead(phase=phase, schedule=schedule, items=items, cancelled=cancelled)


async def list_follow_ups(
    uow: CaseUnitOfWork,
    case_id: UUID,
    *,
    actor: Principal,
    purpose: Purpose,
    now: datetime,
    status: VisitStatus | None,
    after: tuple[date, UUID] | None,
    limit: int,
) -> tuple[list[FollowUpRead], list[Withheld]]:
    case, _, projection = await visible_case(
        uow, case_id, actor=actor, purpose=purpose, now=now, resource_type=RESOURCE
    )
    reads = [
        await _read(uow, v, projection)
        for v in await uow.follow_ups.page(case.id, status=status, after=after, limit=limit)
    ]
    returned: set[DataCategory] = set()
    kept_back: set[DataCategory] = set()
    for _, shown, held in reads:
        returned |= shown
        kept_back |= held
    audit_read(
        uow,
        actor,
        AuditAction.LIST,
        resource_type=RESOURCE,
        resource_id=case.id,
        case_id=case.id,
        projection=projection,
        purpose=purpose,
        returned=returned,
    )
    return [r for r, _, _ in reads], withheld(projection, kept_back)


async def add_visit(
    uow: CaseUnitOfWork, case_id: UUID, command: ScheduleVisit, *, actor: Principal, now: datetime
) -> FollowUpRead:
    """An extra visit, on an active case or one in post-closure monitoring (for example the follow-up screening
    due as soon as possible after rapid-assessment flags, R13)."""
    case, projection = await _writable(uow, case_id, DataCategory.CASE_NOTES, actor, now)
    phase = phase_of(case.programme, case.stage)
    if phase is None:
        if not is_active(case.stage):
            raise CaseNotActive(stage=case.stage)
        phase = FollowUpPhase.FOLLOW_UP
    visit = extra_visit(case.id, phase, command.planned_on, command.kind, by=actor.subject, now=now)
    uow.follow_ups.add(visit)
    uow.audit.record(
        actor,
        AuditAction.CREATE,
        resource_type=RESOURCE,
        resource_id=visit.id,
        case_id=case.id,
        purpose=Purpose.CASE_MANAGEMENT,
    )
    return (await _read(uow, visit, projection))[0]


async def record_outcome(
    uow: CaseUnitOfWork,
    case_id: UUID,
    visit_id: UUID,
    command: RecordVisitOutcome,
    *,
    actor: Principal,
    if_match: str | None,
    now: datetime,
) -> FollowUpRead:
    """Record a visit as completed or missed, once, with its outcome and notes (If-Match on the visit)."""
    category = DataCategory.PSYCHOSOCIAL_NOTES if command.psychosocial_notes else DataCategory.CASE_NOTES
    case, projection = await _writable(uow, case_id, category, actor, now)
    visit = await uow.follow_ups.get(case.id, visit_id, for_update=True)
    if visit is None:
        raise FollowUpVisitNotFound(visit_id=visit_id)
    require_if_match(if_match, visit.version)
    visit.record(command.status, held_on=command.held_on, outcome=command.outcome, by=actor.subject, now=now)
    await uow.follow_ups.seal_notes(visit, notes=command.notes, psychosocial_notes=command.psychosocial_notes)
    categories = {DataCategory.CASE_NOTES} | (
        {DataCategory.PSYCHOSOCIAL_NOTES} if command.psychosocial_notes else set()
    )
    uow.audit.record(
        actor,
        AuditAction.UPDATE,
        resource_type=RESOURCE,
        resource_id=visit.id,
        case_id=case.id,
        categories=sorted(categories),
        purpose=Purpose.CASE_MANAGEMENT,
    )
    return (await _read(uow, visit, projection))[0]


async def flag_overdue(uow: CaseUnitOfWork, *, now: datetime, overdue_after: timedelta, limit: int) -> int:
    """One batch of planned visits more than `overdue_after` past their day: each is marked overdue and
    `case.follow_up_due` is emitted once for it. Rows another worker holds are skipped; returns how many were
    marked, and the job's next round takes the rest."""
    due = await uow.follow_ups.claim_overdue(planned_before=overdue_cutoff(now.date(), overdue_after), limit=limit)
    for visit, owner_office_id in due:
        visit.mark_overdue(now)
        uow.outbox.emit(
            CaseFollowUpDue(
                case_id=visit.case_id,
                visit_id=visit.id,
                owner_office_id=owner_office_id,
                phase=visit.phase,
                kind=visit.kind,
                planned_on=visit.planned_on,
                overdue_at=now,
            )
        )
        uow.audit.record(
            WORKER, AuditAction.UPDATE, resource_type=RESOURCE, resource_id=visit.id, case_id=visit.case_id
        )
    return len(due)
