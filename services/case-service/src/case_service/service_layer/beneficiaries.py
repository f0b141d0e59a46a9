from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from case_service.domain.disclosure import SECTIONS, Section
from case_service.domain.errors import BeneficiaryNotFound, BirthDateInFuture, PossibleDuplicate
from case_service.domain.models import Beneficiary, is_minor
from case_service.domain.monitoring import PROFILE_FIELDS
from case_service.domain.people import likely_duplicates, normalised_name
from case_service.domain.transfers import owner_projection
from case_service.schemas import BeneficiaryRead, RegisterBeneficiary
from case_service.schemas.people import UpdateBeneficiary
from case_service.service_layer import monitoring
from case_service.service_layer.access import many_case_facts, refuse_forbidden_purpose
from case_service.service_layer.projection import audit_read, beneficiary_read
from case_service.unit_of_work import CaseUnitOfWork
from casebridge_common.access import CaseFacts, DataCategory, Projection, Purpose, project
from casebridge_common.audit import AuditAction
from casebridge_common.auth import Principal
from casebridge_common.events.contracts.case import BeneficiaryRegistered, BeneficiaryUpdated
from casebridge_common.http import require_if_match

_DETAIL_LISTS = frozenset({"names", "contacts", "documents"})


async def register_checked(
    uow: CaseUnitOfWork, command: RegisterBeneficiary, *, actor: Principal, now: datetime
) -> Beneficiary:
    """Register, unless the caller's office already registered someone who is likely the same person: then
    409 `possible-duplicate` with the matches' ids and scores (nothing is written). `confirm_not_duplicate`
    registers anyway, after the worker has checked the matches."""
    if command.born_on > now.date():
        raise BirthDateInFuture(pointer="#/born_on")
    assert actor.office_id is not None  # noqa: S101 - the router requires an office claim
    if not command.confirm_not_duplicate:
        candidates = await uow.duplicate_candidates.similar(
            name_key=normalised_name(command.given_name, command.family_name),
            born_on=command.born_on,
            nationality=command.nationality,
            office_id=actor.office_id,
        )
        matches = likely_duplicates(
            candidates, born_on=command.born_on, born_on_is_estimated=command.born_on_is_estimated
        )
        if matches:
            raise PossibleDuplicate(
                matches=[{"beneficiary_id": str(m.beneficiary_id), "score": m.score} for m in matches]
            )
    return register_beneficiary(uow, command, actor=actor, now=now)


def register_beneficiary(
    uow: CaseUnitOfWork, command: RegisterBeneficiary, *, actor: Principal, now: datetime
) -> Beneficiary:
    """Emits `beneficiary.registered` (ids only). No duplicate check: `register_checked` does it first."""
    if command.born_on > now.date():
        raise BirthDateInFuture(pointer="#/born_on")
    assert actor.office_id is not None  # noqa: S101 - the router requires an office claim
    beneficiary = Beneficiary(
        **command.model_dump(exclude={"confirm_not_duplicate", *_DETAIL_LISTS}),
        **command.model_dump(mode="json", include=set(_DETAIL_LISTS)),
        name_key=normalised_name(command.given_name, command.family_name),
        registering_office_id=actor.office_id,
        registering_organisation_id=actor.organisation_id,
        registered_at=now,
    )
    uow.beneficiaries.add(beneficiary)
    uow.outbox.emit(
        BeneficiaryRegistered(beneficiary_id=beneficiary.id, registering_office_id=actor.office_id, registered_at=now)
    )
    uow.audit.record(
        actor,
        AuditAction.CREATE,
        resource_type="beneficiary",
        resource_id=beneficiary.id,
        categories=_categories_of(
            name for name, value in command.model_dump(exclude={"confirm_not_duplicate"}).items() if value
        ),
    )
    return beneficiary


def _categories_of(fields: Iterable[str]) -> list[DataCategory]:
    return sorted({c for name in fields for c in SECTIONS[Section.BENEFICIARY].of(name)})


