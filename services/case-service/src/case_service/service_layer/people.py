"""Households: registering one, editing it, and reading it as the caller may see it.

Visibility. The registering office sees its households whole, through the policy's projection of the head's
record (purpose, consent, scopes), as for the head's own record. Another office sees a household only through
cases of its members it may see (its own after a transfer, a share, a referral, a break-glass grant: the
existing access policy, asked per case), and sees only those members whose case it may see with the
`household` category (a household spans several people's consents, which the policy decides per case); a
guardian who is a member it may not see is left out of the ward's `guardian`. With no such case the
household does not exist for it (404). What the projection does not allow is left out and listed in
`withheld`.

Edits are the registering office's alone, on the household's version (If-Match), and checked on the household
they make (one head, guardians of minors). No event is emitted: households have none, and a member's cases
carry their own.
"""

from datetime import datetime
from uuid import UUID

from case_service.domain.disclosure import Section, redact
from case_service.domain.errors import AlreadyInHousehold, BeneficiaryNotFound, HouseholdNotFound
from case_service.domain.models import Beneficiary, is_minor
from case_service.domain.people import (
    EditedMember,
    Household,
    HouseholdMember,
    MemberEdit,
    MemberFacts,
    MemberState,
    Relationship,
    check_household,
    edit_members,
    edited_pointer,
)
from case_service.domain.transfers import owner_projection
from case_service.schemas.people import (
    CreateHousehold,
    ExternalGuardian,
    Guardian,
    HouseholdRead,
    MemberRead,
    NewMember,
    UpdateHousehold,
)
from case_service.service_layer.access import many_case_facts, refuse_forbidden_purpose
from case_service.service_layer.projection import audit_read, withheld
from case_service.unit_of_work import CaseUnitOfWork
from casebridge_common.access import CaseFacts, DataCategory, Projection, Purpose, project
from casebridge_common.audit import AuditAction
from casebridge_common.auth import Principal
from casebridge_common.http import require_if_match


def _external(guardian: Guardian | None) -> dict[str, object] | None:
    return guardian.external.model_dump(mode="json") if guardian and guardian.external else None


def _state(member: NewMember) -> MemberState:
    return MemberState(
        beneficiary_id=member.beneficiary_id,
        relationship=member.relationship_to_head,
        guardian_beneficiary_id=member.guardian.beneficiary_id if member.guardian else None,
        external_guardian=_external(member.guardian),
    )


def _stored(member: HouseholdMember) -> MemberState:
    return MemberState(
        beneficiary_id=member.beneficiary_id,
        relationship=member.relationship_to_head,
        guardian_beneficiary_id=member.guardian_beneficiary_id,
        external_guardian=member.external_guardian,
    )


def _facts(state: MemberState, people: dict[UUID, Beneficiary]) -> MemberFacts:
    return MemberFacts(
        beneficiary_id=state.beneficiary_id,
        relationship=state.relationship,
        born_on=people[state.beneficiary_id].born_on,
        guardian_beneficiary_id=state.guardian_beneficiary_id,
        has_external_guardian=state.external_guardian is not None,
    )


async def _own_people(uow: CaseUnitOfWork, ids: list[UUID], *, office_id: str, at: str) -> dict[UUID, Beneficiary]:
    """The beneficiaries, each registered by the caller's office: 404 `beneficiary-not-found` at `at/{index}`
    for one that is not (as for one that does not exist)."""
    people = await uow.beneficiaries.many(ids)
    for index, beneficiary_id in enumerate(ids):
        person = people.get(beneficiary_id)
        if person is None or person.registering_office_id != office_id:
            raise BeneficiaryNotFound(pointer=f"{at}/{index}/beneficiary_id")
    return people


