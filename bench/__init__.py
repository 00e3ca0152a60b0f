"""Benchmarks: each prints throughput, latency percentiles and peak memory under a stated load."""
