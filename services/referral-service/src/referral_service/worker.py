"""`python -m referral_service.worker`: the outbox relay of referral-service (it consumes no events yet)."""

import asyncio

from casebridge_common.worker import run_worker
from referral_service.settings import Settings
from referral_service.unit_of_work import ReferralUnitOfWork


def main() -> None:
    asyncio.run(run_worker(Settings(), new_uow=ReferralUnitOfWork, handlers={}, consumed_topics=[]))


if __name__ == "__main__":
    main()
