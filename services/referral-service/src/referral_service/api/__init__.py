"""HTTP entrypoints of referral-service."""
