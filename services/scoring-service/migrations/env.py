import scoring_service.domain.models  # noqa: F401 - registers this service's tables
from casebridge_common.migrations import run_env

run_env()
