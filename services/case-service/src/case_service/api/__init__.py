"""HTTP entrypoints of case-service: parsing, auth, the unit of work and its commit."""
