"""modelgate_stack."""
