"""Benchmarks: opt-in (`pytest benchmarks -n 0 --benchmark-enable`), never part of the default test run."""

from __future__ import annotations

import pytest

from rollup.servers import start_server


@pytest.fixture(scope="session")
def embedded():
    with start_server("embedded") as srv:
        yield srv
