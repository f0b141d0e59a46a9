"""The traceparent stored with outbox rows is the one W3C trace-context propagation writes; what the service's
tracer provider records with and without the exporter."""

from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from casebridge_common.settings import ServiceSettings
from casebridge_common.telemetry import current_traceparent, tracer_provider

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


def _settings(*, otel_enabled: bool) -> ServiceSettings:
    return ServiceSettings(
        service_name="telemetry-test",
        database_url="postgresql+asyncpg://x/y",  # type: ignore[arg-type]
        oidc_issuer="http://127.0.0.1:9400",
        oidc_audience="case-api",
        otel_enabled=otel_enabled,
    )


def test_without_the_exporter_a_new_trace_has_ids_but_records_nothing() -> None:
    unexported = tracer_provider(_settings(otel_enabled=False)).get_tracer(__name__)
    with unexported.start_as_current_span("POST /v1/cases", attributes={"url.path": "/v1/cases"}) as span:
        context = span.get_span_context()
        assert context.is_valid  # logs and events still carry the trace
        assert not span.is_recording()
        assert not context.trace_flags.sampled
        carrier: dict[str, str] = {}
        TraceContextTextMapPropagator().inject(carrier)
        assert current_traceparent() == carrier["traceparent"]
        assert current_traceparent().startswith(f"00-{context.trace_id:032x}-{context.span_id:016x}-")  # type: ignore[union-attr]


def test_without_the_exporter_a_sampled_callers_trace_stays_sampled() -> None:
    unexported = tracer_provider(_settings(otel_enabled=False)).get_tracer(__name__)
    parent = trace.SpanContext(
        trace_id=0x4BF92F3577B34DA6A3CE929D0E0E4736,
        span_id=0xF067AA0BA902B7,
        is_remote=True,
        trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED),
    )
    with unexported.start_as_current_span("consume", context=trace.set_span_in_context(trace.NonRecordingSpan(parent))):
        published = current_traceparent()
    assert published is not None
    assert published.startswith("00-4bf92f3577b34da6a3ce929d0e0e4736-")
    assert int(published.split("-")[3], 16) & trace.TraceFlags.SAMPLED
    assert published.split("-")[2] != f"{parent.span_id:016x}"


def test_with_the_exporter_the_sampler_is_the_sdks_default() -> None:
    exported = tracer_provider(_settings(otel_enabled=True))
    try:
        with exported.get_tracer(__name__).start_as_current_span("POST /v1/cases") as span:
            assert span.is_recording()
    finally:
        exported.shutdown()
