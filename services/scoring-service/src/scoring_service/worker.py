"""`python -m scoring_service.worker`: outbox relay, event consumers, instrument loading and overdue detection."""

import asyncio
import contextlib
import logging

from casebridge_common.db import create_engine, session_factory, utc_now
from casebridge_common.worker import run_worker
from scoring_service.bootstrap import load_shipped_instruments
from scoring_service.consumers import CONSUMED_TOPICS, handlers
from scoring_service.service_layer.surveys import mark_overdue
from scoring_service.settings import Settings
from scoring_service.unit_of_work import ScoringUnitOfWork

log = logging.getLogger(__name__)


async def detect_overdue(uow_factory: type[ScoringUnitOfWork], settings: Settings) -> None:
    """Every `overdue_check_s`, turn due schedules past their date into overdue ones (`survey.overdue`)."""
    engine = create_engine(settings.database_url.get_secret_value(), pool_size=1)
    sessions = session_factory(engine)
    try:
        loaded = await load_shipped_instruments(sessions)
        log.info("instruments loaded", extra={"loaded": loaded})
        while True:
            try:
                async with uow_factory(sessions) as uow:
                    now = utc_now()
                    marked = await mark_overdue(uow, today=now.date(), now=now)
                    await uow.commit()
                if marked:
                    log.info("surveys overdue", extra={"marked": marked})
            except Exception:  # the database may be briefly away; the next round retries
                log.exception("overdue detection failed")
            await asyncio.sleep(settings.overdue_check_s)
    finally:
        await engine.dispose()


async def _run(settings: Settings) -> None:
    # run_worker owns the signals; the overdue loop is cancelled when it returns.
    overdue = asyncio.create_task(detect_overdue(ScoringUnitOfWork, settings), name="overdue")
    try:
        await run_worker(
            settings,
            new_uow=ScoringUnitOfWork,
            handlers=handlers(baseline_window_days=settings.baseline_window_days),
            consumed_topics=CONSUMED_TOPICS,
        )
    finally:
        overdue.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await overdue


def main() -> None:
    asyncio.run(_run(Settings()))


if __name__ == "__main__":
    main()
