"""Households: registering one, and reading it as the caller may see it.

Visibility is the registering office's alone: a household belongs to the office that registered its members,
and only that office sees it (an office that holds a share or a referral of one member's case does not, even
with `household` consent: a household spans several people's consents, which the policy decides per case).
The read still goes through the policy's projection, as for the head's own record (purpose, consent, scopes):
what it does not allow of the `household` category is left out and listed in `withheld`.
"""

from datetime import datetime
from uuid import UUID

from case_service.domain.disclosure import Section, redact
from case_service.domain.errors import AlreadyInHousehold, BeneficiaryNotFound, HouseholdNotFound
from case_service.domain.models import Beneficiary, is_minor
from case_service.domain.people import Household, HouseholdMember, MemberFacts, Relationship, check_household
from case_service.schemas.people import CreateHousehold, ExternalGuardian, Guardian, HouseholdRead, MemberRead
from case_service.service_layer.access import refuse_forbidden_purpose
from case_service.service_layer.projection import audit_read, withheld
from case_service.unit_of_work import CaseUnitOfWork
from casebridge_common.access import CaseFacts, DataCategory, Projection, Purpose, project
from casebridge_common.audit import AuditAction
from casebridge_common.auth import Principal


async def create_household(
    uow: CaseUnitOfWork, command: CreateHousehold, *, actor: Principal, now: datetime
) -> HouseholdRead:
    """Register a household of beneficiaries the caller's office registered, each with their relationship to
    the head; every minor (by date of birth, today) needs a guardian."""
    assert actor.office_id is not None  # noqa: S101 - the router requires an office claim
    ids = [m.beneficiary_id for m in command.members]
    people = await uow.beneficiaries.many(ids)
    for index, member in enumerate(command.members):
        person = people.get(member.beneficiary_id)
        if person is None or person.registering_office_id != actor.office_id:
            raise BeneficiaryNotFound(pointer=f"#/members/{index}/beneficiary_id")
    check_household(
        [
            MemberFacts(
                beneficiary_id=m.beneficiary_id,
                relationship=m.relationship_to_head,
                born_on=people[m.beneficiary_id].born_on,
                guardian_beneficiary_id=m.guardian.beneficiary_id if m.guardian else None,
                has_external_guardian=m.guardian is not None and m.guardian.external is not None,
            )
            for m in command.members
        ],
        today=now.date(),
    )
    taken = await uow.households.already_members(ids)
    if taken:
        index = next(i for i, m in enumerate(command.members) if m.beneficiary_id in taken)
        raise AlreadyInHousehold(pointer=f"#/members/{index}/beneficiary_id")
    household = Household(
        registering_office_id=actor.office_id,
        registering_organisation_id=actor.organisation_id,
        return_configuration=command.return_configuration,
        created_at=now,
    )
    members = [
        HouseholdMember(
            household_id=household.id,
            beneficiary_id=m.beneficiary_id,
            relationship_to_head=m.relationship_to_head,
            guardian_beneficiary_id=m.guardian.beneficiary_id if m.guardian else None,
            external_guardian=m.guardian.external.model_dump(mode="json")
            if m.guardian and m.guardian.external
            else None,
        )
        for m in command.members
    ]
    uow.households.add(household, members)
    uow.audit.record(
        actor,
        AuditAction.CREATE,
        resource_type="household",
        resource_id=household.id,
        categories=[DataCategory.HOUSEHOLD],
    )
    return HouseholdRead.model_validate(_full(household, members, people, now=now))


async def read_household(
    uow: CaseUnitOfWork, household_id: UUID, *, actor: Principal, purpose: Purpose, now: datetime
) -> HouseholdRead:
    """The household for its registering office; 404 `household-not-found` for anyone else."""
    refuse_forbidden_purpose(uow, actor, purpose, resource_type="household")
    household = await uow.households.get(household_id)
    return await _visible(uow, household, household_id, actor=actor, purpose=purpose, now=now)


async def household_of_beneficiary(
    uow: CaseUnitOfWork, beneficiary_id: UUID, *, actor: Principal, purpose: Purpose, now: datetime
) -> HouseholdRead:
    """The household a beneficiary belongs to, as in `read_household`; 404 when there is none or it is not
    visible (the same answer, so membership is not disclosed)."""
    refuse_forbidden_purpose(uow, actor, purpose, resource_type="household")
    household_id = await uow.households.household_of(beneficiary_id)
    household = None if household_id is None else await uow.households.get(household_id)
    return await _visible(uow, household, household_id, actor=actor, purpose=purpose, now=now)


async def _visible(
    uow: CaseUnitOfWork,
    household: Household | None,
    household_id: UUID | None,
    *,
    actor: Principal,
    purpose: Purpose,
    now: datetime,
) -> HouseholdRead:
    if household is None or actor.office_id != household.registering_office_id:
        uow.audit.record(
            actor,
            AuditAction.VIEW,
            resource_type="household",
            resource_id=household_id,
            purpose=purpose,
            outcome="denied",
        )
        raise HouseholdNotFound(household_id=household_id)
    members = await uow.households.members_of(household.id)
    people = await uow.beneficiaries.many(m.beneficiary_id for m in members)
    head = next(m for m in members if m.relationship_to_head is Relationship.HEAD)
    facts = CaseFacts(
        case_id=head.beneficiary_id,
        owner_office_id=household.registering_office_id,
        subject_is_minor=is_minor(people[head.beneficiary_id].born_on, now.date()),
        consents=await uow.consents.facts_of(head.beneficiary_id),
    )
    projection = project(actor, facts, purpose, now=now, categories=[DataCategory.HOUSEHOLD])
    read = _read(household, members, people, projection, now=now)
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
    return {
        "id": household.id,
        "registering_office_id": household.registering_office_id,
        "return_configuration": household.return_configuration,
        "members": [
            MemberRead(
                beneficiary_id=m.beneficiary_id,
                relationship_to_head=m.relationship_to_head,
                is_minor=is_minor(people[m.beneficiary_id].born_on, now.date()),
                guardian=_guardian(m),
            )
            for m in sorted(
                members, key=lambda m: (m.relationship_to_head is not Relationship.HEAD, str(m.beneficiary_id))
            )
        ],
        "created_at": household.created_at,
        "version": household.version,
    }


def _guardian(member: HouseholdMember) -> Guardian | None:
    if member.guardian_beneficiary_id is not None:
        return Guardian(beneficiary_id=member.guardian_beneficiary_id)
    if member.external_guardian is not None:
        return Guardian(external=ExternalGuardian.model_validate(member.external_guardian))
    return None
