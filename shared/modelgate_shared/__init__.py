"""modelgate_shared."""
