"""`python -m case_service.worker`: outbox relay, event consumers and the periodic jobs (consent expiry, ...)."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from case_service.consumers import CONSUMED_TOPICS, HANDLERS
from case_service.service_layer.consent import WithdrawalPolicy, escalate_overdue_receipts, expire_lapsed_consents
from case_service.service_layer.follow_ups import flag_overdue
from case_service.service_layer.imports import import_next_batch
from case_service.service_layer.monitoring import publish_pending_profiles
from case_service.service_layer.transfers import cancel_uncovered, remind_or_expire
from case_service.settings import Settings
from case_service.unit_of_work import CaseUnitOfWork
from casebridge_common.db import create_engine, session_factory, utc_now
from casebridge_common.worker import run_worker

log = logging.getLogger(__name__)

# A periodic job: one unit of work, committed by the loop; returns how many things it changed (for the log).
Job = Callable[[CaseUnitOfWork, Settings, datetime], Awaitable[int]]


async def expire_consents(uow: CaseUnitOfWork, settings: Settings, now: datetime) -> int:
    return await expire_lapsed_consents(uow, policy=WithdrawalPolicy.of(settings), now=now)


# due transfers a round reminds or expires; a larger backlog drains over the next rounds
TRANSFER_BATCH = 200


async def transfer_deadlines(uow: CaseUnitOfWork, settings: Settings, now: datetime) -> int:
    return await remind_or_expire(uow, now=now, limit=TRANSFER_BATCH)


async def transfer_consent_check(uow: CaseUnitOfWork, settings: Settings, now: datetime) -> int:
    return await cancel_uncovered(uow, now=now)


# overdue visits a round reports; a larger backlog drains over the next rounds
FOLLOW_UP_BATCH = 200


async def follow_up_overdue(uow: CaseUnitOfWork, settings: Settings, now: datetime) -> int:
    overdue_after = timedelta(days=settings.follow_up_overdue_after_days)
    return await flag_overdue(uow, now=now, overdue_after=overdue_after, limit=FOLLOW_UP_BATCH)


# overdue withdrawals a round escalates; a larger backlog drains over the next rounds
WITHDRAWAL_RECEIPT_BATCH = 200


async def withdrawal_receipts_overdue(uow: CaseUnitOfWork, settings: Settings, now: datetime) -> int:
    return await escalate_overdue_receipts(uow, now=now, limit=WITHDRAWAL_RECEIPT_BATCH)


# pending monitoring profiles a round publishes; a larger backlog drains over the next rounds
MONITORING_PUBLICATION_BATCH = 200


async def monitoring_publication(uow: CaseUnitOfWork, settings: Settings, now: datetime) -> int:
    return await publish_pending_profiles(uow, now=now, limit=MONITORING_PUBLICATION_BATCH)


# Every job of case-service, by name; each runs in its own transaction, every `jobs_every_s`.
JOBS: Mapping[str, Job] = {
    "consent-expiry": expire_consents,
    "transfer-deadlines": transfer_deadlines,
    "transfer-consent-check": transfer_consent_check,
    "follow-up-overdue": follow_up_overdue,
    "withdrawal-receipts-overdue": withdrawal_receipts_overdue,
    "monitoring-publication": monitoring_publication,
}


async def run_jobs_once(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, jobs: Mapping[str, Job] = JOBS
) -> dict[str, int]:
    """One round: each job commits on its own, so a failing job neither undoes nor blocks the others."""
    changed: dict[str, int] = {}
    kek = settings.key_encryption_key()  # as for the API and the consumers: a job may seal or open data
    for name, job in jobs.items():
        try:
            async with CaseUnitOfWork(sessions, kek=kek) as uow:
                changed[name] = await job(uow, settings, utc_now())
                await uow.commit()
        except Exception:  # the database may be briefly away; the next round retries
            log.exception("job failed", extra={"job": name})
    return changed


async def run_jobs(settings: Settings, jobs: Mapping[str, Job] = JOBS) -> None:
    engine = create_engine(settings.database_url.get_secret_value(), pool_size=1)
    sessions = session_factory(engine)
    try:
        while True:
            if changed := {name: n for name, n in (await run_jobs_once(sessions, settings, jobs)).items() if n}:
                log.info("jobs done", extra={"changed": changed})
            await asyncio.sleep(settings.jobs_every_s)
    finally:
        await engine.dispose()


async def caseload_imports(uow: CaseUnitOfWork, settings: Settings, now: datetime) -> int:
    return await import_next_batch(uow, now=now, limit=settings.import_batch_rows)


IMPORT_JOBS: Mapping[str, Job] = {"caseload-imports": caseload_imports}


async def run_imports(settings: Settings) -> None:
    """Bulk imports, one committed batch at a time and back to back while rows wait; the state is in
    PostgreSQL, so a restarted worker resumes with the next pending rows."""
    engine = create_engine(settings.database_url.get_secret_value(), pool_size=1)
    sessions = session_factory(engine)
    try:
        while True:
            if not (await run_jobs_once(sessions, settings, IMPORT_JOBS)).get("caseload-imports"):
                await asyncio.sleep(settings.import_poll_s)
    finally:
        await engine.dispose()


async def _run(settings: Settings) -> None:
    # run_worker owns the signals; the job loops are cancelled when it returns.
    jobs = asyncio.create_task(run_jobs(settings), name="jobs")
    bulk = asyncio.create_task(run_imports(settings), name="imports")
    try:
        await run_worker(
            settings,
            new_uow=partial(CaseUnitOfWork, kek=settings.key_encryption_key()),
            handlers=HANDLERS,
            consumed_topics=CONSUMED_TOPICS,
        )
    finally:
        for task in (jobs, bulk):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def main() -> None:
    asyncio.run(_run(Settings()))


if __name__ == "__main__":
    main()
