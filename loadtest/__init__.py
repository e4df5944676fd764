"""Benchmarks and load scenarios; their figures go into BENCHMARKS.md (never asserted by tests)."""
