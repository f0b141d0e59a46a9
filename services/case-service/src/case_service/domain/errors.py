from datetime import date

from casebridge_common.problems import Conflict, DomainError, Forbidden, Invalid, NotFound


class CaseNotFound(NotFound):
    code, title = "case-not-found", "Case not found"


class BeneficiaryNotFound(NotFound):
    code, title = "beneficiary-not-found", "Beneficiary not found"


class OpeningRaced(Exception):
    """A request with the same Idempotency-Key committed while an opening's statement ran: nothing was written;
    open it again, which finds that request's answer (repositories/openings.py)."""


class CaseOpeningContended(Conflict):
    code, title = "case-opening-contended", "Requests with this Idempotency-Key kept racing the opening of the case"


class BirthDateInFuture(Invalid):
    code, title = "birth-date-in-future", "A date of birth cannot be in the future"


class ReturnDateInFuture(Invalid):
    code, title = "return-date-in-future", "A date of return cannot be in the future"


class DateInFuture(Invalid):
    """The date of something already done (a delivery, a signature, an exit interview, a determination)."""

    code, title = "date-in-future", "The date of something already done cannot be in the future"

    @classmethod
    def check(cls, day: date | None, *, today: date, pointer: str) -> None:
        if day is not None and day > today:
            raise cls(f"{day.isoformat()} is after today ({today.isoformat()}).", pointer=pointer)


class ReturnProfileNotApplicable(Invalid):
    code, title = "return-profile-not-applicable", "Only a return & reintegration case has a return profile"


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


class PlanItemNotFound(Invalid):
    code, title = "plan-item-not-found", "The case's plan has no such version, or that version no such item"


class AssistanceNotFound(NotFound):
    code, title = "assistance-not-found", "Assistance item not found"


class AssistanceClosed(Conflict):
    code, title = "assistance-closed", "The assistance item is delivered, cancelled or recorded as an unmet need"


class ClosureNotFound(NotFound):
    code, title = "closure-not-found", "This case has no closure record"


class TransferNotFound(NotFound):
    code, title = "transfer-not-found", "Case transfer not found"


class TransferAlreadyPending(Conflict):
    code, title = "transfer-already-pending", "This case already has a transfer awaiting an answer"


class TransferNotPending(Conflict):
    code, title = "transfer-not-pending", "This transfer was already accepted, declined, cancelled or has expired"


class NotTransferRecipient(Forbidden):
    code, title = "not-transfer-recipient", "Only the receiving office may answer this transfer"


class NotTransferSender(Forbidden):
    code, title = "not-transfer-sender", "Only the sending office may cancel this transfer"


class TransferToOwnOffice(Invalid):
    code, title = "transfer-to-own-office", "A case cannot be transferred to the office that owns it"


class InvalidTransferDeadline(Invalid):
    code, title = "invalid-transfer-deadline", "The response deadline must be in the future and within 90 days"


class ConsentNotFound(NotFound):
    code, title = "consent-not-found", "Consent record not found"


class ConsentNotActive(Conflict):
    code, title = "consent-not-active", "Only a given or renewed consent can be renewed, narrowed or withdrawn"


class ConsentNotRequested(Conflict):
    code, title = "consent-not-requested", "Only a requested consent can be answered, and only once"


class ConsentNarrowingWidens(Invalid):
    code, title = "consent-narrowing-widens", "The new terms allow something the consent did not"


class ConsentNarrowingUnchanged(Invalid):
    code, title = "consent-narrowing-unchanged", "The new terms are the same as the consent's: nothing is narrowed"


class ForbiddenPurpose(Invalid):
    code, title = "forbidden-purpose", "No consent can be recorded for this purpose"


class GuardianConsentRequired(Invalid):
    code, title = (
        "guardian-consent-required",
        ("A minor's consent is given by a parent or guardian, with the child's assent and views recorded"),
    )


class CapacityAssessmentRequired(Invalid):
    code, title = "capacity-assessment-required", "Consent given on someone's behalf names who assessed capacity"


class InvalidValidityPeriod(Invalid):
    code, title = "invalid-validity-period", "A consent's validity must end after it starts"


class ConsentReceiptNotFound(NotFound):
    code, title = "consent-receipt-not-found", "No receipt was issued for this version of the consent"


class WithdrawalNotFound(NotFound):
    code, title = "withdrawal-not-found", "Consent withdrawal not found"


class AccessDenied(Forbidden):
    code, title = "access-denied", "The access policy does not allow this on this case"


