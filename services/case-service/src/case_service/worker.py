"""`python -m case_service.worker`: the outbox relay of case-service (it consumes no events yet)."""

import asyncio

from case_service.settings import Settings
from case_service.unit_of_work import CaseUnitOfWork
from casebridge_common.worker import run_worker


def main() -> None:
    asyncio.run(run_worker(Settings(), new_uow=CaseUnitOfWork, handlers={}, consumed_topics=[]))


if __name__ == "__main__":
    main()
