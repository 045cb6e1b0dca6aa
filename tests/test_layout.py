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


MOST_PARAMETERS = 7  # beyond it, a function takes a parameter object (a dataclass) instead


def parameters(source: str) -> list[str]:
    """Functions (and methods) taking more than MOST_PARAMETERS parameters — positional and keyword, `self`
    and `cls` aside — other than typer commands (their options are the command line's, one parameter each)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if any("command" in ast.unparse(d) or "callback" in ast.unparse(d) for d in node.decorator_list):
            continue
        a = node.args
        names = [x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs) if x.arg not in ("self", "cls")]
        if len(names) > MOST_PARAMETERS:
            found.append(f"{node.name} (line {node.lineno}): {len(names)}")
    return found


def test_no_function_takes_more_than_seven_parameters():
    long = {m: found for m, p in modules().items() if (found := parameters(p.read_text()))}
    assert long == {}


def test_the_parameter_count_fires():
    source = ("def eight(a, b, c, d, e, f, g, *, h): pass\n"
              "class C:\n    def m(self, a, b, c, d, e, f, g): pass\n"
              "@app.command()\ndef cmd(a, b, c, d, e, f, g, h, i): pass\n")
    assert parameters(source) == ["eight (line 1): 8"]


# What bench/cli may import besides bench.cli and bench.orchestrate: of `rollup` (the target's own layer), the
# names an option's help lists (BACKENDS, AUTO), the formatting of simulated instants (from_us), and for the pytest
# plugin the target's objects its fixtures hand a team's tests (templates, targets, read sides' names, pipelines).
# Every role (workload, drive, judge, capacity) is reached through bench.orchestrate only.
CLI_MAY_IMPORT = {"rollup.servers": {"BACKENDS"}, "rollup.extensions": {"AUTO"}, "rollup.clock": {"from_us"}}
PLUGIN_MAY_IMPORT = {"rollup.migrations": {"Templates", "Target"}, "rollup.readside": {"BUILT_IN"},
                     "rollup.pipeline": {"Pipeline"}}


def cli_reaches(module: str, source: str) -> list[str]:
    """What a module of bench/cli imports past the orchestration layer."""
    allowed = CLI_MAY_IMPORT | (PLUGIN_MAY_IMPORT if module == "bench.cli.pytest_plugin" else {})
    ours = ("bench.cli", "bench.orchestrate")
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] in ("bench", "rollup")
                      and not a.name.startswith(ours)]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            mod = node.module
            if mod.split(".")[0] not in ("bench", "rollup") or mod.startswith(ours) or mod in ("bench",):
                continue
            found += [f"{mod}.{a.name}" for a in node.names if a.name not in allowed.get(mod, set())]
    return found


def test_the_cli_stands_on_the_orchestration():
    reached = {m: found for m, p in modules().items() if m.startswith("bench.cli")
               and (found := cli_reaches(m, p.read_text()))}
    assert reached == {}


def test_the_cli_import_check_fires():
    source = ("from bench.judge.verdict import evaluate\nimport bench.drive.runner\nfrom rollup.servers import "
              "BACKENDS, start_server\nfrom bench.orchestrate.matrix import run_batch\nfrom rollup.pipeline import "
              "Pipeline\n")
    assert cli_reaches("bench.cli.runs", source) == ["bench.judge.verdict.evaluate", "bench.drive.runner",
                                                     "rollup.servers.start_server", "rollup.pipeline.Pipeline"]
    assert cli_reaches("bench.cli.pytest_plugin", source)[-1] == "rollup.servers.start_server"


CODE_PATH = re.compile(r"`(\.\./[^`\s]+)`")  # a path named in code, as the docs name files: from the repository's root


def leaving(doc: Path, text: str) -> list[str]:
    """Relative links of a document (from its folder), and paths it names in code (from the root), that resolve
    outside the repository: a clone would not have them."""
    out = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        if not (doc.parent / target.split("#")[0]).resolve().is_relative_to(ROOT):
            out.append(target)
    return out + [p for p in CODE_PATH.findall(text) if not (ROOT / p).resolve().is_relative_to(ROOT)]


@pytest.mark.parametrize("doc", documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_link_leaves_the_repository(doc):
    assert leaving(doc, doc.read_text()) == []


def test_the_leaving_check_fires():
    doc = ROOT / "docs" / "x.md"
    text = "[a](../../shared/spec/invariants.md) [b](ci.md) [c](https://x.org/a) [d](../../x.md#y) `../shared/i.md`"
    assert leaving(doc, text) == ["../../shared/spec/invariants.md", "../../x.md#y", "../shared/i.md"]
    assert leaving(doc, "`bench/cli/gate.py` [e](../README.md)") == []
