from casebridge_common.problems import Invalid, NotFound


class CaseNotFound(NotFound):
    code, title = "case-not-found", "Case not found"


class BeneficiaryNotFound(NotFound):
    code, title = "beneficiary-not-found", "Beneficiary not found"


class BirthDateInFuture(Invalid):
    code, title = "birth-date-in-future", "A date of birth cannot be in the future"
