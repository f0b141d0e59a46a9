from fastapi import FastAPI

from casebridge_common.app import create_service_app
from scoring_service.api import surveys
from scoring_service.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """`uvicorn --factory scoring_service.main:create_app`"""
    return create_service_app(
        settings or Settings(),
        title="CaseBridge scoring-service",
        description="Reintegration Sustainability Survey scoring, assessments and programme indicators.",
        routers=[surveys.router],
        openapi_tags=[{"name": "surveys", "description": "Survey schedules and administrations"}],
    )
