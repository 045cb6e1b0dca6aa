"""The house's layout: role packages whose imports flow one way, no import cycle, short modules, and docs whose
links resolve. Read from the source (ast), so a lazy import inside a function counts like any other."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Each layer may import those after it, never one before it (bench.capacity and bench.judge both stand on drive).
LAYERS = ["bench.cli", "bench.orchestrate", "bench.capacity", "bench.judge", "bench.drive", "bench.workload", "rollup"]
LONG = 500  # lines; a module past it says why in its docstring, with this phrase
REASON = "Over 500 lines:"


def modules() -> dict[str, Path]:
    found = {}
    for package in ("bench", "rollup"):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(path: Path, known: set[str]) -> set[str]:
    """The project's modules `path` imports, wherever in the file (a `from pkg import name` of a submodule counts
    as that submodule)."""
    return imports_of(ast.parse(path.read_text()), known)


def imports_of(tree: ast.AST, known: set[str]) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in known}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module in known:
            subs = {f"{node.module}.{a.name}" for a in node.names} & known
            found |= subs or {node.module}
            if len(subs) < len(node.names):  # names from the module itself, too
                found.add(node.module)
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {m: imports(p, set(mods)) - {m} for m, p in mods.items()}


def layer(module: str) -> int:
    return next(i for i, prefix in enumerate(LAYERS) if module == prefix or module.startswith(prefix + "."))


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), each as a sorted list."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle_in_the_project():
    assert cycles(graph()) == []


def test_the_cycle_finder_fires():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def upward(edges: dict[str, set[str]]) -> list[str]:
    return sorted(f"{m} imports {d}" for m, deps in edges.items() for d in deps
                  if m not in ("bench", "rollup") and d not in ("bench", "rollup") and layer(d) < layer(m))


def test_imports_flow_one_way():
    """cli → orchestrate → capacity → judge → drive → workload → rollup: never upward (and rollup never imports bench)."""
    assert upward(graph()) == []


def test_the_flow_check_fires():
    edges = {"bench.drive.runner": {"bench.judge.checker"}, "rollup.reports": {"bench.workload.columns"},
             "bench.judge.checker": {"bench.drive.snapshots"}}
    assert upward(edges) == ["bench.drive.runner imports bench.judge.checker",
                             "rollup.reports imports bench.workload.columns"]


QUERY_FILE_MODULES = {"rollup.queries", "rollup.readside"}


def query_file_use(source: str, known: set[str]) -> list[str]:
    """Where a module's code touches the read side's query files: an import of the parser or the read side, a
    string naming a .sql file (docstrings aside)."""
    tree = ast.parse(source)
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef)) and n.body
            and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    found = [f"imports {m}" for m in sorted(imports_of(tree, known) & QUERY_FILE_MODULES)]
    return found + [f"line {n.lineno}: {n.value!r}" for n in ast.walk(tree) if isinstance(n, ast.Constant)
                    and isinstance(n.value, str) and ".sql" in n.value and id(n) not in docs]


def test_the_judge_never_reads_query_files():
    """The checker's calendar stays its own (bench/judge/days.py): no module of the judge reads the read side's SQL."""
    known = set(modules()) | QUERY_FILE_MODULES
    used = {m: query_file_use(p.read_text(), known) for m, p in modules().items()
            if m.startswith("bench.judge")}
    assert len(used) >= 5 and {m: u for m, u in used.items() if u} == {}


def test_the_query_file_check_fires():
    module = 'from rollup.readside import load\nfrom rollup import queries\nPATH = "usage.sql"\n'
    assert query_file_use(module, {"rollup", *QUERY_FILE_MODULES}) == [
        "imports rollup.queries", "imports rollup.readside", "line 3: 'usage.sql'"]
    assert query_file_use('"""About usage.sql."""\n', QUERY_FILE_MODULES) == []


def test_every_module_sits_in_a_role_package():
    loose = [m for m in modules() if m.count(".") == 1 and m.startswith("bench.")
             and m.split(".")[1] not in {p.split(".")[1] for p in LAYERS if p.startswith("bench.")}]
    assert loose == []


def test_long_modules_say_why():
    long = [str(p.relative_to(ROOT)) for p in modules().values()
            if len(p.read_text().splitlines()) > LONG and REASON not in (ast.get_docstring(ast.parse(p.read_text())) or "")]
    assert long == []


LINK = re.compile(r"\]\(([^)\s]+)\)")


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


@pytest.mark.parametrize("doc", documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_resolves(doc):
    broken = []
    for target in LINK.findall(doc.read_text()):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue  # a URL or an anchor in the same page
        if not (doc.parent / target.split("#")[0]).exists():
            broken.append(target)
    assert broken == []


def test_readme_is_a_front_door():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 160
