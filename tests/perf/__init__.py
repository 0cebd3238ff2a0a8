"""Benchmarks: run by `make bench`, never by `make test`. They print figures; they do not fail."""
