"""The traceparent stored with outbox rows is the one W3C trace-context propagation writes."""

from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from casebridge_common.telemetry import current_traceparent

tracer = TracerProvider().get_tracer(__name__)


def test_traceparent_is_the_w3c_propagators() -> None:
    for sampled in (True, False):
        flags = trace.TraceFlags(trace.TraceFlags.SAMPLED if sampled else trace.TraceFlags.DEFAULT)
        parent = trace.SpanContext(
            trace_id=0x4BF92F3577B34DA6A3CE929D0E0E4736, span_id=0xF067AA0BA902B7, is_remote=True, trace_flags=flags
        )
        with tracer.start_as_current_span("publish", context=trace.set_span_in_context(trace.NonRecordingSpan(parent))):
            carrier: dict[str, str] = {}
            TraceContextTextMapPropagator().inject(carrier)
            assert current_traceparent() == carrier["traceparent"]
            assert current_traceparent().split("-")[1] == "4bf92f3577b34da6a3ce929d0e0e4736"  # type: ignore[union-attr]


def test_no_traceparent_outside_a_span() -> None:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    assert "traceparent" not in carrier
    assert current_traceparent() is None
