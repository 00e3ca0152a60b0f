"""Helpers only the tests use (polling, fault proxies, fuzzing, traces, audit and gate checks);
what the benchmarks share with them is `modelgate_testkit` (testkit/)."""