async def read_beneficiary(
    uow: CaseUnitOfWork, beneficiary_id: UUID, *, actor: Principal, purpose: Purpose, now: datetime
) -> BeneficiaryRead:
    """The beneficiary as the caller may see them. The registering office sees its own record; anyone else
    through a case of theirs they may see, so the categories are the union of what those cases allow.
    Nobody else learns that the beneficiary exists (404)."""
    refuse_forbidden_purpose(uow, actor, purpose, resource_type="beneficiary")
    beneficiary = await uow.beneficiaries.get(beneficiary_id)
    projections: list[Projection] = []
    if beneficiary is not None:
        cases = await uow.cases.of_beneficiary(beneficiary.id)
        handovers = await uow.transfers.accepted_of(c.id for c in cases)
        facts = list((await many_case_facts(uow, cases, now=now)).values())
        if actor.office_id == beneficiary.registering_office_id:
            facts.append(
                CaseFacts(
                    case_id=beneficiary.id,
                    owner_office_id=beneficiary.registering_office_id,
                    subject_is_minor=is_minor(beneficiary.born_on, now.date()),
                    consents=await uow.consents.facts_of(beneficiary.id),
                )
            )
        projections = [
            owner_projection(p, f, reader_office_id=actor.office_id, transfers=handovers.get(f.case_id, []))
            for f in facts
            if (p := project(actor, f, purpose, now=now)).visible
        ]
    if beneficiary is None or not projections:
        uow.audit.record(
            actor,
            AuditAction.VIEW,
            resource_type="beneficiary",
            resource_id=beneficiary_id,
            purpose=purpose,
            outcome="denied",
        )
        raise BeneficiaryNotFound(beneficiary_id=beneficiary_id)
    allowed = {c: d for p in projections for c, d in p.allowed.items()}
    merged = Projection(
        visible=True,
        allowed=allowed,
        withheld={c: d for p in projections for c, d in p.withheld.items() if c not in allowed},
    )
    read, view = beneficiary_read(beneficiary, merged)
    audit_read(
        uow,
        actor,
        AuditAction.VIEW,
        resource_type="beneficiary",
        resource_id=beneficiary.id,
        case_id=None,
        projection=merged,
        purpose=purpose,
        returned=set(view.returned),
    )
    return read


async def update_beneficiary(
    uow: CaseUnitOfWork,
    beneficiary_id: UUID,
    command: UpdateBeneficiary,
    *,
    actor: Principal,
    if_match: str | None,
    now: datetime,
) -> Beneficiary:
    """Change the fields sent; only the registering office may. Needs `If-Match` (428 without, 412 with the
    current version when stale). Emits `beneficiary.updated` naming the changed fields, when any changed."""
    assert actor.office_id is not None  # noqa: S101 - the router requires an office claim
    beneficiary = await uow.beneficiaries.get_visible(beneficiary_id, office_id=actor.office_id, for_update=True)
    if beneficiary is None:
        uow.audit.record(
            actor, AuditAction.UPDATE, resource_type="beneficiary", resource_id=beneficiary_id, outcome="denied"
        )
        raise BeneficiaryNotFound(beneficiary_id=beneficiary_id)
    require_if_match(if_match, beneficiary.version)
    if command.born_on is not None and command.born_on > now.date():
        raise BirthDateInFuture(pointer="#/born_on")
    sent = command.model_fields_set
    values = command.model_dump(include=sent - _DETAIL_LISTS) | command.model_dump(
        mode="json", include=sent & _DETAIL_LISTS
    )
    changed = sorted(name for name, value in values.items() if getattr(beneficiary, name) != value)
    if not changed:
        return beneficiary
    for name in changed:
        setattr(beneficiary, name, values[name])
    beneficiary.name_key = normalised_name(beneficiary.given_name, beneficiary.family_name)
    beneficiary.version += 1
    uow.outbox.emit(
        BeneficiaryUpdated(
            beneficiary_id=beneficiary.id,
            beneficiary_version=beneficiary.version,
            registering_office_id=beneficiary.registering_office_id,
            changed_fields=changed,
            updated_at=now,
        )
    )
    uow.audit.record(
        actor,
        AuditAction.UPDATE,
        resource_type="beneficiary",
        resource_id=beneficiary.id,
        categories=_categories_of(changed),
    )
    if PROFILE_FIELDS.intersection(changed):
        await monitoring.emit_profiles_of(uow, beneficiary.id, now=now)
    return beneficiary
