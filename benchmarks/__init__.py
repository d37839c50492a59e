"""Offline tools behind BENCHMARKS.md: simulations, bounds and scale checks (not shipped)."""
