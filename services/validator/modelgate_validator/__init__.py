"""modelgate_validator."""
