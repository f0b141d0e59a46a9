"""Scoring use cases; they never commit."""
