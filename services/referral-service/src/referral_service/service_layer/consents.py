"""The consent projection and what a withdrawal does to the referrals that hold copies (data-protection.md §2.4).
Each function runs inside the caller's unit of work and never commits."""

from dataclasses import dataclass
from datetime import datetime

from casebridge_common.access import ConsentStatus, GivenBy, Purpose
from casebridge_common.audit import AuditAction
from casebridge_common.events.contracts.consent import (
    ConsentGiven,
    ConsentWithdrawalAcknowledged,
    ConsentWithdrawn,
    WithdrawalKind,
)
from casebridge_common.events.contracts.referral import ReferralConsentWithdrawn
from referral_service.domain.lifecycle import OPEN, Action, next_status
from referral_service.domain.models import ConsentProjection, Referral, SnapshotRedaction
from referral_service.domain.snapshot import allowed_categories, redact, withdrawn_categories, without_free_text
from referral_service.service_layer.cases import RESOURCE, SERVICE_ACTOR, case_facts
from referral_service.unit_of_work import ReferralUnitOfWork

HOLDER = "referral-service"
ENDED: dict[WithdrawalKind, ConsentStatus] = {
    WithdrawalKind.WITHDRAWN: ConsentStatus.WITHDRAWN,
    WithdrawalKind.NARROWED: ConsentStatus.NARROWED,
    WithdrawalKind.EXPIRED: ConsentStatus.EXPIRED,
}


@dataclass(frozen=True, slots=True)
class WithdrawalEffect:
    purged: int  # snapshots left with no personal data category
    redacted: int  # snapshots that kept some categories
    referrals_closed: int  # open referrals moved to consent_withdrawn


async def project_consent_given(uow: ReferralUnitOfWork, given: ConsentGiven, *, now: datetime) -> None:
    await uow.cases.link_beneficiary(given.case_ids, given.beneficiary_id)
    await uow.consents.upsert_given(
        ConsentProjection(
            consent_id=given.consent_id,
            beneficiary_id=given.beneficiary_id,
            status=given.status,
            given_by=given.given_by,
            child_assent=given.child_assent,
            scopes=[s.model_dump(mode="json") for s in given.scopes],
            valid_from=given.valid_from,
            valid_until=given.valid_until,
            updated_at=now,
        )
    )


async def apply_withdrawal(uow: ReferralUnitOfWork, withdrawn: ConsentWithdrawn, *, now: datetime) -> WithdrawalEffect:
    """Redact every sent snapshot whose disclosed categories the withdrawal takes back, move the open ones to
    `consent_withdrawn` (emitting `casebridge.referral.consent_withdrawn.v1`), and answer case-service with
    `casebridge.consent.withdrawal_acknowledged.v1`, also when nothing was held."""
    await uow.cases.link_beneficiary(withdrawn.case_ids, withdrawn.beneficiary_id)
    await uow.consents.end(
        ConsentProjection(
            consent_id=withdrawn.consent_id,
            beneficiary_id=withdrawn.beneficiary_id,
            status=ENDED[withdrawn.kind],
            given_by=GivenBy.SELF,
            scopes=[s.model_dump(mode="json") for s in withdrawn.withdrawn_scopes],
            valid_from=withdrawn.withdrawn_at,
            ended_at=withdrawn.withdrawn_at,
            updated_at=now,
        ),
        status=ENDED[withdrawn.kind],
    )
    case_ids = sorted(set(withdrawn.case_ids) | set(await uow.cases.of_beneficiary(withdrawn.beneficiary_id)))
    # Referrals, then their cases, are locked in the order a send takes them: a send in flight commits its
    # ledger row before the ledger is read here, and a later send reads the consents as this withdrawal leaves them.
    locked = await uow.referrals.of_cases(case_ids)
    for case_id in case_ids:
        await uow.cases.get(case_id, for_update=True)
    # A fallback redirect inserts its new referral under the case lock: read the referrals again now that the
    # cases are ours, so one committed while this waited is redacted too.
    locked = await uow.referrals.of_cases(case_ids)
    holders = {d.referral_id: d for d in await uow.disclosures.of_cases(case_ids)}
    scopes = [s.to_policy() for s in withdrawn.withdrawn_scopes]
    purged = redacted = closed = 0
    for referral in locked:
        disclosure = holders.get(referral.id)
        case = await uow.cases.get(referral.case_id)
        if disclosure is None or case is None:
            continue  # never sent: a draft's preview left nothing with anyone
        still_allowed = allowed_categories(referral.snapshot)
        taken_back = withdrawn_categories(
            [c for c in still_allowed if str(c) in disclosure.categories],
            recipient=disclosure.recipient,
            purpose=Purpose(disclosure.purpose),
            withdrawn=scopes,
            case=await case_facts(uow, case),
            now=now,
        )
        if not taken_back:
            continue
        closes = referral.status in OPEN
        if not await uow.disclosures.record_redaction(
            SnapshotRedaction(
                referral_id=referral.id,
                withdrawal_id=withdrawn.withdrawal_id,
                consent_id=withdrawn.consent_id,
                kind=withdrawn.kind,
                categories=sorted(str(c) for c in taken_back),
                referral_closed=closes,
                redacted_at=now,
            )
        ):
            continue
        referral.snapshot = redact(
            referral.snapshot, taken_back, withdrawal_id=withdrawn.withdrawal_id, kind=withdrawn.kind, now=now
        )
        if closes:
            _close(uow, referral, withdrawn, sorted(str(c) for c in taken_back), now=now)
            closed += 1
        else:
            referral.version += 1
            referral.updated_at = now
        if len(taken_back) == len(still_allowed):
            # nothing is left for the destination: its copy of the free text goes too (the origin keeps its own)
            referral.snapshot = without_free_text(referral.snapshot)
            purged += 1
        else:
            redacted += 1
        uow.audit.record(
            SERVICE_ACTOR,
            AuditAction.UPDATE,
            resource_type=RESOURCE,
            resource_id=referral.id,
            case_id=referral.case_id,
            categories=[str(c) for c in taken_back],
            purpose=disclosure.purpose,
            reason=f"consent-{withdrawn.kind}",
            basis=withdrawn.withdrawal_id,
        )
    uow.outbox.emit(
        ConsentWithdrawalAcknowledged.of(withdrawn, holder=HOLDER, purged=purged, redacted=redacted, at=now)
    )
    return WithdrawalEffect(purged=purged, redacted=redacted, referrals_closed=closed)


def _close(
    uow: ReferralUnitOfWork, referral: Referral, withdrawn: ConsentWithdrawn, categories: list[str], *, now: datetime
) -> None:
    referral.status = next_status(referral.status, Action.WITHDRAW_CONSENT)
    referral.consent_withdrawn_at = now
    referral.version += 1  # bumped under the row lock: writers serialise and events leave in commit order
    referral.updated_at = now
    uow.outbox.emit(
        ReferralConsentWithdrawn(
            referral_id=referral.id,
            case_id=referral.case_id,
            referral_version=referral.version,
            referring_office_id=referral.referring_office_id,
            destination_organisation_id=referral.destination_organisation_id,
            destination_office_id=referral.destination_office_id,
            destination_service_id=referral.destination_service_id,
            consent_id=withdrawn.consent_id,
            withdrawal_id=withdrawn.withdrawal_id,
            withdrawn_categories=categories,
            withdrawn_at=withdrawn.withdrawn_at,
        )
    )
