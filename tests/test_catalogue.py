"""The catalogue of known divergences: its registry (bench/judge/catalogue.py), the page that says what each one
is (docs/catalogue.md), the reproductions, and the ids attribution and the baseline use — one set, in step. And
no document of the project points outside it."""

from __future__ import annotations

import re
from pathlib import Path

from bench.judge import attribution, baseline
from bench.judge.catalogue import ATTRIBUTION, BY_ID, CATALOGUE, DEFINITION, EVERY
from bench.orchestrate.execute import find_repro
from bench.workload.scenario import load

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "catalogue.md"


def sections(text: str) -> dict[str, str]:
    parts = re.split(r"^## (\S+)\n", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def test_the_page_says_each_id_as_the_registry_declares_it():
    page = sections(PAGE.read_text())
    assert list(page) == list(EVERY)
    for d in CATALOGUE:
        body = page[d.id]
        assert body.strip().splitlines()[0] == f"**{d.title}**", d.id
        assert f"- reachable: {d.reachable}\n" in body, d.id
        assert re.search(rf"^- rule: {d.rule}\b", body, re.M), d.id
        assert f"- reproduction: `{d.repro}`" in body, d.id


def test_each_reproduction_is_the_registrys_and_repro_finds_it():
    for d in CATALOGUE:
        sc = load(ROOT / d.repro)
        assert (sc.repro.id, sc.repro.summary, sc.repro.reachable) == (d.id, d.title, d.reachable)
        assert find_repro(d.id.lower()) == ROOT / d.repro
    assert sorted(p.stem for p in (ROOT / "scenarios" / "repro").glob("*.toml")) == sorted(EVERY)


def test_attribution_and_the_baseline_use_the_registrys_ids():
    assert attribution.IDS == tuple(d.id for d in CATALOGUE if d.rule == ATTRIBUTION)
    assert baseline.EVERY == EVERY and {d.rule for d in CATALOGUE} == {ATTRIBUTION, DEFINITION}
    assert {x for x in EVERY if BY_ID[x].rule == DEFINITION} == {"B8", "B10", "B11"}  # baseline.pieces says them


def test_no_document_links_outside_the_repository():
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    outside = [f"{p.relative_to(ROOT)}: {m}" for p in docs for m in re.findall(r"\.\./shared/\S*", p.read_text())]
    assert not outside
