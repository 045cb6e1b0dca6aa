"""A mutant's database: cloned from the shared template of the chain's unchanged prefix with the mutated file and
those after it applied (what `rollup-bench mutate` does), against migrating the whole mutated chain. The mutant
edits 110, so 000–109 are shared and 110–114 applied."""

from __future__ import annotations

import itertools
import shutil

import pytest

from rollup.migrations import Target, Templates
from tests.conftest import TEMPLATE_AT

WINDOW = "110_window_xid_discovery_single_drain.up.sql"
BASE = Target.resolve("hardened")
count = itertools.count()


def mutated_text() -> str:
    path = next(m.up for m in BASE.migrations() if m.up.name == WINDOW)
    return path.read_text().replace("IF p_from >= p_to THEN", "IF p_from > p_to THEN", 1)


def overlay_target(tmp_path) -> Target:
    d = tmp_path / f"overlay{next(count)}"
    d.mkdir()
    (d / WINDOW).write_text(mutated_text())
    return Target.resolve(",".join(map(str, BASE.dirs)) + f",{d}", "hardened")


def whole_target(tmp_path) -> Target:
    d = tmp_path / f"whole{next(count)}"
    d.mkdir()
    for m in BASE.migrations():
        shutil.copy(m.up, d / m.up.name)
    (d / WINDOW).write_text(mutated_text())
    return Target.resolve(str(d), "hardened")


@pytest.mark.parametrize("how", ["prefix", "whole"])
def test_mutant_database(benchmark, embedded, tmp_path, how):
    templates = Templates(embedded, overlays=1)
    try:
        if how == "prefix":
            templates.fresh(overlay_target(tmp_path), TEMPLATE_AT).drop()  # the shared prefix, made once

        def make():
            target = overlay_target(tmp_path) if how == "prefix" else whole_target(tmp_path)
            templates.fresh(target, TEMPLATE_AT).drop()

        benchmark.pedantic(make, rounds=5, iterations=1)
    finally:
        templates.drop()
