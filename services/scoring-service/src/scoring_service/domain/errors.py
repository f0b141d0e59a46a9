"""Expected failures of scoring-service, each with a stable problem code (README error catalogue)."""

from casebridge_common.problems import Conflict, Invalid, NotFound


class CaseNotFound(NotFound):
    code, title = "case-not-found", "Case not found"


class SurveyNotFound(NotFound):
    code, title = "survey-not-found", "Survey not found"


class InstrumentNotFound(NotFound):
    code, title = "instrument-not-found", "Instrument version not found"


class InstrumentInvalid(Invalid):
    code, title = "instrument-invalid", "The instrument document is not consistent"


class InstrumentVersionExists(Conflict):
    code, title = "instrument-version-exists", "This instrument version exists already; versions are immutable"


class InstrumentVersionUnknown(Invalid):
    code, title = "instrument-version-unknown", "No such instrument version is loaded"


class InstrumentNotApplicable(Invalid):
    code, title = "instrument-not-applicable", "This instrument is not used in the case's programme"


class AnswersInvalid(Invalid):
    code, title = "survey-answers-invalid", "The answers do not fit the instrument version"


class SurveyNotScored(Conflict):
    code, title = "survey-not-scored", "A discarded (interrupted) survey has no answers to score"


class IndicatorPeriodNotQuarterly(Invalid):
    code, title = "indicator-period-not-quarterly", "Indicator periods are whole calendar quarters"