async def _refuse_members_elsewhere(uow: CaseUnitOfWork, ids: list[UUID], *, at: str) -> None:
    taken = await uow.households.already_members(ids)
    if taken:
        index = next(i for i, beneficiary_id in enumerate(ids) if beneficiary_id in taken)
        raise AlreadyInHousehold(pointer=f"{at}/{index}/beneficiary_id")


async def create_household(
    uow: CaseUnitOfWork, command: CreateHousehold, *, actor: Principal, now: datetime
) -> HouseholdRead:
    """Register a household of beneficiaries the caller's office registered, each with their relationship to
    the head; every minor (by date of birth, today) needs a guardian."""
    assert actor.office_id is not None  # noqa: S101 - the router requires an office claim
    ids = [m.beneficiary_id for m in command.members]
    people = await _own_people(uow, ids, office_id=actor.office_id, at="#/members")
    states = [_state(m) for m in command.members]
    check_household([_facts(s, people) for s in states], today=now.date())
    await _refuse_members_elsewhere(uow, ids, at="#/members")
    household = Household(
        registering_office_id=actor.office_id,
        registering_organisation_id=actor.organisation_id,
        return_configuration=command.return_configuration,
        created_at=now,
    )
    members = [_row(household.id, s) for s in states]
    uow.households.add(household, members)
    uow.audit.record(
        actor,
        AuditAction.CREATE,
        resource_type="household",
        resource_id=household.id,
        categories=[DataCategory.HOUSEHOLD],
    )
    return HouseholdRead.model_validate(_full(household, members, people, now=now))


def _row(household_id: UUID, state: MemberState) -> HouseholdMember:
    return HouseholdMember(
        household_id=household_id,
        beneficiary_id=state.beneficiary_id,
        relationship_to_head=state.relationship,
        guardian_beneficiary_id=state.guardian_beneficiary_id,
        external_guardian=state.external_guardian,
    )


def _edits(command: UpdateHousehold) -> list[MemberEdit]:
    return [
        MemberEdit(
            beneficiary_id=c.beneficiary_id,
            relationship=c.relationship_to_head,
            sets_guardian="guardian" in c.model_fields_set,
            guardian_beneficiary_id=c.guardian.beneficiary_id if c.guardian else None,
            external_guardian=_external(c.guardian),
        )
        for c in command.change_members
    ]


async def update_household(
    uow: CaseUnitOfWork,
    household_id: UUID,
    command: UpdateHousehold,
    *,
    actor: Principal,
    if_match: str | None,
    now: datetime,
) -> HouseholdRead:
    """Remove, add and change members and set the household's fields, all at once; only the registering office
    may (anyone else: 404). Needs `If-Match` (428 without, 412 with the current version when stale). The
    household it makes must still have one head and a guardian for every minor; an added member is one the
    office registered who is in no other household. The version moves on only when something changed."""
    assert actor.office_id is not None  # noqa: S101 - the router requires an office claim
    household = await uow.households.get(household_id, for_update=True)
    if household is None or household.registering_office_id != actor.office_id:
        uow.audit.record(
            actor, AuditAction.UPDATE, resource_type="household", resource_id=household_id, outcome="denied"
        )
        raise HouseholdNotFound(household_id=household_id)
    require_if_match(if_match, household.version)
    rows = {m.beneficiary_id: m for m in await uow.households.members_of(household.id)}
    current = [_stored(m) for m in rows.values()]
    added = [_state(m) for m in command.add_members]
    edited = edit_members(current, remove=command.remove_members, add=added, change=_edits(command))
    added_ids = [a.beneficiary_id for a in added]
    people = await _own_people(uow, added_ids, office_id=actor.office_id, at="#/add_members")
    people |= await uow.beneficiaries.many(rows)
    check_household(
        [_facts(e.state, people) for e in edited],
        today=now.date(),
        pointer=edited_pointer(edited),
        heads_at="#/change_members",
    )
    await _refuse_members_elsewhere(uow, added_ids, at="#/add_members")
    changed = await _write(uow, household, command, rows, edited)
    if changed:
        household.version += 1
        uow.audit.record(
            actor,
            AuditAction.UPDATE,
            resource_type="household",
            resource_id=household.id,
            categories=[DataCategory.HOUSEHOLD],
        )
    members = await uow.households.members_of(household.id)
    return HouseholdRead.model_validate(_full(household, members, people, now=now))


