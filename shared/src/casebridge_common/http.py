"""API conventions: cursor pagination, ETag/If-Match, Idempotency-Key on creating POSTs."""

import base64
import binascii
import hashlib
import json
import re
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

from fastapi import Header, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, BeforeValidator
from pydantic_core import PydanticCustomError
from sqlalchemy import Column, DateTime, Integer, func, select
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from casebridge_common.auth import Principal
from casebridge_common.db import stored_instant
from casebridge_common.problems import BadRequest, Invalid, PreconditionFailed, PreconditionRequired

T = TypeVar("T")
DEFAULT_LIMIT, MAX_LIMIT = 50, 200
IDEMPOTENCY_TTL = timedelta(hours=24)
# "METHOD /path" of the request being handled; set by the app shell's middleware (casebridge_common.app).
REQUEST_TARGET: ContextVar[str] = ContextVar("casebridge_request_target", default="")


_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


def is_a_number(value: object) -> bool:
    """A number, or text that is one ("0", " -86400 ", "1e9"): what pydantic would read as a time in seconds."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value) is not None)


def _written_as(kind: str, form: str) -> BeforeValidator:
    def check(value: object) -> object:
        if is_a_number(value):
            raise PydanticCustomError(f"{kind}_type", f"Input should be a valid {kind} written {form}, not a number")
        return value

    return BeforeValidator(check)


# Dates and times of requests are ISO 8601 text. Pydantic also reads a number (or a numeric string) as seconds
# (since 1970, or since midnight for a time of day), so `"born_on": 0` was 1 January 1970: these refuse it as a
# wrong type (422), like any other.
IsoDate = Annotated[date, _written_as("date", "YYYY-MM-DD")]
IsoDateTime = Annotated[datetime, _written_as("datetime", "in ISO 8601 (2026-12-02T09:30:00Z)")]
IsoTime = Annotated[time, _written_as("time", "HH:MM")]


class Page(BaseModel, Generic[T]):
    """A page of a list. There are no total counts: they would leak what the caller may not see."""

    items: list[T]
    next_cursor: str | None = None


class InvalidCursor(BadRequest):
    code, title = "invalid-cursor", "The cursor is malformed or belongs to another query"


class Cursor:
    """Opaque keyset cursor: the last row's sort key and id, bound to a hash of the query it came from and of
    the request's path (`REQUEST_TARGET`), so that one list's cursor is refused by another whose query has the
    same fields (a case's notes and its assistance items, say)."""

    @staticmethod
    def _query_hash(query: dict[str, Any]) -> str:
        bound = {"target": REQUEST_TARGET.get(), "query": query}
        return hashlib.sha256(json.dumps(bound, sort_keys=True, default=str).encode()).hexdigest()[:16]

    @classmethod
    def encode(cls, after: list[Any], query: dict[str, Any]) -> str:
        raw = json.dumps({"a": after, "q": cls._query_hash(query)}, default=str, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str | None, query: dict[str, Any]) -> list[Any] | None:
        if cursor is None:
            return None
        try:
            doc = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            after, query_hash = doc["a"], doc["q"]
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise InvalidCursor(parameter="cursor") from exc
        if query_hash != cls._query_hash(query) or not isinstance(after, list):
            raise InvalidCursor("This cursor was issued for a different query.", parameter="cursor")
        return after


def time_and_id(after: list[Any] | None) -> tuple[datetime, UUID] | None:
    """The keyset position of a list sorted by (timestamp, id), from a decoded cursor."""
    if after is None:
        return None
    try:
        at, row_id = after
        return stored_instant(str(at)), UUID(str(row_id))
    except (ValueError, TypeError) as exc:
        raise InvalidCursor(parameter="cursor") from exc


def whole_number(value: object, *, below: int = 2**31) -> int:
    """A position of a cursor that is a count (a version, a row number): InvalidCursor for anything else, a bool,
    a negative number, or one at or past `below` (the column's range: PostgreSQL integers by default)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < below:
        raise InvalidCursor(parameter="cursor")
    return value


CursorParam = Annotated[str | None, Query(description="`next_cursor` of the previous page", max_length=2048)]
LimitParam = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="page size")]


def page_of(items: list[T], *, limit: int, sort_key: Any, query: dict[str, Any]) -> Page[T]:
    """`items` holds up to limit + 1 rows; the extra row only signals that there is a next page."""
    if len(items) <= limit:
        return Page(items=items)
    kept = items[:limit]
    return Page(items=kept, next_cursor=Cursor.encode(sort_key(kept[-1]), query))


def etag(version: int) -> str:
    return f'"{version}"'


def require_if_match(if_match: str | None, current_version: int) -> None:
    """428 without If-Match, 412 (with the current version) when it names another version."""
    if if_match is None:
        raise PreconditionRequired()
    if if_match.strip() not in (etag(current_version), f'W/"{current_version}"'):
        raise PreconditionFailed(current_version=current_version)


IfMatch = Annotated[str | None, Header(description="the ETag of the version being updated")]
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=200,
        description="a client-chosen unique key; a retry with the same key and body replays the first answer",
    ),
]


class IdempotencyKeyReused(Invalid):
    code, title = "idempotency-key-reused", "This Idempotency-Key was used with a different request body"


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_keys"

    principal: str = Field(primary_key=True)
    key: str = Field(primary_key=True)
    request_hash: str
    status: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    body: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    created_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )


@dataclass(frozen=True, slots=True)
class IdempotencyClaim:
    """A request's Idempotency-Key, for a use case that stores its answer itself (case-service's opening)."""

    principal: str
    key: str
    request_hash: str


def idempotency_principal(who: Principal) -> str:
    """Whose key it is: keys are scoped to the client and subject that sent them."""
    return f"{who.client_id}|{who.subject}"


def idempotency_request_hash(request: BaseModel) -> str:
    """The request a key stands for. The target is part of it: the same key and body sent to another case is
    another request."""
    return hashlib.sha256(f"{REQUEST_TARGET.get()}\n{request.model_dump_json()}".encode()).hexdigest()


def idempotent_replay(record: IdempotencyRecord, request_hash: str) -> JSONResponse:
    """The earlier answer to the same request; 422 `idempotency-key-reused` when the key came with another one."""
    if record.request_hash != request_hash:
        raise IdempotencyKeyReused(header="Idempotency-Key")
    return JSONResponse(record.body, status_code=record.status or 200, headers={"Idempotent-Replayed": "true"})


class IdempotencyKeys:
    """`(principal, key) → request hash, status, body`, stored in the same transaction as the effect."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._claimed: tuple[str, str] | None = None

    async def replay(self, key: str | None, who: Principal, request: BaseModel) -> JSONResponse | None:
        """None: go ahead (the key is now claimed in this transaction). Otherwise the earlier answer.

        A concurrent duplicate blocks on the primary key until the first transaction ends, then replays.
        """
        if key is None:
            return None
        principal = idempotency_principal(who)
        request_hash = idempotency_request_hash(request)
        inserted = await self._session.scalar(
            insert(IdempotencyRecord)
            .values(principal=principal, key=key, request_hash=request_hash)
            .on_conflict_do_nothing()
            .returning(col(IdempotencyRecord.key))
        )
        if inserted is not None:
            self._claimed = (principal, key)
            return None
        record = (
            await self._session.scalars(
                select(IdempotencyRecord).where(
                    col(IdempotencyRecord.principal) == principal,
                    col(IdempotencyRecord.key) == key,
                )
            )
        ).one()
        return idempotent_replay(record, request_hash)

    async def remember(self, *, status: int, body: BaseModel) -> None:
        if self._claimed is None:
            return
        record = await self._session.get(IdempotencyRecord, self._claimed)
        assert record is not None  # noqa: S101 - claimed in this transaction
        record.status, record.body = status, body.model_dump(mode="json")
