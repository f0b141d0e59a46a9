"""The country indexes migration (c7b0country01) builds CONCURRENTLY, and migrating again after a build that failed
replaces the invalid index it left."""

import asyncio
from pathlib import Path

import asyncpg
from alembic import command

from casebridge_common.migrations import alembic_config

INDEX = "ix_beneficiaries_country_of_origin"


async def _sql(url: str, statement: str, *args: object) -> object:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg:", "postgresql:"))
    try:
        return await conn.fetchval(statement, *args)
    finally:
        await conn.close()


def _valid(url: str) -> object:
    return asyncio.run(_sql(url, "SELECT indisvalid FROM pg_index WHERE indexrelid = $1::regclass", INDEX))


def test_migrating_again_rebuilds_an_index_a_failed_build_left_invalid(service_dir: Path, fresh_database: str) -> None:
    config = alembic_config(service_dir, fresh_database)
    assert _valid(fresh_database) is True
    # what a CREATE INDEX CONCURRENTLY that failed midway leaves, with the migration not recorded as done
    asyncio.run(_sql(fresh_database, "UPDATE pg_index SET indisvalid = false WHERE indexrelid = $1::regclass", INDEX))
    command.stamp(config, "c7a0profrev01")
    command.upgrade(config, "c7b0country01")  # this migration alone: the later ones are applied already
    assert _valid(fresh_database) is True
    assert asyncio.run(_sql(fresh_database, "SELECT version_num FROM alembic_version")) == "c7b0country01"


def test_downgrade_drops_the_indexes_and_upgrade_builds_them_again(service_dir: Path, fresh_database: str) -> None:
    config = alembic_config(service_dir, fresh_database)
    command.downgrade(config, "c7a0profrev01")
    assert asyncio.run(_sql(fresh_database, "SELECT to_regclass($1) IS NULL", INDEX)) is True
    command.upgrade(config, "head")
    assert _valid(fresh_database) is True
