"""The consumer's retry policy: transient failures are retried a bounded number of times, others not at all."""

import pytest
from sqlalchemy.exc import OperationalError

from casebridge_common.events.envelope import CloudEvent
from casebridge_common.kafka import RetriesExhausted, handle_with_retries

EVENT = CloudEvent(source="/casebridge/test", type="casebridge.test.happened.v1", subject="s", data={})


class Flaky:
    def __init__(self, failures: int, error: Exception) -> None:
        self.failures, self.error, self.calls = failures, error, 0

    async def __call__(self, event: CloudEvent, uow: object) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error


def transient() -> OperationalError:
    return OperationalError("SELECT 1", {}, Exception("server closed the connection"))


async def test_a_transient_failure_is_retried_until_it_succeeds() -> None:
    handler = Flaky(failures=2, error=transient())
    await handle_with_retries(handler, EVENT, object, attempts=5, base_delay_s=0.001)
    assert handler.calls == 3


async def test_a_lasting_transient_failure_gives_up_after_the_budget_with_the_cause() -> None:
    handler = Flaky(failures=99, error=transient())
    with pytest.raises(RetriesExhausted) as exhausted:
        await handle_with_retries(handler, EVENT, object, attempts=3, base_delay_s=0.001)
    assert (exhausted.value.attempts, handler.calls) == (3, 3)
    assert isinstance(exhausted.value.__cause__, OperationalError)


async def test_a_domain_error_is_not_retried() -> None:
    handler = Flaky(failures=99, error=KeyError("unknown case"))
    with pytest.raises(KeyError):
        await handle_with_retries(handler, EVENT, object, attempts=5, base_delay_s=0.001)
    assert handler.calls == 1
