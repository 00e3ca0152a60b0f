"""Check plugins, run in order on every submission."""
