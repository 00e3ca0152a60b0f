"""SQL access to the registry's tables, one module per table family."""
