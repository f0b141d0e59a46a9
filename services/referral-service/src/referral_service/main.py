from fastapi import FastAPI

from casebridge_common.app import create_service_app
from referral_service.api import directory, referrals
from referral_service.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """`uvicorn --factory referral_service.main:create_app`"""
    return create_service_app(
        settings or Settings(),
        title="CaseBridge referral-service",
        description="Service directory and closed-loop referrals between offices, agencies and providers.",
        routers=[directory.router, referrals.router],
        openapi_tags=[
            {"name": "directory", "description": "Organisations, offices, locations and the services they offer"},
            {"name": "referrals", "description": "Closed-loop referrals with deadlines, inbox and outbox"},
        ],
    )
