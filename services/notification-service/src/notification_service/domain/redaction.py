"""What is left of a stored copy once the consent behind it is withdrawn, or its beneficiary erased.

A copy keeps what the store needs to stay consistent (ids, kind, status, times) and loses its content: an inbox
item its title, a mail or text its body, a webhook delivery the event's `data`.
"""

from collections.abc import Mapping

WITHDRAWN_TEXT = "Details withheld: the beneficiary's consent changed. Open the case for what you may see now."
ERASED_TEXT = "Removed: the beneficiary's data were erased."
# The CloudEvents attributes of a stored delivery that say nothing about the person.
ENVELOPE_ATTRIBUTES = ("specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema")


def redacted_envelope(event: Mapping[str, object]) -> dict[str, object]:
    return {k: event[k] for k in ENVELOPE_ATTRIBUTES if k in event} | {"data": {"redacted": True}}
