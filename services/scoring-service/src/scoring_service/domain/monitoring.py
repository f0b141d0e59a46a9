"""Case monitoring profiles as scoring-service keeps them, and the consent that lets excluded cases back in.

Profiles arrive at least once and, across redeliveries, in any order: the highest `profile_version` of a case
wins, so a withdrawal that nulled a fact is never undone by a late copy of an older profile. That holds for the
return timeline (quarter of return, days to the first plan approval) as for every other fact: it is migration
history, so a newer profile without it means it is no longer disclosed, and it is dropped.
"""

from collections.abc import Sequence
from datetime import datetime

from casebridge_common.access import Party, Purpose
from casebridge_common.events.contracts.case import CaseMonitoringProfile
from casebridge_common.events.contracts.consent import ScopeTerms
from scoring_service.domain.models import CaseMonitoringProfileRecord
from scoring_service.domain.withdrawals import SURVEY_CATEGORIES


def merge_profile(
    held: CaseMonitoringProfileRecord | None, profile: CaseMonitoringProfile, *, now: datetime
) -> CaseMonitoringProfileRecord | None:
    """The record to keep after `profile` arrives, or None when what is held already stands."""
    if held is not None and held.profile_version >= profile.profile_version:
        return None
    record = held or CaseMonitoringProfileRecord(
        case_id=profile.case_id,
        beneficiary_id=profile.beneficiary_id,
        profile_version=profile.profile_version,
        as_of=profile.as_of,
        received_at=now,
    )
    record.beneficiary_id = profile.beneficiary_id
    record.profile_version, record.as_of, record.received_at = profile.profile_version, profile.as_of, now
    record.sex = profile.sex
    record.age_group = None if profile.age_group is None else profile.age_group.value
    record.country_of_origin, record.country_of_return = profile.country_of_origin, profile.country_of_return
    record.return_quarter, record.days_return_to_plan = profile.return_quarter, profile.days_return_to_plan
    record.mode_of_return = None if profile.mode_of_return is None else profile.mode_of_return.value
    record.host_country = profile.host_country
    record.length_of_absence = None if profile.length_of_absence is None else profile.length_of_absence.value
    return record


def covers_analysis(scopes: Sequence[ScopeTerms], *, owner: Party) -> bool:
    """Whether a consent now given lets the owning programme analyse the survey data for M&E: a scope naming
    `m_and_e`, survey answers or scores, and the owner's office or organisation."""
    return any(
        Purpose.M_AND_E in scope.purposes
        and bool(SURVEY_CATEGORIES & set(scope.data_categories))
        and scope.to_policy().recipients.include(owner)
        for scope in scopes
    )
