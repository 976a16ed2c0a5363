"""Benchmarks of the chain (make bench); not part of the tests."""
