"""Viewing zones: which offsets a zone uses, whether UTC hours can express its days, and seeded draws (B10)."""

from __future__ import annotations

import importlib.resources
import random
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import polars as pl

AN_HOUR = timedelta(hours=1)

# The year a draw's categories are judged on (the scenarios' default start is in it).
_DRAW_YEAR = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
# Offsets at or beyond these are the "date line" extremes (+13/+14, −11/−12).
_EAST, _WEST = timedelta(hours=13), timedelta(hours=-11)


def offsets(zone: str, start: datetime, end: datetime) -> list[timedelta]:
    """The distinct UTC offsets `zone` uses in [start, end), read at every hour and at the range's last second."""
    for moment in (start, end):
        if moment.tzinfo is None:
            raise ValueError(f"naive datetime {moment.isoformat()}: give a timezone-aware instant")
    begin, stop = start.astimezone(UTC), end.astimezone(UTC)
    if stop <= begin:
        return []
    hours = pl.datetime_range(begin, stop, "1h", closed="left", time_unit="us", time_zone="UTC", eager=True)
    instants = pl.concat([hours, pl.Series([stop - timedelta(seconds=1)], dtype=hours.dtype)])
    local = instants.dt.convert_time_zone(zone)
    used = (local.dt.base_utc_offset() + local.dt.dst_offset()).unique().sort()
    return used.to_list()


def _fmt(offset: timedelta) -> str:
    sign = "-" if offset < timedelta(0) else "+"
    minutes, seconds = divmod(int(abs(offset).total_seconds()), 60)
    text = f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    return f"{text}:{seconds:02d}" if seconds else text  # only local mean times have seconds


def describe(zone: str, start: datetime, end: datetime) -> str:
    """The offsets in the range, e.g. "+05:30" or "+09:30/+10:30"."""
    return "/".join(_fmt(o) for o in offsets(zone, start, end))


@cache
def _known() -> frozenset[str]:
    # Names ZoneInfo loads but that are not zones a tenant could name.
    return frozenset(
        z for z in available_timezones() if z not in ("localtime", "Factory") and not z.startswith(("posix/", "right/"))
    )


def is_zone(name: str) -> bool:
    """Whether `name` is an IANA zone name (UTC included) that this machine can load."""
    if name not in _known():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@cache
def _candidates() -> tuple[str, ...]:
    # The tzdata package's list, not the machine's, so a seed draws the same zones everywhere.
    try:
        names = importlib.resources.files("tzdata").joinpath("zones").read_text().split()
    except (ModuleNotFoundError, FileNotFoundError):
        names = list(available_timezones())
    # Area/Location names only: drops legacy all-caps aliases (EST5EDT, GB, UTC) and the Etc/GMT±n family.
    return tuple(sorted(n for n in names if "/" in n and not n.startswith(("Etc/", "posix/", "right/"))))


@cache
def _categories(zone: str) -> tuple[bool, bool, bool]:
    """(non-whole-hour, has DST, date-line extreme) over the reference year."""
    used = offsets(zone, *_DRAW_YEAR)
    return (
        any(o % AN_HOUR for o in used),
        len(used) > 1,
        any(o >= _EAST or o <= _WEST for o in used),
    )


def odd(n: int, seed: int, start: datetime, end: datetime) -> list[str]:
    """n distinct zones, chosen by seed, whose UTC offset is not a whole hour at any time in [start, end) (Lord
    Howe's +11 summer, say, is whole)."""
    pool = [z for z in _candidates() if _categories(z)[0] and all(o % AN_HOUR for o in offsets(z, start, end))]
    return random.Random(seed).sample(pool, n)


def draw(n: int, seed: int, exclude: Iterable[str] = ()) -> list[str]:
    """n distinct zones chosen by seed; the first picks cover non-whole-hour, DST and extreme offsets, in that order."""
    if n < 0:
        raise ValueError(f"cannot draw {n} zones")
    rng = random.Random(seed)
    skip = set(exclude)
    pool = [z for z in _candidates() if z not in skip]
    if n > len(pool):
        raise ValueError(f"cannot draw {n} zones from {len(pool)} candidates")
    picks: list[str] = []
    for category in range(3):
        if len(picks) == n or any(_categories(z)[category] for z in picks):
            continue  # an earlier pick (e.g. Pacific/Chatham) may already cover it
        fitting = [z for z in pool if _categories(z)[category] and z not in picks]
        if fitting:
            picks.append(rng.choice(fitting))
    rest = [z for z in pool if z not in picks]
    return picks + rng.sample(rest, n - len(picks))
