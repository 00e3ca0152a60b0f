"""modelgate_audit."""
