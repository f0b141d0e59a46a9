"""RFC 9457 problem+json for every error, with a stable ``code``.

Services raise :class:`DomainError` subclasses; the handlers installed by :func:`install_problem_handlers`
turn them, validation errors, auth failures and unexpected exceptions into problem documents.
"""

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from casebridge_common.telemetry import current_trace_id

PROBLEM_BASE = "https://casebridge.example/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"
log = logging.getLogger(__name__)


class DomainError(Exception):
    """An expected business failure: a kind (the HTTP status) and a stable code, nothing else of HTTP."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str | None = None, **context: object) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.context = context

    def headers(self) -> dict[str, str]:
        return {}


class BadRequest(DomainError):
    status, code, title = 400, "bad-request", "Bad request"


class Unauthorized(DomainError):
    status, code, title = 401, "unauthorized", "Authentication required"


class Forbidden(DomainError):
    status, code, title = 403, "forbidden", "Not allowed"


class NotFound(DomainError):
    status, code, title = 404, "not-found", "Not found"


class Conflict(DomainError):
    status, code, title = 409, "conflict", "Conflict with the current state"


class PreconditionFailed(DomainError):
    status, code, title = 412, "version-mismatch", "The resource has changed since it was read"


class Invalid(DomainError):
    status, code, title = 422, "invalid", "The request is not valid"


class PreconditionRequired(DomainError):
    status, code, title = 428, "if-match-required", "This update needs an If-Match header"


class ServiceUnavailable(DomainError):
    status, code, title = 503, "unavailable", "A dependency is unavailable"


class ProblemError(BaseModel):
    pointer: str | None = Field(default=None, examples=["#/date_of_birth"])
    parameter: str | None = None
    header: str | None = None
    detail: str


class Problem(BaseModel):
    """The problem document (RFC 9457) with CaseBridge's extension members."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": PROBLEM_BASE + "case-not-found",
                    "title": "Case not found",
                    "status": 404,
                    "code": "case-not-found",
                    "detail": "No case with this id is visible to you.",
                    "instance": "/v1/cases/7f3c2a3e-6c1b-4c53-9b0e-4a4b7f0f9a11",
                    "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
                }
            ]
        },
    )

    type: str
    title: str
    status: int
    code: str
    detail: str | None = None
    instance: str | None = None
    trace_id: str | None = None
    errors: list[ProblemError] | None = None


def problem_response(
    request: Request,
    *,
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "code": code,
        "detail": detail,
        "instance": request.url.path,
        "trace_id": current_trace_id(),
    }
    body.update(extra or {})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=dict(headers or {}))


def _json_safe(value: object) -> object:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    return str(value)


def _pointer(location: tuple[int | str, ...]) -> ProblemError:
    where, *path = location or ("body",)
    dotted = "/".join(str(p) for p in path)
    if where == "body":
        return ProblemError(pointer="#/" + dotted, detail="")
    if where == "header":
        return ProblemError(header=dotted, detail="")
    return ProblemError(parameter=dotted or str(where), detail="")


async def _on_domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)  # noqa: S101 - registered for DomainError only
    return problem_response(
        request,
        status=exc.status,
        code=exc.code,
        title=exc.title,
        detail=exc.detail,
        extra={k: _json_safe(v) for k, v in exc.context.items()},
        headers=exc.headers(),
    )


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101
    errors = []
    for error in exc.errors():
        item = _pointer(tuple(error.get("loc", ())))
        item.detail = str(error.get("msg", "invalid"))
        errors.append(item.model_dump(exclude_none=True))
    return problem_response(
        request,
        status=422,
        code="validation-error",
        title="The request is not valid",
        detail=f"{len(errors)} field(s) failed validation",
        extra={"errors": errors},
    )


_HTTP_CODES = {404: "route-not-found", 405: "method-not-allowed", 415: "unsupported-media-type"}


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101
    code = _HTTP_CODES.get(exc.status_code, f"http-{exc.status_code}")
    return problem_response(
        request, status=exc.status_code, code=code, title=str(exc.detail), headers=exc.headers or {}
    )


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(request, status=500, code="internal-error", title="Internal error")


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route, so OpenAPI shows the problem schema for every error status."""
    return {
        status: {
            "model": Problem,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
