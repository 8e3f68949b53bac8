"""Benchmark scripts (see BENCHMARKS.md); a package so they can import one another."""
