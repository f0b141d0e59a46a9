"""CaseBridge's shared mechanisms (auth, problems, outbox, inbox, Kafka) and published event contracts."""
