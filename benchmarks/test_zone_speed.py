"""The whole-hour judgement of a zone over a year: once per viewing zone per run, so it should stay cheap."""

from __future__ import annotations

from datetime import UTC, datetime

from bench.judge import days

YEAR = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))


def test_whole_hour_over_a_year(benchmark):
    days.whole_hour("Australia/Lord_Howe", *YEAR)  # warm the zone cache
    assert benchmark(days.whole_hour, "Australia/Lord_Howe", *YEAR) is False
