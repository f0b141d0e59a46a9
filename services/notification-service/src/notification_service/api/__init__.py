"""HTTP entrypoints of notification-service."""
