"""Which consent withdrawals reach scoring-service's survey data (data-protection.md §2.4 item 6, R-E2..R-E4).

Scoring-service keeps pseudonymous survey answers and scores (C1) for the owning programme's monitoring. A
withdrawn scope concerns them when it was about analysis (`m_and_e`, `research`, `aggregate_reporting`) or about
the survey data themselves (`survey_responses`, `scores`), and it named the owning programme as recipient: its
office or its organisation. A scope that names no recipient at all is read as naming everyone: a withdrawal errs
towards doing what the person asked.
"""

from collections.abc import Sequence

from casebridge_common.access import DataCategory, Party, Purpose
from casebridge_common.events.contracts.consent import ScopeTerms

ANALYSIS_PURPOSES: frozenset[Purpose] = frozenset({Purpose.M_AND_E, Purpose.RESEARCH, Purpose.AGGREGATE_REPORTING})
SURVEY_CATEGORIES: frozenset[DataCategory] = frozenset({DataCategory.SURVEY_RESPONSES, DataCategory.SCORES})


def _names_no_one(scope: ScopeTerms) -> bool:
    return not (scope.offices or scope.organisations or scope.organisation_types or scope.countries)


def concerns_survey_data(scopes: Sequence[ScopeTerms], *, owner: Party) -> bool:
    """Whether any withdrawn scope covered the owning programme's analysis of the survey data."""
    for scope in scopes:
        about_surveys = bool(ANALYSIS_PURPOSES & set(scope.purposes)) or bool(
            SURVEY_CATEGORIES & set(scope.data_categories)
        )
        if about_surveys and (_names_no_one(scope) or scope.to_policy().recipients.include(owner)):
            return True
    return False
