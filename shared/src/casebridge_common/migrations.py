"""Alembic's env.py body, shared by every service: async engine, our tables plus the shared mechanism tables.

The database URL comes from ``config.attributes["database_url"]`` (tests, the launcher) or ``DATABASE_URL``.
"""

import asyncio
import os
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import casebridge_common.audit
import casebridge_common.http
import casebridge_common.inbox
import casebridge_common.outbox  # noqa: F401 - imported for their tables
from casebridge_common.db import metadata


def _url() -> str:
    url = context.config.attributes.get("database_url") or os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("set DATABASE_URL (postgresql+asyncpg://…) to run migrations")
    return str(url)


def _run(connection: Connection) -> None:
    # one transaction per migration: a migration that must run outside one (`CREATE INDEX CONCURRENTLY` in an
    # `autocommit_block`) then commits only the migrations before it, each whole, never half of another
    context.configure(
        connection=connection, target_metadata=metadata, compare_type=True, transaction_per_migration=True
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_async_engine(_url())
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


def run_env() -> None:
    """Call from a service's migrations/env.py after importing that service's table modules."""
    if context.is_offline_mode():
        context.configure(url=_url(), target_metadata=metadata, literal_binds=True, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(_run_online())


def alembic_config(service_dir: Path, database_url: str) -> Config:
    config = Config(str(service_dir / "alembic.ini"))
    config.set_main_option("script_location", str(service_dir / "migrations"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(service_dir: Path, database_url: str) -> None:
    command.upgrade(alembic_config(service_dir, database_url), "head")
