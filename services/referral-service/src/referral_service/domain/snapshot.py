"""The data snapshot sent with a referral (referrals.md §5.1 "shared_data_manifest").

Until the consent policy (`casebridge_common.access.decide`) exists, referral-service holds no personal data
of the beneficiary, so the snapshot can only carry the non-personal referral facts. Every personal data
category is listed as withheld with the reason, so the sender's preview says exactly what is not sent.
"""

from uuid import UUID

from casebridge_common.events.contracts.case import Programme
from casebridge_common.events.contracts.referral import MhpssLevel, ServiceCategory, Urgency

SNAPSHOT_SCHEMA = "casebridge.referral.snapshot.v1"
PURPOSE = "referral"
# The minimised package of the referral form (referrals.md §5.2, blocks B and C).
PERSONAL_CATEGORIES = (
    "identity",
    "contact",
    "language_and_interpreter_need",
    "age_band_and_sex",
    "location",
    "needs_assessment_extracts",
    "risk_flags",
    "health",
)
WITHHELD_REASON = "no-consent-policy-yet"


def build_snapshot(
    *,
    case_id: UUID,
    programme: Programme,
    category: ServiceCategory,
    urgency: Urgency,
    mhpss_level: MhpssLevel | None,
    reason: str,
    consent_reference: str | None,
    destination_organisation_id: str,
) -> dict[str, object]:
    return {
        "schema": SNAPSHOT_SCHEMA,
        "purpose": PURPOSE,
        "recipient_organisation_id": destination_organisation_id,
        "consent_reference": consent_reference,
        "shared": {
            "case_id": str(case_id),
            "programme": str(programme),
            "category": str(category),
            "urgency": str(urgency),
            "mhpss_level": str(mhpss_level) if mhpss_level is not None else None,
            "reason": reason,
        },
        "shared_categories": ["referral_facts"],
        "withheld": [{"category": c, "reason": WITHHELD_REASON} for c in PERSONAL_CATEGORIES],
    }
