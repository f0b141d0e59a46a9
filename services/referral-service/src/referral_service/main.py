from fastapi import FastAPI

from casebridge_common.app import create_service_app
from referral_service.api import directory
from referral_service.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """`uvicorn --factory referral_service.main:create_app`"""
    return create_service_app(
        settings or Settings(),
        title="CaseBridge referral-service",
        description="Service directory and closed-loop referrals between offices, agencies and providers.",
        routers=[directory.router],
        openapi_tags=[{"name": "directory", "description": "Organisations, offices and the services they offer"}],
    )
