"""`python -m referral_service.demo FILE`: load directory records (idempotent) from a JSON document."""

import asyncio
import sys
from pathlib import Path

from casebridge_common.db import create_engine, session_factory, utc_now
from referral_service.schemas import DirectoryImport
from referral_service.service_layer.directory import load_directory
from referral_service.settings import Settings
from referral_service.unit_of_work import ReferralUnitOfWork


async def _load(document: DirectoryImport) -> None:
    settings = Settings()
    engine = create_engine(settings.database_url.get_secret_value(), pool_size=1)
    async with ReferralUnitOfWork(session_factory(engine)) as uow:
        counts = await load_directory(uow, document, now=utc_now())
        await uow.commit()
    await engine.dispose()
    sys.stdout.write("directory loaded: " + ", ".join(f"{v} {k}" for k, v in counts.items()) + "\n")


if __name__ == "__main__":
    asyncio.run(_load(DirectoryImport.model_validate_json(Path(sys.argv[1]).read_text())))
