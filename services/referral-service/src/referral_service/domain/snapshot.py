"""The consent-projected snapshot sent with a referral (referrals.md §5.1 `shared_data_manifest`,
data-protection.md §2.5). Pure: the policy decisions come in as a `Projection`, the time as an argument.

The manifest says, for every data category, whether it leaves for this destination and purpose and under which
consent, or why it is withheld. Referral-service holds no personal data of the beneficiary: the destination
reads the allowed categories from case-service, which applies the same policy (`casebridge_common.access`) to
the referral relation. What the snapshot itself carries is the referral's own facts.

A withdrawal redacts a stored snapshot: the withdrawn categories leave `allowed` and are listed under
`redacted` with the withdrawal that removed them, so the snapshot keeps its own audit trace. The referral's free
text (`reason`, written from the case file) may say anything about the person, so no category's consent vouches
for it: once a withdrawal took anything back, the destination no longer reads it, and a withdrawal that leaves the
destination nothing scrubs it from the stored snapshot too.
"""

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import datetime
from uuid import UUID

from casebridge_common.access import (
    SENSITIVITY,
    CaseFacts,
    ConsentScope,
    DataCategory,
    Party,
    Projection,
    Purpose,
    Role,
    consent_for,
)
from casebridge_common.auth import Principal, Scope
from casebridge_common.events.contracts.case import Programme
from casebridge_common.events.contracts.consent import WithdrawalKind
from casebridge_common.events.contracts.referral import MhpssLevel, ServiceCategory, Urgency
from referral_service.domain.lifecycle import ReferralStatus

SNAPSHOT_SCHEMA = "casebridge.referral.snapshot.v2"
PURPOSE = Purpose.REFERRAL_SERVICE_DELIVERY
# data-protection.md §4: case managers and supervisors hold the C2 and C3 data of their caseload.
SENSITIVE_DISCLOSERS = frozenset({Role.CASE_MANAGER, Role.SUPERVISOR})


def discloser(principal: Principal) -> Principal:
    """The referring office as the access policy sees it.

    A referral-api token cannot carry case-api scopes, so its `referrals:send` is the grant to disclose a case
    for a referral (the policy's `cases:write`), and the sensitive classes follow the case roles that hold them.
    """
    if Scope.REFERRALS_SEND not in principal.scopes:
        return principal
    granted = {Scope.CASES_WRITE}
    if principal.roles & SENSITIVE_DISCLOSERS:
        granted.add(Scope.CASES_SENSITIVE_READ)
    return dataclasses.replace(principal, scopes=principal.scopes | granted)


def build_snapshot(
    *,
    case_id: UUID,
    programme: Programme,
    category: ServiceCategory,
    urgency: Urgency,
    mhpss_level: MhpssLevel | None,
    reason: str,
    consent_reference: str | None,
    recipient: Party,
    projection: Projection,
) -> dict[str, object]:
    """Deterministic for the same inputs, so the preview a sender saw can be compared with the one send builds."""
    return {
        "schema": SNAPSHOT_SCHEMA,
        "purpose": str(PURPOSE),
        "recipient": {
            "office_id": recipient.office_id,
            "organisation_id": recipient.organisation_id,
            "organisation_type": recipient.organisation_type,
            "country": recipient.country,
        },
        "consent_reference": consent_reference,
        "shared": {
            "case_id": str(case_id),
            "programme": str(programme),
            "category": str(category),
            "urgency": str(urgency),
            "mhpss_level": str(mhpss_level) if mhpss_level is not None else None,
            "reason": reason,
        },
        "shared_data_manifest": {
            "allowed": [
                {"category": str(c), "class": str(SENSITIVITY[c]), "consent_id": str(d.basis)}
                for c, d in sorted(projection.allowed.items())
            ],
            "withheld": [{"category": str(c), "reason": str(d.reason)} for c, d in sorted(projection.withheld.items())],
            "redacted": [],
        },
    }


def _manifest(snapshot: Mapping[str, object]) -> dict[str, list[dict[str, str]]]:
    manifest = snapshot.get("shared_data_manifest")
    if not isinstance(manifest, dict):
        return {"allowed": [], "withheld": [], "redacted": []}
    return {key: [dict(e) for e in manifest.get(key, [])] for key in ("allowed", "withheld", "redacted")}


def allowed_categories(snapshot: Mapping[str, object]) -> dict[DataCategory, str]:
    """The categories a snapshot still lets the destination have, with the consent id behind each."""
    return {DataCategory(e["category"]): e["consent_id"] for e in _manifest(snapshot)["allowed"]}


def withdrawn_categories(
    disclosed: Iterable[DataCategory],
    *,
    recipient: Party,
    purpose: Purpose,
    withdrawn: Iterable[ConsentScope],
    case: CaseFacts,
    now: datetime,
) -> frozenset[DataCategory]:
    """The disclosed categories a withdrawal takes back: named by a withdrawn scope for this purpose and
    recipient, and not authorised any more by another consent in force (`case` carries the consents as they
    are after the withdrawal)."""
    scopes = tuple(withdrawn)
    return frozenset(
        c
        for c in disclosed
        if any(s.covers(c, purpose, recipient) for s in scopes)
        and not consent_for(case, c, purpose, recipient, now=now).allowed
    )


def redact(
    snapshot: Mapping[str, object],
    categories: Iterable[DataCategory],
    *,
    withdrawal_id: UUID,
    kind: WithdrawalKind,
    now: datetime,
) -> dict[str, object]:
    """The snapshot without `categories`; each is listed under `redacted` with the withdrawal that removed it."""
    dropped = {str(c) for c in categories}
    manifest = _manifest(snapshot)
    manifest["redacted"] += [
        {
            "category": e["category"],
            "consent_id": e["consent_id"],
            "withdrawal_id": str(withdrawal_id),
            "kind": str(kind),
            "redacted_at": now.isoformat(),
        }
        for e in manifest["allowed"]
        if e["category"] in dropped
    ]
    manifest["allowed"] = [e for e in manifest["allowed"] if e["category"] not in dropped]
    return dict(snapshot) | {"shared_data_manifest": manifest}


# the referral's free text from the case file, as the API names it: the referral's own field and its sent copy
FREE_TEXT_FIELDS = ("reason", "snapshot.shared.reason")


def free_text_withheld(status: ReferralStatus, snapshot: Mapping[str, object]) -> str | None:
    """Why the destination may no longer read the referral's free text (`consent-withdrawn`, or `consent-<kind>`
    of the latest withdrawal that redacted the snapshot), or None while the consent behind it stands."""
    if status == ReferralStatus.CONSENT_WITHDRAWN:
        return "consent-withdrawn"
    if redacted := _manifest(snapshot)["redacted"]:
        return f"consent-{redacted[-1].get('kind', WithdrawalKind.WITHDRAWN)}"
    return None


def without_free_text(snapshot: Mapping[str, object]) -> dict[str, object]:
    """The snapshot with the copy of the referral's reason removed; the rest of what was shared stays."""
    shared = snapshot.get("shared")
    if not isinstance(shared, dict):
        return dict(snapshot)
    return dict(snapshot) | {"shared": shared | {"reason": None}}


def erased(snapshot: Mapping[str, object], *, now: datetime) -> dict[str, object]:
    """What stays of a snapshot after the beneficiary's erasure: its schema, purpose and recipient, no manifest
    and no reason text."""
    return {
        "schema": snapshot.get("schema", SNAPSHOT_SCHEMA),
        "purpose": snapshot.get("purpose", str(PURPOSE)),
        "recipient": snapshot.get("recipient"),
        "erased_at": now.isoformat(),
    }
