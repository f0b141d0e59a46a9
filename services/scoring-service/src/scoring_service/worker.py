"""`python -m scoring_service.worker`: outbox relay and event consumers of scoring-service."""

import asyncio

from casebridge_common.worker import run_worker
from scoring_service.consumers import CONSUMED_TOPICS, handlers
from scoring_service.settings import Settings
from scoring_service.unit_of_work import ScoringUnitOfWork


def main() -> None:
    settings = Settings()
    asyncio.run(
        run_worker(
            settings,
            new_uow=ScoringUnitOfWork,
            handlers=handlers(baseline_window_days=settings.baseline_window_days),
            consumed_topics=CONSUMED_TOPICS,
        )
    )


if __name__ == "__main__":
    main()
