"""modelgate_registry."""
