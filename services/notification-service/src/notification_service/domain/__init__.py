"""Notification domain: inbox items and the rules that create them. No I/O."""
