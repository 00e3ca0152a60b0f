"""Kafka plumbing: broker, publishing, batch consumption with dead letters."""
