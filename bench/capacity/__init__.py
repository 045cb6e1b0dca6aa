"""Capacity planning: tick latency, dirty-queue growth and sustainable load, measured as sweeps (issue 8)."""
