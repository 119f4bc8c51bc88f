"""Benchmarks of Ship Captain Crew: `python -m bench` (or `make bench`).

Every figure is a ratio of two things measured side by side in one run, or a
count; nothing here compares against a stored wall-clock number. A run prints a
table and writes build/bench/results.json (`make bench-record` keeps a copy in
bench/results.json); docs/performance.md explains how to read it.
"""