async def _write(
    uow: CaseUnitOfWork,
    household: Household,
    command: UpdateHousehold,
    rows: dict[UUID, HouseholdMember],
    edited: list[EditedMember],
) -> bool:
    """Store the edited household; whether anything changed."""
    changed = False
    if "return_configuration" in command.model_fields_set:
        changed = household.return_configuration != command.return_configuration
        household.return_configuration = command.return_configuration
    kept = {e.state.beneficiary_id for e in edited}
    for beneficiary_id, gone in rows.items():
        if beneficiary_id not in kept:
            await uow.households.remove_member(gone)
            changed = True
    added: list[HouseholdMember] = []
    for member in edited:
        row = rows.get(member.state.beneficiary_id)
        if row is None:
            added.append(_row(household.id, member.state))
        elif _stored(row) != member.state:
            row.relationship_to_head = member.state.relationship
            row.guardian_beneficiary_id = member.state.guardian_beneficiary_id
            row.external_guardian = member.state.external_guardian
            changed = True
    uow.households.add_members(added)
    return changed or bool(added)


async def read_household(
    uow: CaseUnitOfWork, household_id: UUID, *, actor: Principal, purpose: Purpose, now: datetime
) -> HouseholdRead:
    """The household as the caller may see it (see the module docstring); 404 `household-not-found` when it
    may not see it at all."""
    refuse_forbidden_purpose(uow, actor, purpose, resource_type="household")
    household = await uow.households.get(household_id)
    return await _visible(uow, household, household_id, actor=actor, purpose=purpose, now=now)


async def household_of_beneficiary(
    uow: CaseUnitOfWork, beneficiary_id: UUID, *, actor: Principal, purpose: Purpose, now: datetime
) -> HouseholdRead:
    """The household a beneficiary belongs to, as in `read_household`; 404 when there is none or it is not
    visible, or (for an office that sees it through cases) when it may not see a case of that beneficiary: the
    same answer, so membership is not disclosed."""
    refuse_forbidden_purpose(uow, actor, purpose, resource_type="household")
    household_id = await uow.households.household_of(beneficiary_id)
    household = None if household_id is None else await uow.households.get(household_id)
    return await _visible(uow, household, household_id, actor=actor, purpose=purpose, now=now, via=beneficiary_id)


async def _projections(
    uow: CaseUnitOfWork,
    household: Household,
    members: list[HouseholdMember],
    people: dict[UUID, Beneficiary],
    *,
    actor: Principal,
    purpose: Purpose,
    now: datetime,
) -> dict[UUID, list[Projection]]:
    """Per member, the projections under which the caller may see them: for the registering office the head's
    record's (for every member, so the household is seen whole); for another office those of the member's
    cases it may see."""
    if actor.office_id == household.registering_office_id:
        head = next(m for m in members if m.relationship_to_head is Relationship.HEAD)
        facts = CaseFacts(
            case_id=head.beneficiary_id,
            owner_office_id=household.registering_office_id,
            subject_is_minor=is_minor(people[head.beneficiary_id].born_on, now.date()),
            consents=await uow.consents.facts_of(head.beneficiary_id),
        )
        projection = project(actor, facts, purpose, now=now, categories=[DataCategory.HOUSEHOLD])
        return {m.beneficiary_id: [projection] for m in members}
    cases = await uow.households.cases_of_members(household.id)
    facts_of = await many_case_facts(uow, cases, now=now)
    handovers = await uow.transfers.accepted_of(c.id for c in cases)
    seen: dict[UUID, list[Projection]] = {}
    for case in cases:
        facts = facts_of[case.id]
        projection = project(actor, facts, purpose, now=now)  # visible when any category is: not only `household`
        if projection.visible:
            projection = owner_projection(
                projection, facts, reader_office_id=actor.office_id, transfers=handovers.get(case.id, [])
            )
            seen.setdefault(case.beneficiary_id, []).append(projection)
    return seen


