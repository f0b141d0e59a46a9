"""The pseudonymous monitoring feed as it reaches scoring-service, and re-admission to analysis on new consent."""

from datetime import datetime
from uuid import UUID

from casebridge_common.access import ACTIVE_CONSENT, Party
from casebridge_common.audit import AuditAction
from casebridge_common.events.contracts.case import CaseMonitoringProfile
from casebridge_common.events.contracts.consent import ConsentGiven
from scoring_service.domain.monitoring import covers_analysis, merge_profile
from scoring_service.service_layer.withdrawals import SERVICE_ACTOR, SURVEY_DATA
from scoring_service.unit_of_work import ScoringUnitOfWork


async def record_profile(uow: ScoringUnitOfWork, profile: CaseMonitoringProfile, *, now: datetime) -> bool:
    """Keep the case's newest profile; False when an equal or newer one is held already (a redelivery, or an
    older profile overtaken). A profile of an erased case is dropped: erasure purged what was held."""
    if await uow.erasures.covers(case_id=profile.case_id, beneficiary_id=profile.beneficiary_id):
        return False
    held = await uow.profiles.get(profile.case_id, for_update=True)
    record = merge_profile(held, profile, now=now)
    if record is None:
        return False
    if held is None:
        uow.profiles.add(record)
    return True


async def readmit_to_analysis(uow: ScoringUnitOfWork, given: ConsentGiven, *, now: datetime) -> list[UUID]:
    """A consent in force that covers M&E of the survey data for a case's owner lets the case back into future
    indicators after an earlier withdrawal excluded it (data-protection.md §2.4 item 6 read the other way)."""
    in_force = (
        given.status in ACTIVE_CONSENT
        and given.valid_from <= now
        and (given.valid_until is None or now < given.valid_until)
    )
    if not in_force:
        return []
    cases = await uow.cases.of_beneficiary(given.beneficiary_id, given.case_ids)
    covered = [
        case.case_id
        for case in cases
        if covers_analysis(
            given.scopes, owner=Party(office_id=case.owner_office_id, organisation_id=case.owner_organisation_id)
        )
    ]
    readmitted = await uow.exclusions.lift(covered)
    for case_id in readmitted:
        uow.audit.record(
            SERVICE_ACTOR,
            AuditAction.UPDATE,
            resource_type="case",
            resource_id=case_id,
            categories=SURVEY_DATA,
            purpose="consent_given",
            basis=given.consent_id,
            case_id=case_id,
        )
    return readmitted
