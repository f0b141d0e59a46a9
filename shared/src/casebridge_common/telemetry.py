"""Structured JSON logs that carry trace ids, and OpenTelemetry set-up (exporter off unless enabled)."""

import logging
import sys

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased
from pythonjsonlogger.json import JsonFormatter

from casebridge_common.settings import ServiceSettings


class _TraceContextFilter(logging.Filter):
    """Adds the current span's trace and span ids to every record, so logs join traces."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = trace.get_current_span().get_span_context()
        record.trace_id = f"{context.trace_id:032x}" if context.is_valid else None
        record.span_id = f"{context.span_id:016x}" if context.is_valid else None
        return True


def configure_logging(service_name: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(trace_id)s %(span_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            static_fields={"service": service_name},
        )
    )
    handler.addFilter(_TraceContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "kafka"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def configure_tracing(settings: ServiceSettings) -> None:
    """A real tracer provider always (so trace ids exist and propagate), once per process: :func:`tracer_provider`."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(tracer_provider(settings))


def tracer_provider(settings: ServiceSettings) -> TracerProvider:
    """The service's tracer provider, with the OTLP exporter only when enabled.

    The exporter reads the standard OTEL_EXPORTER_OTLP_* variables, and its sampler OTEL_TRACES_SAMPLER. Without
    the exporter nothing would receive a recorded span: a span then records only when its caller's trace is
    sampled (so the flag travels on unchanged); the others still carry trace and span ids, into the logs and the
    events' traceparent, but skip building the attributes a recorded span keeps.
    """
    resource = Resource.create({"service.name": settings.service_name})
    if not settings.otel_enabled:
        return TracerProvider(resource=resource, sampler=ParentBased(root=ALWAYS_OFF))
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def current_traceparent() -> str | None:
    """The W3C traceparent of the active span, stored with each outbox row so a trace spans the relay hop.
    Formatted here as the W3C trace-context propagator writes it (version 00; tests/unit/test_telemetry.py)
    rather than through ``propagate.inject``, which runs every configured propagator for each event."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"


def current_trace_id() -> str | None:
    context = trace.get_current_span().get_span_context()
    return f"{context.trace_id:032x}" if context.is_valid else None
