"""Consent withdrawal, erasure and transfer as they reach scoring-service's survey data.

Scoring-service holds pseudonymous survey answers (option codes, never free text: R-M5) and scores for the owning
programme. A withdrawal that covered the programme's analysis excludes the beneficiary's cases from every future
indicator; the owner office keeps using them for case management, which needs no further consent. An erasure
purges them.
"""

from datetime import datetime

from casebridge_common.access import DataCategory, Party
from casebridge_common.audit import AuditAction
from casebridge_common.auth import Principal
from casebridge_common.events.contracts.case import BeneficiaryErased, CaseTransferred
from casebridge_common.events.contracts.consent import ConsentWithdrawalAcknowledged, ConsentWithdrawn
from scoring_service.domain.models import AnalysisExclusion, BeneficiaryErasure, WithdrawalReceipt
from scoring_service.domain.withdrawals import concerns_survey_data
from scoring_service.unit_of_work import ScoringUnitOfWork

HOLDER = "scoring-service"
# The audit trail names the service itself when it acts on an event rather than on a request.
SERVICE_ACTOR = Principal(
    subject=HOLDER,
    client_id=HOLDER,
    organisation_id=None,
    office_id=None,
    country=None,
    scopes=frozenset(),
    roles=frozenset(),
)
SURVEY_DATA = [DataCategory.SURVEY_RESPONSES.value, DataCategory.SCORES.value]


async def withhold_from_analysis(
    uow: ScoringUnitOfWork, withdrawn: ConsentWithdrawn, *, now: datetime
) -> WithdrawalReceipt:
    """Exclude the beneficiary's cases from future indicators when the withdrawn scopes covered them, record what
    was done, and emit `consent.withdrawal_acknowledged` in any case: the compliance view counts every holder.

    `redacted` counts the administrations withheld from analysis; nothing is purged, since the owner office still
    holds them for case management. Published aggregates are not recalled (data-protection.md §2.4 item 6).
    """
    receipt = await uow.receipts.get(withdrawn.withdrawal_id)
    if receipt is None:
        receipt = await _withhold(uow, withdrawn, now=now)
    # Sent again for a withdrawal re-announced under a new event id: case-service keeps one receipt per holder.
    uow.outbox.emit(
        ConsentWithdrawalAcknowledged.of(
            withdrawn, holder=HOLDER, purged=receipt.purged, redacted=receipt.redacted, at=now
        )
    )
    return receipt


async def _withhold(uow: ScoringUnitOfWork, withdrawn: ConsentWithdrawn, *, now: datetime) -> WithdrawalReceipt:
    cases = await uow.cases.of_beneficiary(withdrawn.beneficiary_id, withdrawn.case_ids)
    organisations = {c.case_id: c.owner_organisation_id for c in cases}
    concerned = {
        case_id: concerns_survey_data(
            withdrawn.withdrawn_scopes,
            owner=Party(office_id=withdrawn.owner_office_id, organisation_id=organisations.get(case_id)),
        )
        for case_id in sorted(set(withdrawn.case_ids) | set(organisations))
    }
    excluded = []
    for case_id in (c for c, covered in concerned.items() if covered):
        exclusion = AnalysisExclusion(
            case_id=case_id,
            beneficiary_id=withdrawn.beneficiary_id,
            withdrawal_id=withdrawn.withdrawal_id,
            consent_id=withdrawn.consent_id,
            excluded_at=now,
        )
        if not await uow.exclusions.add_if_absent(exclusion):
            continue  # an earlier withdrawal excluded it already
        excluded.append(case_id)
        uow.audit.record(
            SERVICE_ACTOR,
            AuditAction.UPDATE,
            resource_type="case",
            resource_id=case_id,
            categories=SURVEY_DATA,
            purpose="consent_withdrawal",
            basis=withdrawn.withdrawal_id,
            case_id=case_id,
        )
    surveys = await uow.administrations.count_for_cases(excluded) if excluded else 0
    receipt = WithdrawalReceipt(
        withdrawal_id=withdrawn.withdrawal_id,
        consent_id=withdrawn.consent_id,
        beneficiary_id=withdrawn.beneficiary_id,
        kind=withdrawn.kind,
        case_ids=list(concerned),
        concerned_survey_data=any(concerned.values()),
        cases_excluded=len(excluded),
        surveys_excluded=surveys,
        purged=0,
        redacted=surveys,
        acknowledged_at=now,
    )
    uow.receipts.add(receipt)
    return receipt


async def purge_beneficiary(uow: ScoringUnitOfWork, erased: BeneficiaryErased, *, now: datetime) -> BeneficiaryErasure:
    """Delete every answer, score and schedule of the beneficiary's cases.

    Purged rather than anonymised: the rows are keyed by a case id that case-service keeps after the erasure, so
    they would stay linkable to the person; what they contributed to aggregates already published stays there
    (§2.4 item 6). The case row stays, without the beneficiary id, so the case cannot be surveyed again, and the
    erasure row keeps ids and counts as the trace.
    """
    if (done := await uow.erasures.get(erased.beneficiary_id)) is not None:
        return done  # erased before, under another event id: nothing is left to purge
    cases = await uow.cases.of_beneficiary(erased.beneficiary_id, erased.case_ids)
    case_ids = sorted(set(erased.case_ids) | {c.case_id for c in cases})
    scores = await uow.scores.purge_for_cases(case_ids)
    surveys = await uow.administrations.purge_for_cases(case_ids)
    schedules = await uow.surveys.purge_for_cases(case_ids)
    await uow.profiles.purge_for_cases(case_ids)  # the monitoring profiles go with the survey data
    for case in cases:
        case.beneficiary_id, case.erased_at = None, erased.erased_at
    erasure = BeneficiaryErasure(
        beneficiary_id=erased.beneficiary_id,
        case_ids=case_ids,
        surveys_purged=surveys,
        scores_purged=scores,
        schedules_purged=schedules,
        erased_at=erased.erased_at,
        processed_at=now,
    )
    uow.erasures.add(erasure)
    for case_id in case_ids:
        uow.audit.record(
            SERVICE_ACTOR,
            AuditAction.ERASE,
            resource_type="case",
            resource_id=case_id,
            categories=SURVEY_DATA,
            purpose="erasure",
            case_id=case_id,
        )
    return erasure


async def follow_transfer(uow: ScoringUnitOfWork, transferred: CaseTransferred) -> bool:
    """The new owner office sees the case's surveys and is reminded of its open schedules. A stale or unknown
    transfer changes nothing (per key, `case.opened` always comes first)."""
    case = await uow.cases.get(transferred.case_id, for_update=True)
    if case is None or case.case_version >= transferred.case_version:
        return False
    case.owner_office_id = transferred.to_office_id
    case.owner_organisation_id = transferred.to_organisation_id
    case.case_version = transferred.case_version
    await uow.surveys.hand_over_open(case.case_id, to_office_id=transferred.to_office_id)
    return True
