"""Outbound channels (HTTP webhooks): the only code of this service that talks to partner systems."""
