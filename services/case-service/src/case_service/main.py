from fastapi import FastAPI

from case_service.api import assistance, beneficiaries, cases, lifecycle
from case_service.settings import Settings
from casebridge_common.app import create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    """`uvicorn --factory case_service.main:create_app`"""
    return create_service_app(
        settings or Settings(),
        title="CaseBridge case-service",
        description="Returnees and refugees, their cases from first counselling to closure.",
        routers=[beneficiaries.router, cases.router, lifecycle.router, assistance.router],
        openapi_tags=[
            {"name": "beneficiaries", "description": "Returnees and refugees registered by an office"},
            {"name": "cases", "description": "Cases through their lifecycle"},
        ],
    )
