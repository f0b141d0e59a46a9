from casebridge_common.problems import Conflict, Invalid, NotFound


class InboxItemNotFound(NotFound):
    code, title = "inbox-item-not-found", "Inbox item not found"


class SubscriptionNotFound(NotFound):
    code, title = "subscription-not-found", "Subscription not found"


class DeliveryNotFound(NotFound):
    code, title = "delivery-not-found", "Webhook delivery not found"


class UnknownEventType(Invalid):
    code, title = "unknown-event-type", "No subscribable event has this type"


class WebhookUrlNotAllowed(Invalid):
    code, title = "webhook-url-not-allowed", "Webhook endpoints must use HTTPS (plain HTTP only to 127.0.0.1 locally)"


class DeliveryNotReplayable(Conflict):
    code, title = "delivery-not-replayable", "Only a finished delivery can be replayed"


class EmailAddressRequired(Invalid):
    code, title = "email-address-required", "The e-mail channel needs an e-mail address"


class UnknownTimezone(Invalid):
    code, title = "unknown-timezone", "Not an IANA time zone name"


class TemplateSyntaxError(Invalid):
    code, title = "template-syntax-error", "The template is not valid Jinja2"


class UnknownTemplatePlaceholder(Invalid):
    code, title = "unknown-template-placeholder", "The template uses a placeholder this kind of notice does not have"


class PhoneNumberRequired(Invalid):
    code, title = "phone-number-required", "The SMS channel needs a phone number"
