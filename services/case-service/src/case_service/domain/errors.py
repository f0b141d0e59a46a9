from casebridge_common.problems import Conflict, Forbidden, Invalid, NotFound


class CaseNotFound(NotFound):
    code, title = "case-not-found", "Case not found"


class BeneficiaryNotFound(NotFound):
    code, title = "beneficiary-not-found", "Beneficiary not found"


class BirthDateInFuture(Invalid):
    code, title = "birth-date-in-future", "A date of birth cannot be in the future"


class IllegalTransition(Conflict):
    code, title = "illegal-transition", "This stage cannot be reached from the current one"


class GuardFailed(Conflict):
    code, title = "stage-guard-failed", "A transition guard is not met"


class SupervisorRoleRequired(Forbidden):
    code, title = "supervisor-role-required", "Only a supervisor may approve a plan"


class PlanNotFound(NotFound):
    code, title = "plan-not-found", "Plan version not found"


class PlanNotApprovable(Conflict):
    code, title = "plan-not-approvable", "Only the latest draft version of a plan can be approved"


class CaseNotActive(Conflict):
    code, title = "case-not-active", "The case is closed or in a terminal stage"


class TrancheNotDeliverable(Conflict):
    code, title = "tranche-not-deliverable", "This tranche is delivered already or an earlier one is still due"


class AssistanceNotFound(NotFound):
    code, title = "assistance-not-found", "Assistance item not found"


class AssistanceClosed(Conflict):
    code, title = "assistance-closed", "The assistance item is delivered, cancelled or recorded as an unmet need"


class ClosureNotFound(NotFound):
    code, title = "closure-not-found", "This case has no closure record"
