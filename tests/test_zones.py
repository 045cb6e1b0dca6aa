"""bench.workload.zones: offsets, whole-hour judgement (B10) and seeded draws."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bench.judge import days
from bench.workload import zones

Y2026 = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))


def _category(zone: str) -> tuple[bool, bool, bool]:
    used = zones.offsets(zone, *Y2026)
    hour = timedelta(hours=1)
    return (
        any(o % hour for o in used),
        len(used) > 1,
        any(o >= timedelta(hours=13) or o <= timedelta(hours=-11) for o in used),
    )


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "Australia/Adelaide", "Australia/Lord_Howe", "Pacific/Chatham"])
def test_non_whole_hour_zones(zone):
    assert not days.whole_hour(zone, *Y2026)


@pytest.mark.parametrize("zone", ["UTC", "America/Los_Angeles", "Europe/Berlin"])
def test_whole_hour_zones(zone):
    assert days.whole_hour(zone, *Y2026)


def test_describe():
    assert zones.describe("Asia/Kolkata", *Y2026) == "+05:30"
    assert zones.describe("Australia/Lord_Howe", *Y2026) == "+10:30/+11:00"
    assert zones.describe("America/St_Johns", *Y2026) == "-03:30/-02:30"
    assert zones.describe("UTC", *Y2026) == "+00:00"


def test_offsets_sorted_distinct_and_range_bounded():
    assert zones.offsets("Europe/Berlin", *Y2026) == [timedelta(hours=1), timedelta(hours=2)]
    # Berlin springs forward at 01:00Z on 29 March 2026: a range just before it sees one offset, across it two.
    before = datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    assert zones.offsets("Europe/Berlin", before, before + timedelta(minutes=59)) == [timedelta(hours=1)]
    assert len(zones.offsets("Europe/Berlin", before, before + timedelta(minutes=61))) == 2
    assert zones.offsets("UTC", before, before) == []


def test_naive_datetimes_refused():
    with pytest.raises(ValueError, match="naive"):
        zones.offsets("UTC", datetime(2026, 1, 1), datetime(2026, 2, 1))



def test_is_zone():
    assert zones.is_zone("UTC") and zones.is_zone("Asia/Kolkata")
    assert not any(zones.is_zone(z) for z in ["Mars/Olympus", "localtime", "Local", "", "../etc/passwd"])


@pytest.mark.parametrize("seed", range(8))
def test_draw_covers_the_categories(seed):
    picked = zones.draw(5, seed)
    assert len(set(picked)) == 5
    assert all(zones.is_zone(z) for z in picked)
    categories = [_category(z) for z in picked]
    assert all(any(c[i] for c in categories) for i in range(3)), picked


def test_draw_small_n_takes_categories_in_order():
    (first,) = zones.draw(1, 7)
    assert _category(first)[0]  # a non-whole-hour zone comes first
    assert len(zones.draw(0, 7)) == 0


def test_draw_is_deterministic_and_seeded():
    assert zones.draw(6, 42) == zones.draw(6, 42)
    assert zones.draw(6, 42) != zones.draw(6, 43)


def test_draw_excludes():
    exclude = zones.draw(10, 1)
    assert not set(zones.draw(10, 1, exclude=exclude)) & set(exclude)


def test_the_checker_and_the_read_side_reckon_cutoffs_alike():
    """Two independent calendars (bench/judge/days.py and the read side's parameters) agree on every report's
    cutoff at instants around midnights and DST changes. (Whether a zone is whole-hour, the hardened read side
    decides in SQL: tests/test_read_sides.py holds that against the checker's judgement.)"""
    from rollup import reports

    names = sorted(zones._known())
    assert len(names) > 400
    instants = [datetime(2026, 3, 8, 9, 59, tzinfo=UTC), datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
                datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC), datetime(2026, 12, 31, 13, 30, tzinfo=UTC)]
    for zone in [*names[::7], "", "Local", "UTC", "Not/AZone"]:
        for now in instants:
            for report, n in (("workspace_daily", 30), ("runtime_daily", 1), ("workspace_by_agent", 7)):
                theirs = reports.plan_report(report, now, tz_param=zone, days=n).cutoff
                assert days.cutoff_us(report, zone, n, int(now.timestamp()) * 1_000_000) == \
                    int(theirs.timestamp()) * 1_000_000, (zone, now, report)
