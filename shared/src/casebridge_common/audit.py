"""Append-only audit of every read and write of personal data, written in the request's transaction."""

from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import Column, DateTime, String, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from casebridge_common.auth import Principal


class AuditAction(StrEnum):
    VIEW = "view"
    LIST = "list"
    CREATE = "create"
    UPDATE = "update"


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entries"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )
    actor_subject: str
    actor_client_id: str
    actor_office_id: str | None
    actor_organisation_id: str | None
    action: str
    resource_type: str
    resource_id: str | None
    categories: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(String), nullable=False))
    purpose: str
    outcome: str = "allowed"


class AuditLog:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def record(
        self,
        actor: Principal,
        action: AuditAction,
        *,
        resource_type: str,
        resource_id: UUID | str | None,
        categories: list[str] | None = None,
        purpose: str = "case_management",
        outcome: str = "allowed",
    ) -> None:
        self._session.add(
            AuditEntry(
                actor_subject=actor.subject,
                actor_client_id=actor.client_id,
                actor_office_id=actor.office_id,
                actor_organisation_id=actor.organisation_id,
                action=action,
                resource_type=resource_type,
                resource_id=str(resource_id) if resource_id is not None else None,
                categories=categories or [],
                purpose=purpose,
                outcome=outcome,
            )
        )
