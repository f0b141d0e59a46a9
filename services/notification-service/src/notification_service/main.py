from fastapi import FastAPI

from casebridge_common.app import create_service_app
from notification_service.api import inbox, preferences, subscriptions, templates
from notification_service.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """`uvicorn --factory notification_service.main:create_app`"""
    return create_service_app(
        settings or Settings(),
        title="CaseBridge notification-service",
        description="In-app inbox, e-mail and signed webhooks to partner systems, driven by the platform's events.",
        routers=[preferences.router, templates.router, inbox.router, subscriptions.router],
        openapi_tags=[
            {"name": "inbox", "description": "In-app inbox per office, organisation and user; mobile delta sync"},
            {"name": "preferences", "description": "Channels, language, quiet hours and digest per office or user"},
            {"name": "templates", "description": "E-mail templates per kind and language, per office or organisation"},
            {"name": "subscriptions", "description": "Webhook subscriptions of partner systems and their deliveries"},
        ],
    )
