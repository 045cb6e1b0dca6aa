"""Simulated time is integer microseconds since the Unix epoch everywhere (histories, the oracle, fault
schedules): the one definition of its units."""

from __future__ import annotations

US = 1_000_000  # a second
MINUTE = 60 * US
HOUR = 60 * MINUTE
QUARTER = 15 * MINUTE
DAY = 24 * HOUR
