"""Referral use cases; they never commit."""
