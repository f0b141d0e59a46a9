"""Which events notification-service consumes, and so which ones partners may subscribe to.

Generic over CloudEvent types: a producer's new contract becomes subscribable once its topic is listed here
(and notification-service is added to that topic's consumers in deploy/kafka/topics.yaml).
"""

from casebridge_common.events.contracts import ALL_EVENTS
from casebridge_common.events.envelope import Event

CONSUMED_TOPICS: tuple[str, ...] = ("casebridge.case.events.v1", "casebridge.survey.events.v1")
SUBSCRIBABLE: dict[str, type[Event]] = {e.type: e for e in ALL_EVENTS if e.topic in CONSUMED_TOPICS}
