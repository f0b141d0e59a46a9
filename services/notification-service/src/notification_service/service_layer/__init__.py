"""Notification use cases; they never commit."""
