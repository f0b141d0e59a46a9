"""Each service's `*audit0001` migration chains the entries written before it, in (at, id) order, makes the
table append-only, and downgrades cleanly; its `*auditsl01` migration lets entries wait unsealed and the sealer
seal them, and its downgrade seals what is still pending. Alembic runs in a subprocess: its env.py imports a
service's tables into SQLModel's global metadata, which this suite's own database must not get."""

import asyncio
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel import text

from casebridge_common.audit import seal_pending, verify_chain
from casebridge_common.db import session_factory
from casebridge_common.testing.plugin import REPO_ROOT, _admin, _async_url

SERVICES = REPO_ROOT / "services"
MIGRATION = """
import sys
from pathlib import Path
from alembic import command
from casebridge_common.migrations import alembic_config
getattr(command, sys.argv[1])(alembic_config(Path(sys.argv[2]), sys.argv[3]), sys.argv[4])
"""
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def migrate(direction: str, service: Path, url: str, revision: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", MIGRATION, direction, str(service), url, revision],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture
async def empty_database(postgres_admin_url: str) -> AsyncIterator[tuple[str, str]]:
    name = f"cbt_audit_migration_{uuid.uuid4().hex[:8]}"
    await _admin(postgres_admin_url, f'CREATE DATABASE "{name}"')
    yield _async_url(postgres_admin_url, name), f"{postgres_admin_url}/{name}"
    await _admin(postgres_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.parametrize(
    ("service", "before", "revision"),
    [
        pytest.param("case-service", "c4c0transfer1", "c4d0audit0001", id="case-service"),
        pytest.param("referral-service", "r4a0consent01", "r4d0audit0001", id="referral-service"),
        pytest.param("scoring-service", "s4a0consent01", "s4d0audit0001", id="scoring-service"),
        pytest.param("notification-service", "n4a0consent01", "n4d0audit0001", id="notification-service"),
    ],
)
async def test_the_migration_chains_existing_entries_and_makes_the_table_append_only(
    empty_database: tuple[str, str], service: str, before: str, revision: str
) -> None:
    url, plain_url = empty_database
    await asyncio.to_thread(migrate, "upgrade", SERVICES / service, url, before)
    ids = sorted(uuid.uuid4() for _ in range(3))
    old_rows = [(ids[2], T0), (ids[1], T1), (ids[0], T1)]  # chain order: ids[2] (earliest), then T1 by id
    conn = await asyncpg.connect(plain_url)
    try:
        await conn.executemany(
            "INSERT INTO audit_entries (id, at, actor_subject, actor_client_id, actor_office_id,"
            " actor_organisation_id, action, resource_type, resource_id, categories, purpose, outcome)"
            " VALUES ($1, $2, 'anna', 'de-berlin-system', 'de-berlin', 'iom-germany', 'view', 'case', NULL,"
            " ARRAY['contact'], 'case_management', 'allowed')",
            old_rows,
        )
    finally:
        await conn.close()

    await asyncio.to_thread(migrate, "upgrade", SERVICES / service, url, revision)

    engine = create_async_engine(url, poolclass=NullPool)
    try:
        result = await verify_chain(session_factory(engine))
        async with session_factory(engine)() as session:
            order = (await session.execute(text("SELECT id FROM audit_entries ORDER BY seq"))).scalars().all()
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(text("DELETE FROM audit_entries"))
    finally:
        await engine.dispose()
    assert (result.ok, result.entries_checked) == (True, 3)
    assert order == [ids[2], ids[0], ids[1]]

    await asyncio.to_thread(migrate, "downgrade", SERVICES / service, url, before)
    conn = await asyncpg.connect(plain_url)
    try:
        columns = await conn.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'audit_entries'"
        )
        await conn.execute("DELETE FROM audit_entries")  # the trigger went with the downgrade
    finally:
        await conn.close()
    assert {"seq", "prev_hash", "entry_hash", "reason", "basis", "case_id", "request_id"}.isdisjoint(
        {c["column_name"] for c in columns}
    )


INSERT_UNSEALED = (
    "INSERT INTO audit_entries (id, at, actor_subject, actor_client_id, action, resource_type, resource_id,"
    " categories, purpose, outcome) VALUES ($1, $2, 'anna', 'de-berlin-system', 'view', 'case', $3, '{}',"
    " 'case_management', 'allowed')"
)


@pytest.mark.parametrize(
    ("service", "before", "revision"),
    [
        pytest.param("case-service", "c5e0import001", "c6a0auditsl01", id="case-service"),
        pytest.param("referral-service", "r5a0fallback1", "r6a0auditsl01", id="referral-service"),
        pytest.param("scoring-service", "s5a0scoring01", "s6a0auditsl01", id="scoring-service"),
        pytest.param("notification-service", "n4d0audit0001", "n6a0auditsl01", id="notification-service"),
    ],
)
async def test_the_sealing_migration_lets_entries_wait_and_its_downgrade_seals_them(
    empty_database: tuple[str, str], service: str, before: str, revision: str
) -> None:
    url, plain_url = empty_database
    await asyncio.to_thread(migrate, "upgrade", SERVICES / service, url, revision)
    conn = await asyncpg.connect(plain_url)
    try:
        await conn.executemany(INSERT_UNSEALED, [(uuid.uuid4(), T0, "sealed-by-the-sealer")])
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await conn.execute("UPDATE audit_entries SET purpose = 'research'")
    finally:
        await conn.close()
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        assert await seal_pending(session_factory(engine)) == 1
    finally:
        await engine.dispose()
    conn = await asyncpg.connect(plain_url)
    try:
        await conn.executemany(INSERT_UNSEALED, [(uuid.uuid4(), T1, "sealed-by-the-downgrade")])
    finally:
        await conn.close()

    await asyncio.to_thread(migrate, "downgrade", SERVICES / service, url, before)
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        result = await verify_chain(session_factory(engine))
    finally:
        await engine.dispose()
    conn = await asyncpg.connect(plain_url)
    try:
        order = await conn.fetch("SELECT resource_id FROM audit_entries ORDER BY seq")
        nullable = await conn.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'audit_entries'"
            " AND column_name IN ('seq', 'prev_hash', 'entry_hash') AND is_nullable = 'YES'"
        )
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await conn.execute(
                "UPDATE audit_entries SET seq = 3, prev_hash = repeat('0', 64), entry_hash = repeat('e', 64)"
            )
    finally:
        await conn.close()
    assert (result.ok, result.entries_checked, result.sealed_before_check) == (True, 2, 0)
    assert [r["resource_id"] for r in order] == ["sealed-by-the-sealer", "sealed-by-the-downgrade"]
    assert nullable == []
