"""PostgreSQL plumbing: connection pools and start-up migrations."""
