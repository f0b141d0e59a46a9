import case_service.domain.assessments
import case_service.domain.assistance
import case_service.domain.consent
import case_service.domain.documents
import case_service.domain.follow_ups
import case_service.domain.imports
import case_service.domain.models
import case_service.domain.monitoring
import case_service.domain.return_suspensions
import case_service.domain.sharing
import case_service.domain.subject_rights
import case_service.domain.sync
import case_service.domain.vault  # noqa: F401 - registers this service's tables
from casebridge_common.migrations import run_env

run_env()
