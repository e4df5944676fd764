"""Load generators and benchmarks (run as programs, never from pytest); figures go to BENCHMARKS.md."""
