"""The opening's statement tells whether the beneficiary is a minor (repositories/openings.MINOR) exactly as the
domain does (domain.models.is_minor), 29 February birthdays and the day of the 18th birthday included."""

from datetime import date, timedelta

import asyncpg

from case_service.domain.models import is_minor
from case_service.repositories.openings import MINOR


async def test_the_statement_and_the_domain_agree_on_who_is_a_minor(test_db_url: str) -> None:
    born = [date(2008, 2, 29), date(2008, 2, 28), date(2008, 3, 1), date(2007, 12, 31), date(2009, 1, 1)]
    edges = {date(2026, 2, 28), date(2026, 3, 1), date(2028, 2, 28), date(2028, 2, 29), date(2028, 3, 1)}
    days = sorted(edges | {date(2026, 1, 1) + timedelta(days=n) for n in range(0, 800, 3)})
    conn = await asyncpg.connect(test_db_url.replace("postgresql+asyncpg:", "postgresql:"))
    try:
        # $2 is the statement's office, unused here; $3 the day the case opens
        query = f"SELECT born_on, {MINOR} AS minor FROM unnest($1::date[]) AS born_on WHERE $2::text IS NULL"  # noqa: S608
        told = {(day, row["born_on"]): row["minor"] for day in days for row in await conn.fetch(query, born, None, day)}
    finally:
        await conn.close()
    assert len(told) == len(born) * len(days)
    assert told == {(day, b): is_minor(b, day) for day in days for b in born}
    assert told[(date(2026, 2, 28), date(2008, 2, 29))] is True  # 18 only on 1 March
    assert told[(date(2026, 3, 1), date(2008, 2, 29))] is False
