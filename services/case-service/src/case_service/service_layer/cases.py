from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from case_service.domain.disclosure import SECTIONS, Section
from case_service.domain.errors import BeneficiaryNotFound
from case_service.domain.models import (
    RETURN_PROFILE_FIELDS,
    Case,
    check_return_profile,
    is_minor,
    new_case_columns,
    open_case_for,
)
from case_service.domain.monitoring import PROFILED_CASE_FIELDS, MonitoringProfilePending
from case_service.domain.return_suspensions import guards_opening
from case_service.domain.stages import Stage
from case_service.domain.transfers import owner_projection
from case_service.schemas import CaseRead, OpenCase, UpdateCase
from case_service.service_layer import monitoring
from case_service.service_layer.access import (
    many_case_facts,
    reader_projection,
    refuse_forbidden_purpose,
    visible_case,
    writable_case_and_facts,
)
from case_service.service_layer.projection import audit_read, case_read
from case_service.unit_of_work import CaseOpeningWork, CaseUnitOfWork
from casebridge_common.access import DataCategory, Purpose, project
from casebridge_common.audit import AuditAction, AuditBuffer
from casebridge_common.auth import Principal
from casebridge_common.events.contracts.case import CaseOpened, Programme
from casebridge_common.http import IdempotencyClaim, require_if_match
from casebridge_common.outbox import EventBuffer


@dataclass(frozen=True, slots=True)
class _Opening:
    """A case about to be opened, with what it emits and its mark for the weekly monitoring publication."""

    case: Case
    opened: CaseOpened
    mark: MonitoringProfilePending


def _opening(
    beneficiary_id: UUID,
    command: OpenCase,
    *,
    subject_is_minor: bool,
    actor: Principal,
    now: datetime,
    dated_on_arrival: bool = True,
) -> _Opening:
    assert actor.office_id is not None  # noqa: S101 - the router requires an office claim
    profile = command.model_dump(include=set(RETURN_PROFILE_FIELDS), exclude_unset=True)
    check_return_profile(command.programme, profile, today=now.date())
    case = open_case_for(
        beneficiary_id,
        programme=command.programme,
        office_id=actor.office_id,
        organisation_id=actor.organisation_id,
        assigned_worker=command.assigned_worker,
        now=now,
        return_profile=profile,
        dated_on_arrival=dated_on_arrival,
    )
    opened = CaseOpened(
        case_id=case.id,
        case_version=case.version,
        beneficiary_id=case.beneficiary_id,
        programme=case.programme,
        owner_office_id=case.owner_office_id,
        owner_organisation_id=case.owner_organisation_id,
        opened_at=now,
        subject_is_minor=subject_is_minor,
    )
    return _Opening(case, opened, monitoring.opening_mark(case, now=now))


def _emit_opening(outbox: EventBuffer, audit: AuditBuffer, opening: _Opening, actor: Principal) -> None:
    outbox.emit(opening.opened)
    audit.record(actor, AuditAction.CREATE, resource_type="case", resource_id=opening.case.id)


def open_case(
    work: CaseOpeningWork, command: OpenCase, *, actor: Principal, now: datetime, claim: IdempotencyClaim | None
) -> CaseRead:
    """Stage the opening of a case for a beneficiary the caller's office registered: the case, `case.opened`, its
    audit entry, its monitoring mark (its first profile leaves with the weekly publication), and its answer as
    the answer to `claim`'s key. Returns the answer. The caller commits, which may find the beneficiary missing
    (404), returns to the person's country suspended (409, guard `returns_not_suspended`), or the key already
    answered."""
    assert actor.office_id is not None  # noqa: S101 - the router requires an office claim
    # whether the beneficiary is a minor, the commit's statement tells from the row it locks
    opening = _opening(command.beneficiary_id, command, subject_is_minor=False, actor=actor, now=now)
    answer = CaseRead.model_validate(new_case_columns(opening.case))
    work.openings.add(
        opening.case,
        office_id=actor.office_id,
        organisation_id=actor.organisation_id,
        suspendable=guards_opening(opening.case.stage),
    )
    _emit_opening(work.outbox, work.audit, opening, actor)
    work.openings.mark_pending(opening.mark)
    if claim is not None:
        work.openings.claim(claim, status=201, body=answer)
    return answer


async def open_case_within(uow: CaseUnitOfWork, command: OpenCase, *, actor: Principal, now: datetime) -> Case:
    """:func:`open_case` inside a unit of work that does more: a bulk import registers the beneficiary in it,
    and its legacy case keeps the date of return its row gives, or none (not today's). A suspension of returns
    does not refuse it: the legacy case exists already, as a case open when returns were suspended does."""
    assert actor.office_id is not None  # noqa: S101 - the submitter acts for an office
    # locked as the API's opening locks it (repositories/openings.py)
    beneficiary = await uow.beneficiaries.get_visible(
        command.beneficiary_id, office_id=actor.office_id, for_update=True
    )
    if beneficiary is None:
        raise BeneficiaryNotFound(pointer="#/beneficiary_id")
    opening = _opening(
        beneficiary.id,
        command,
        subject_is_minor=is_minor(beneficiary.born_on, now.date()),
        actor=actor,
        now=now,
        dated_on_arrival=False,
    )
    uow.cases.add(opening.case)
    _emit_opening(uow.outbox, uow.audit, opening, actor)
    await uow.monitoring.mark_pending(opening.mark)
    return opening.case


