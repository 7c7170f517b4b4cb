"""Benchmarks: the data generator (``python -m bench.generate``) and the suite (``make bench``)."""
