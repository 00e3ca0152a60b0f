"""The test kit `tests/` and `bench/` share: where the real infrastructure comes from, per-run
isolation on it, the services as processes, submissions and tiny models to send through them.

Test-only helpers (polling, fault proxies, fuzzing, traces) stay in `tests/support`.
"""
