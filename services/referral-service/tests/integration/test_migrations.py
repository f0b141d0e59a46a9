import asyncio
from pathlib import Path

import asyncpg
from alembic import command

from casebridge_common.migrations import alembic_config
from casebridge_common.testing.plugin import assert_models_match_migrations


def test_models_match_the_migrations(service_dir: Path, test_db_url: str) -> None:
    assert_models_match_migrations(service_dir, test_db_url)


def test_the_pathways_required_consent_categories_move_to_the_policys_codes(
    service_dir: Path, fresh_database: str
) -> None:
    config = alembic_config(service_dir, fresh_database)
    command.downgrade(config, "r4d0audit0001")
    plain = fresh_database.replace("postgresql+asyncpg://", "postgresql://")

    async def run(sql: str) -> list[str]:
        conn = await asyncpg.connect(plain)
        try:
            rows = await conn.fetch(sql)
        finally:
            await conn.close()
        return [str(r[0]) for r in rows]

    asyncio.run(
        run(
            "INSERT INTO pathways (id, name, country, category, default_urgency, service_ids,"
            " required_consent_categories) VALUES ('old', 'Old', 'SN', 'psychiatric', 'emergency', '{}',"
            " '{referral_facts,contact,health}')"
        )
    )
    command.upgrade(config, "head")
    assert asyncio.run(run("SELECT required_consent_categories FROM pathways WHERE id = 'old'")) == [
        "['contact', 'psychosocial_notes']"
    ]
    assert asyncio.run(run("SELECT redirect_on_missed_acknowledgement FROM pathways WHERE id = 'old'")) == ["False"]
