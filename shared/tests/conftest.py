"""The shared library has no migrations of its own: its template database gets the mechanism tables directly."""

import asyncio
import uuid
from collections.abc import Iterator

import pytest
from mechanism_probes import Effect  # noqa: F401 - the consumer tests' effect table
from sqlalchemy.ext.asyncio import create_async_engine

import casebridge_common.audit
import casebridge_common.http
import casebridge_common.inbox
import casebridge_common.outbox  # noqa: F401 - their tables
from casebridge_common.db import metadata
from casebridge_common.testing.plugin import _admin, _async_url


@pytest.fixture(scope="session")
def template_database(postgres_admin_url: str) -> Iterator[str]:
    name = f"cbt_shared_{uuid.uuid4().hex[:8]}_tpl"

    async def create() -> None:
        await _admin(postgres_admin_url, f'CREATE DATABASE "{name}"')
        engine = create_async_engine(_async_url(postgres_admin_url, name))
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        await engine.dispose()

    asyncio.run(create())
    yield name
    asyncio.run(_admin(postgres_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
