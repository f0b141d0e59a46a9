from casebridge_common.problems import Conflict, Forbidden, Invalid, NotFound


class IllegalTransition(Conflict):
    code, title = "illegal-referral-transition", "This referral cannot make that transition from its status"


class ReferralNotFound(NotFound):
    code, title = "referral-not-found", "Referral not found"


class CaseNotFound(NotFound):
    code, title = "case-not-found", "Case not found"


class ServiceNotFound(NotFound):
    code, title = "service-not-found", "Directory service not found"


class UnknownDestination(Invalid):
    code, title = "unknown-destination", "The referral destination is not in the service directory"


class CategoryRequired(Invalid):
    code, title = "category-required", "A referral to an office or organisation needs a service category"


class UrgencyBelowMhpssLevel(Invalid):
    code, title = "urgency-below-mhpss-level", "The urgency is lower than the mental-health referral level requires"


class MhpssLevelNeedsMhpssCategory(Invalid):
    code, title = "mhpss-level-needs-mhpss-category", "A mental-health referral level needs an MHPSS category"


class ServiceNotAcceptingReferrals(Conflict):
    code, title = "service-not-accepting-referrals", "The service is not accepting referrals now"


class SelfReferral(Invalid):
    code, title = "self-referral", "An office cannot refer a case to itself"


class NotReferralDestination(Forbidden):
    code, title = "not-referral-destination", "Only the referral's destination may do this"


class NotReferralSender(Forbidden):
    code, title = "not-referral-sender", "Only the referring office may do this"


class DeadlineOverrideNotAllowed(Invalid):
    code, title = "deadline-override-not-allowed", "Deadline overrides are accepted in local and test only"


class OrganisationClaimRequired(Forbidden):
    code, title = "organisation-claim-required", "This endpoint acts for an organisation; the token carries none"


class OrganisationNotFound(NotFound):
    code, title = "organisation-not-found", "Organisation not found"


class InvalidPeriod(Invalid):
    code, title = "invalid-period", "The period must end after it starts"


class HsdsImportRejected(Invalid):
    code, title = "hsds-import-rejected", "Rows of the HSDS document are invalid; nothing was imported"


class ConsentRequired(Forbidden):
    code, title = "consent-required", "No consent in force lets any personal data go to this destination"


class PathwayConsentRequired(Forbidden):
    code, title = "pathway-consent-required", "The referral pathway needs data categories no consent lets go there"


class ReferralPreviewOutdated(Conflict):
    code, title = "referral-preview-outdated", "What would be sent changed since the preview; refresh it first"


class ProviderFeedbackConsentRequired(Forbidden):
    code, title = "provider-feedback-consent-required", "Without provider_feedback consent, only statuses go back"
