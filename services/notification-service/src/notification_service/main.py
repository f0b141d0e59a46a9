from fastapi import FastAPI

from casebridge_common.app import create_service_app
from notification_service.api import inbox
from notification_service.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """`uvicorn --factory notification_service.main:create_app`"""
    return create_service_app(
        settings or Settings(),
        title="CaseBridge notification-service",
        description="In-app inbox, e-mail, signed webhooks, reminders and escalations.",
        routers=[inbox.router],
        openapi_tags=[{"name": "inbox", "description": "In-app inbox per office"}],
    )
