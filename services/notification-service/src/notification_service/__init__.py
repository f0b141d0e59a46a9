"""notification-service: in-app inbox, e-mail, signed webhooks, reminders and escalations."""