def _merged(projections: list[Projection]) -> Projection:
    """What any of the projections allows; withheld what none does."""
    allowed = {c: d for p in projections for c, d in p.allowed.items()}
    kept_back = {c: d for p in projections for c, d in p.withheld.items() if c not in allowed}
    return Projection(visible=bool(projections), allowed=allowed, withheld=kept_back)


async def _visible(
    uow: CaseUnitOfWork,
    household: Household | None,
    household_id: UUID | None,
    *,
    actor: Principal,
    purpose: Purpose,
    now: datetime,
    via: UUID | None = None,
) -> HouseholdRead:
    """`via`: the member the caller asked about, who must be one it may see."""
    members = [] if household is None else await uow.households.members_of(household.id)
    people = await uow.beneficiaries.many(m.beneficiary_id for m in members)
    seen = (
        {}
        if household is None
        else await _projections(uow, household, members, people, actor=actor, purpose=purpose, now=now)
    )
    if household is None or not seen or (via is not None and via not in seen):
        uow.audit.record(
            actor,
            AuditAction.VIEW,
            resource_type="household",
            resource_id=household_id,
            purpose=purpose,
            outcome="denied",
        )
        raise HouseholdNotFound(household_id=household_id)
    shown = [m for m in members if DataCategory.HOUSEHOLD in _merged(seen.get(m.beneficiary_id, [])).allowed]
    projection = _merged([p for projections in seen.values() for p in projections])
    read = _read(household, shown, people, projection, now=now)
    audit_read(
        uow,
        actor,
        AuditAction.VIEW,
        resource_type="household",
        resource_id=household.id,
        case_id=None,
        projection=projection,
        purpose=purpose,
        returned={DataCategory.HOUSEHOLD} if read.members is not None else set(),
    )
    return read


def _read(
    household: Household,
    members: list[HouseholdMember],
    people: dict[UUID, Beneficiary],
    projection: Projection,
    *,
    now: datetime,
) -> HouseholdRead:
    view = redact(Section.HOUSEHOLD, _full(household, members, people, now=now), projection.allowed.keys())
    return HouseholdRead.model_validate(view.data | {"withheld": withheld(projection, view.withheld)})


def _full(
    household: Household, members: list[HouseholdMember], people: dict[UUID, Beneficiary], *, now: datetime
) -> dict[str, object]:
    """The household with `members` (all, or those the reader may see: a guardian outside them is left out)."""
    listed = {m.beneficiary_id for m in members}
    return {
        "id": household.id,
        "registering_office_id": household.registering_office_id,
        "return_configuration": household.return_configuration,
        "members": [
            MemberRead(
                beneficiary_id=m.beneficiary_id,
                relationship_to_head=m.relationship_to_head,
                is_minor=is_minor(people[m.beneficiary_id].born_on, now.date()),
                guardian=_guardian(m, listed),
            )
            for m in sorted(
                members, key=lambda m: (m.relationship_to_head is not Relationship.HEAD, str(m.beneficiary_id))
            )
        ],
        "created_at": household.created_at,
        "version": household.version,
    }


def _guardian(member: HouseholdMember, listed: set[UUID]) -> Guardian | None:
    if member.guardian_beneficiary_id is not None:
        return (
            Guardian(beneficiary_id=member.guardian_beneficiary_id)
            if member.guardian_beneficiary_id in listed
            else None
        )
    if member.external_guardian is not None:
        return Guardian(external=ExternalGuardian.model_validate(member.external_guardian))
    return None
