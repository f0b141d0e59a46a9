"""`python -m referral_service.worker`: outbox relay, the case, beneficiary and consent consumers, and the referral
deadline timer."""

import asyncio
import contextlib
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casebridge_common.db import create_engine, session_factory, utc_now
from casebridge_common.worker import run_worker
from referral_service.api.dependencies import deadline_policy
from referral_service.consumers import CONSUMED_TOPICS, HANDLERS
from referral_service.service_layer.referrals import DeadlinePolicy, review_deadlines
from referral_service.settings import Settings
from referral_service.unit_of_work import ReferralUnitOfWork

log = logging.getLogger(__name__)


async def watch_deadlines(
    sessions: async_sessionmaker[AsyncSession], policy: DeadlinePolicy, *, every_s: float
) -> None:
    """The job owns its transactions: one per batch, so a crash loses nothing and repeats nothing."""
    while True:
        try:
            while True:
                async with ReferralUnitOfWork(sessions) as uow:
                    emitted = await review_deadlines(uow, policy=policy, now=utc_now())
                    await uow.commit()
                if emitted == 0:
                    break
                log.info("referral deadlines reviewed", extra={"events": emitted})
        except Exception:  # the database may be away; the next round retries
            log.exception("deadline review failed")
        await asyncio.sleep(every_s)


async def _run(settings: Settings) -> None:
    engine = create_engine(settings.database_url.get_secret_value(), pool_size=2)
    timer = asyncio.create_task(
        watch_deadlines(session_factory(engine), deadline_policy(settings), every_s=settings.deadline_scan_interval_s)
    )
    try:
        await run_worker(settings, new_uow=ReferralUnitOfWork, handlers=HANDLERS, consumed_topics=CONSUMED_TOPICS)
    finally:
        timer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await timer
        await engine.dispose()


def main() -> None:
    asyncio.run(_run(Settings()))


if __name__ == "__main__":
    main()
