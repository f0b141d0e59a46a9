from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from casebridge_common.app import create_service_app
from scoring_service.api import indicators, instruments, surveys
from scoring_service.bootstrap import load_shipped_instruments
from scoring_service.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """`uvicorn --factory scoring_service.main:create_app`"""
    app = create_service_app(
        settings or Settings(),
        title="CaseBridge scoring-service",
        description="Reintegration Sustainability Survey scoring, assessments and programme indicators.",
        routers=[instruments.router, surveys.router, indicators.router],
        openapi_tags=[
            {"name": "instruments", "description": "Versioned survey and screening instruments"},
            {"name": "surveys", "description": "Survey schedules, administrations and their scores"},
            {"name": "indicators", "description": "Programme indicators with small-cell suppression"},
        ],
    )
    # The shared app shell owns the lifespan; wrap it to load the shipped instruments once the engine exists.
    shell = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Mapping[str, Any]]:
        async with shell(app) as state:
            assert state is not None  # noqa: S101 - create_service_app yields its state
            await load_shipped_instruments(state["sessions"])
            yield state

    app.router.lifespan_context = lifespan
    return app
