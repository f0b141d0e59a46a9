"""HTTP entrypoints of scoring-service."""