async def read_case(
    uow: CaseUnitOfWork, case_id: UUID, *, actor: Principal, purpose: Purpose, now: datetime
) -> CaseRead:
    """The case as the caller may see it, with what was withheld; 404 when it is not visible to them."""
    case, _, projection = await visible_case(uow, case_id, actor=actor, purpose=purpose, now=now)
    read, view = case_read(case, projection)
    audit_read(
        uow,
        actor,
        AuditAction.VIEW,
        resource_type="case",
        resource_id=case.id,
        case_id=case.id,
        projection=projection,
        purpose=purpose,
        returned=set(view.returned),
    )
    return read


async def list_cases(
    uow: CaseUnitOfWork,
    *,
    actor: Principal,
    purpose: Purpose,
    now: datetime,
    programme: Programme | None,
    stage: Stage | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
    vulnerability: str | None = None,
    assigned_worker: str | None = None,
    overdue_follow_ups: bool = False,
    office: str | None = None,
    countries: Mapping[str, str] | None = None,
) -> list[CaseRead]:
    """Up to limit + 1 cases the caller may see, newest first.

    SQL narrows to the cases related to the caller; the policy then drops those it hides (a share without any
    consented category, say). Batches are read until limit + 1 visible cases are found, so a short page means
    the end, and the cursor (the last case returned) never points at, or counts, a hidden case. A
    `vulnerability` filter only matches cases whose vulnerability categories the caller may see, and a
    `countries` filter (beneficiary field → ISO code) only cases whose beneficiary fields of that name the
    caller may see: a filter must not reveal what the projection withholds.
    """
    country_categories = frozenset().union(*(SECTIONS[Section.BENEFICIARY].of(name) for name in countries or {}))
    refuse_forbidden_purpose(uow, actor, purpose, resource_type="case")
    shown: list[CaseRead] = []
    returned: set[DataCategory] = set()
    position = after
    while len(shown) <= limit:
        batch = await uow.cases.page_related(
            who=actor,
            now=now,
            programme=programme,
            stage=stage,
            after=position,
            limit=limit + 1,
            vulnerability=vulnerability,
            assigned_worker=assigned_worker,
            overdue_follow_ups=overdue_follow_ups,
            office=office,
            countries=countries,
        )
        facts = await many_case_facts(uow, batch, now=now)
        handovers = await uow.transfers.accepted_of(c.id for c in batch)
        for case in batch:
            projection = project(actor, facts[case.id], purpose, now=now)
            if not projection.visible:
                continue
            projection = owner_projection(
                projection, facts[case.id], reader_office_id=actor.office_id, transfers=handovers.get(case.id, [])
            )
            if not country_categories <= projection.allowed.keys():  # what a handover held back included
                continue
            read, view = case_read(case, projection)
            if vulnerability is not None and read.vulnerability_categories is None:
                continue
            shown.append(read)
            returned |= view.returned
            if len(shown) > limit:
                break
        if len(batch) <= limit:
            break
        position = (batch[-1].opened_at, batch[-1].id)
    uow.audit.record(
        actor,
        AuditAction.LIST,
        resource_type="case",
        resource_id=None,
        categories=sorted(returned),
        purpose=purpose,
    )
    return shown


async def patch_case(
    uow: CaseUnitOfWork, case_id: UUID, command: UpdateCase, *, actor: Principal, if_match: str | None, now: datetime
) -> CaseRead:
    """Change the plain fields of a case: the assigned worker and the return profile. The owner office, or an
    office holding an `edit` share whose consent covers what is written (`migration_history` for the return
    profile). Needs `If-Match` (412 with the current version when stale). No case event: the assignment is the
    owner's internal organisation; a changed return profile fact marks the monitoring profile for the weekly
    publication."""
    named = command.model_fields_set
    categories = sorted(
        {DataCategory.MIGRATION_HISTORY if f in RETURN_PROFILE_FIELDS else DataCategory.CASE_NOTES for f in named}
    )
    case, facts, _ = await writable_case_and_facts(uow, case_id, categories[0], actor=actor, now=now)
    for category in categories[1:]:
        await writable_case_and_facts(uow, case_id, category, actor=actor, now=now)
    require_if_match(if_match, case.version)
    check_return_profile(case.programme, {f: getattr(command, f) for f in named}, today=now.date())
    changed = sorted(f for f in named if getattr(case, f) != getattr(command, f))
    if PROFILED_CASE_FIELDS.intersection(changed):  # before the change: it keeps the published date of return
        await monitoring.defer_profile(uow, case, now=now)
    for name in changed:
        setattr(case, name, getattr(command, name))
    if changed:
        case.version += 1
        uow.audit.record(
            actor,
            AuditAction.UPDATE,
            resource_type="case",
            resource_id=case.id,
            case_id=case.id,
            categories=sorted({c for f in changed for c in SECTIONS[Section.CASE].of(f)}),
        )
    projection = await reader_projection(uow, actor, facts, Purpose.CASE_MANAGEMENT, now=now)
    return case_read(case, projection)[0]
