"""The FastAPI application shell every service shares: lifespan resources, problem handlers, health, telemetry."""

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.types import ASGIApp, Receive, Scope, Send

from casebridge_common.audit_api import router as audit_router
from casebridge_common.auth import JwksCache, TokenVerifier, discovery_key_loader
from casebridge_common.db import create_engine, session_factory
from casebridge_common.http import REQUEST_TARGET
from casebridge_common.problems import install_problem_handlers, problem_response
from casebridge_common.settings import ServiceSettings
from casebridge_common.telemetry import configure_logging, configure_tracing

log = logging.getLogger(__name__)


class RequestTargetMiddleware:
    """Keeps "METHOD /path" of the request in ``REQUEST_TARGET`` while it is handled. Plain ASGI: Starlette's
    ``BaseHTTPMiddleware`` costs an extra task and body stream on every request."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        token = REQUEST_TARGET.set(f"{scope['method']} {scope['path']}")
        try:
            await self._app(scope, receive, send)
        finally:
            REQUEST_TARGET.reset(token)


def _untraced(scope: Scope) -> bool:
    """Probes are not traced."""
    return scope.get("path") in {"/healthz", "/readyz"}


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    openapi_tags: list[dict[str, Any]] | None = None,
) -> FastAPI:
    configure_logging(settings.service_name, settings.log_level)
    configure_tracing(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        engine = create_engine(settings.database_url.get_secret_value(), pool_size=settings.database_pool_size)
        client = httpx.AsyncClient(timeout=5.0)
        jwks = JwksCache(discovery_key_loader(settings.oidc_issuer, client), refresh_s=settings.jwks_refresh_s)
        try:
            await jwks.keys()
        except Exception as exc:  # the IdP may start later; keys load on the first request instead
            log.warning("JWKS not loaded at start-up: %r", exc)
        try:
            yield {
                "settings": settings,
                "engine": engine,
                "sessions": session_factory(engine),
                "jwks": jwks,
                "token_verifier": TokenVerifier(jwks, issuer=settings.oidc_issuer, audience=settings.oidc_audience),
            }
        finally:
            await client.aclose()
            await engine.dispose()

    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        openapi_tags=openapi_tags,
        # FastAPI's own OpenTelemetry support: one server span per request, named after the route the router
        # matched (the contrib instrumentation matched every request against all routes a second time).
        # Dependency, endpoint and serialisation sub-spans say nothing the server span does not.
        telemetry={"operation_spans": False, "exclude": _untraced},
        servers=[{"url": "http://127.0.0.1:8080", "description": "local gateway (make up)"}],
    )
    install_problem_handlers(app)

    app.add_middleware(RequestTargetMiddleware)

    @app.get("/healthz", tags=["operations"], summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], summary="Readiness: the database and the IdP's keys are reachable")
    async def readyz(request: Request) -> JSONResponse:
        try:
            async with request.state.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            await request.state.jwks.keys()
        except Exception as exc:
            return problem_response(request, status=503, code="not-ready", title="Not ready", detail=repr(exc))
        return JSONResponse({"status": "ready"})

    for router in (*routers, audit_router):
        app.include_router(router)
    return app
