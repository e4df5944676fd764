"""Benchmarks and load scenarios (run as their own processes, never imported by the app or pytest)."""
