"""The engine's pool on real PostgreSQL: a connection the server closed is replaced at checkout, without the
round trips of a pre-ping."""

import asyncio

import asyncpg
from sqlalchemy import text

from casebridge_common.db import create_engine


async def test_a_connection_the_server_closed_is_replaced_before_use(test_db_url: str) -> None:
    engine = create_engine(test_db_url, pool_size=1)
    killer = await asyncpg.connect(test_db_url.replace("postgresql+asyncpg:", "postgresql:"))
    try:
        async with engine.connect() as conn:
            first = await conn.scalar(text("SELECT pg_backend_pid()"))
        assert await killer.fetchval("SELECT pg_terminate_backend($1)", first) is True  # as a restart would
        await asyncio.sleep(0.2)  # the event loop sees the socket end, as it does while a connection sits idle
        async with engine.connect() as conn:
            second = await conn.scalar(text("SELECT pg_backend_pid()"))
        assert second != first
    finally:
        await killer.close()
        await engine.dispose()


async def test_a_checkout_sends_nothing_to_the_server(test_db_url: str) -> None:
    engine = create_engine(test_db_url, pool_size=1)
    statements: list[str] = []
    try:
        async with engine.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            raw.add_query_logger(lambda record: statements.append(record.query))
        statements.clear()
        async with engine.connect() as conn:  # the same pooled connection, checked out again
            await conn.scalar(text("SELECT 2"))
    finally:
        await engine.dispose()
    # the statement's own transaction only (asyncpg logs its simple queries); a pre-ping adds a BEGIN and ROLLBACK
    assert statements == ["BEGIN;", "ROLLBACK;"]
