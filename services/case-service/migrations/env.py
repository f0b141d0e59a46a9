import case_service.domain.assessments
import case_service.domain.assistance
import case_service.domain.models  # noqa: F401 - registers this service's tables
from casebridge_common.migrations import run_env

run_env()
