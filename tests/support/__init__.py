"""Test harness: where the real infrastructure comes from, and per-run isolation on it."""
