"""modelgate_ingest."""
