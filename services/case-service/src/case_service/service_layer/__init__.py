"""Case-service use cases: one function each; they never commit (the entrypoint does)."""
