"""Event payloads, one module per aggregate family. Changes are additive; a breaking change is a new ``.vN`` type.

Every :class:`Event` subclass defined in a module of this package is published: :data:`ALL_EVENTS` finds them,
and ``deploy/asyncapi.yaml`` is generated from them.
"""

import importlib
import pkgutil

from casebridge_common.events.envelope import Event


def _discover() -> tuple[type[Event], ...]:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    found: list[type[Event]] = []
    pending = list(Event.__subclasses__())
    while pending:
        event = pending.pop(0)
        pending.extend(event.__subclasses__())
        if event.__module__.startswith(__name__ + ".") and "type" in vars(event):
            found.append(event)
    return tuple(sorted(found, key=lambda e: e.type))


ALL_EVENTS: tuple[type[Event], ...] = _discover()