class PurposeForbidden(Forbidden):
    code, title = "purpose-forbidden", "Personal data is never processed for this purpose"


class ConsentRequired(Forbidden):
    code, title = "consent-required", "No consent covers sharing this case with that office"


class ShareNotFound(NotFound):
    code, title = "share-not-found", "Share not found"


class CannotShareWithOwner(Invalid):
    code, title = "share-with-owner", "A case cannot be shared with the office that owns it"


class BreakGlassRoleRequired(Forbidden):
    code, title = "break-glass-role-required", "Only a clinical or case role may break the glass"


class BeneficiaryKeyDestroyed(Conflict):
    code, title = "beneficiary-erased", "This person's data was erased on request; nothing sensitive can be added"


class RetentionHold(Conflict):
    code, title = "retention-hold", "The records must still be kept (open case, monitoring period or legal hold)"


class SubjectRightsRoleRequired(Forbidden):
    code, title = "subject-rights-role-required", "Only a data controller or a supervisor may do this"


class LegalHoldNotFound(NotFound):
    code, title = "legal-hold-not-found", "Legal hold not found"


class ShareExpiryInPast(Invalid):
    code, title = "share-expiry-in-past", "A share's expiry must be in the future"


class DocumentNotFound(NotFound):
    code, title = "document-not-found", "Document not found"


class DocumentTooLarge(DomainError):
    status, code, title = 413, "document-too-large", "The document is larger than the service accepts"


class DocumentTypeNotAllowed(DomainError):
    status, code, title = 415, "document-type-not-allowed", "Only PDF, JPEG, PNG and DOCX documents are accepted"


class DocumentTypeMismatch(DomainError):
    status, code, title = 415, "document-type-mismatch", "The content is not in the format its declared type names"


class DocumentEmpty(Invalid):
    code, title = "document-empty", "The document has no content"


class DocumentErased(DomainError):
    status, code, title = 410, "document-erased", "This document's content was erased with the person's data"


class ImportNotFound(NotFound):
    code, title = "import-not-found", "Caseload import not found"


class ImportFileUnreadable(Invalid):
    code, title = "import-file-unreadable", "The file is not a readable CSV (UTF-8) or XLSX workbook"


class ImportColumnsMissing(Invalid):
    code, title = "import-columns-missing", "The header row lacks required columns of the import mapping"


class ImportTooLarge(Invalid):
    code, title = "import-too-large", "The file has more rows or bytes than one import accepts"


class PossibleDuplicate(Conflict):
    code, title = (
        "possible-duplicate",
        "This person looks already registered; check `matches`, or resend with confirm_not_duplicate",
    )


class HouseholdNotFound(NotFound):
    code, title = "household-not-found", "Household not found"


class HouseholdHeadRequired(Invalid):
    code, title = "household-head-required", "A household has exactly one member whose relationship is head"


class HouseholdMemberRepeated(Invalid):
    code, title = "household-member-repeated", "A person is listed twice in the household"


class HouseholdMemberNotFound(Invalid):
    code, title = "household-member-not-found", "This person is not a member of the household"


class AlreadyInHousehold(Conflict):
    code, title = "already-in-household", "This person is already a member of a household"


class GuardianRequired(Invalid):
    code, title = "guardian-required", "A minor member needs a guardian: another member or an external person"


class GuardianNotMember(Invalid):
    code, title = "guardian-not-member", "A guardian given by id must be another member of the same household"


class GuardianNotAdult(Invalid):
    code, title = "guardian-not-adult", "A guardian must be an adult"


class FollowUpVisitNotFound(NotFound):
    code, title = "follow-up-visit-not-found", "Follow-up visit not found"


class FollowUpVisitClosed(Conflict):
    code, title = "follow-up-visit-closed", "This follow-up visit was already recorded or cancelled"


class FollowUpNotStarted(Conflict):
    code, title = "follow-up-not-started", "The case is not in a stage with follow-up or post-closure monitoring"


class FollowUpDateInvalid(Invalid):
    code, title = (
        "follow-up-date-invalid",
        "A visit is planned from today to 3 years ahead and never held in the future",
    )


class ReturnSuspensionNotFound(NotFound):
    code, title = "return-suspension-not-found", "Return suspension not found"


class ReturnSuspensionExists(Conflict):
    code, title = "return-suspension-exists", "Returns to this country are suspended already"


class ReturnSuspensionRoleRequired(Forbidden):
    code, title = "return-suspension-role-required", "Only a supervisor may suspend returns or lift a suspension"
