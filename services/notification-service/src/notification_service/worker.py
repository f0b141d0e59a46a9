"""`python -m notification_service.worker`: outbox relay and event consumers of notification-service."""

import asyncio

from casebridge_common.worker import run_worker
from notification_service.consumers import CONSUMED_TOPICS, HANDLERS
from notification_service.settings import Settings
from notification_service.unit_of_work import NotificationUnitOfWork


def main() -> None:
    settings = Settings()
    asyncio.run(
        run_worker(settings, new_uow=NotificationUnitOfWork, handlers=HANDLERS, consumed_topics=CONSUMED_TOPICS)
    )


if __name__ == "__main__":
    main()
