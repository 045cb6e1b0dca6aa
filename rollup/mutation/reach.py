"""Which definitions of a chain no run can reach: a function, trigger or table that a later migration drops or
replaces (CREATE OR REPLACE of the same function) and that nothing executes at migration time in between. A run
migrates the chain before it writes a row, so an edit to such a definition changes nothing it can see: the
mutant is unreached, told apart from a survivor (a long chain replaces most of its functions many times over).

Executed at migration time: every top-level statement that is not a definition (DO blocks, SELECT, INSERT,
UPDATE, DELETE, CALL …), the functions their text names, the functions those bodies name, and the trigger
functions of the tables their DML writes — a closure over identifiers, conservative by construction: a name
mentioned anywhere it could run keeps its definition reachable. A run that stops the chain early (a
reproduction's `migrate_to`) reaches every definition its last migration has not yet superseded."""

from __future__ import annotations

from dataclasses import dataclass

import pglast
from pglast import ast
from pglast.enums import FunctionParameterMode, ObjectType

from rollup.mutation.tokens import body_of, scan, statements

DEFINITIONS = (ast.CreateStmt, ast.CreateFunctionStmt, ast.CreateTrigStmt, ast.IndexStmt, ast.DropStmt,
               ast.CommentStmt, ast.AlterFunctionStmt, ast.GrantStmt, ast.ViewStmt, ast.AlterTableStmt)
OUT = (FunctionParameterMode.FUNC_PARAM_OUT, FunctionParameterMode.FUNC_PARAM_TABLE)


@dataclass(frozen=True)
class Superseded:
    start: int  # the defining statement's span in its file
    end: int
    what: str  # "function f(timestamptz, timestamptz)", "trigger t on x", "table x"
    by: str  # the migration (its number) that drops or replaces it
    how: str  # "dropped" or "replaced"


def _name(names) -> str:
    return names[-1].sval.lower()


def _args(types) -> tuple[str, ...]:
    return tuple(_name(t.names) for t in types or ())


def _defines(node) -> list[tuple]:
    """The objects a statement defines, as keys: ("function", name, argument types), ("trigger", name, table),
    ("table", name)."""
    if isinstance(node, ast.CreateFunctionStmt):
        return [("function", _name(node.funcname),
                 _args([p.argType for p in node.parameters or () if p.mode not in OUT]))]
    if isinstance(node, ast.CreateTrigStmt):
        return [("trigger", node.trigname.lower(), node.relation.relname.lower())]
    if isinstance(node, ast.CreateStmt):
        return [("table", node.relation.relname.lower())]
    return []


def _supersedes(node) -> list[tuple]:
    """The objects a statement drops or replaces, as keys (a function's arguments None: any of that name)."""
    if isinstance(node, ast.CreateFunctionStmt) and node.replace:
        return _defines(node)
    if isinstance(node, ast.CreateTrigStmt) and getattr(node, "replace", False):
        return _defines(node)
    if not isinstance(node, ast.DropStmt):
        return []
    out = []
    for o in node.objects or ():
        if node.removeType == ObjectType.OBJECT_FUNCTION:
            out.append(("function", _name(o.objname), None if o.args_unspecified else _args(o.objargs)))
        elif node.removeType == ObjectType.OBJECT_TRIGGER:
            out.append(("trigger", o[-1].sval.lower(), o[-2].sval.lower()))
        elif node.removeType == ObjectType.OBJECT_TABLE:
            out.append(("table", o[-1].sval.lower()))
    return out


def _matches(key: tuple, gone: tuple) -> bool:
    if key[:2] != gone[:2]:
        return False
    return key[0] == "table" or (key[0] == "function" and gone[2] is None) or key[2] == gone[2]


@dataclass
class _Stmt:
    file: str
    start: int
    end: int
    node: object
    words: set[str]  # identifiers, function bodies included
    writes: set[str]  # tables its DML (or its body's) writes: their triggers fire


def _writes(words: list[str]) -> set[str]:
    """Tables written by INSERT INTO t, UPDATE t, DELETE FROM t, COPY t, in a token stream."""
    out = set()
    for a, b, c in zip(words, words[1:], words[2:] + [""]):
        if (a, b) in (("insert", "into"), ("delete", "from")):
            out.add(c)
        elif a in ("update", "copy") and b not in ("of", "on"):
            out.add(b)
    return out


def _parse(file: str, text: str) -> list[_Stmt]:
    out = []
    for toks in statements(scan(text)):
        sql = text[toks[0].start:toks[-1].end]
        try:
            (raw,) = pglast.parse_sql(sql)
        except (pglast.Error, ValueError):
            continue
        words = [t.word for t in toks]
        if (found := body_of(toks)) is not None:
            token, _ = found
            try:
                words += [t.word for t in scan(token.text.strip("$"))]
            except pglast.Error:
                words += token.text.lower().replace("(", " ").split()
        out.append(_Stmt(file, toks[0].start, toks[-1].end, raw.stmt, set(words), _writes(words)))
    return out


def _callees(every: list[_Stmt]) -> tuple[dict[str, list[_Stmt]], dict[str, set[str]]]:
    """Every definition of the chain, once: each function's bodies by name, each table's trigger functions."""
    bodies: dict[str, list[_Stmt]] = {}
    triggers: dict[str, set[str]] = {}
    for s in every:
        for key in _defines(s.node):
            if key[0] == "function":
                bodies.setdefault(key[1], []).append(s)
            elif key[0] == "trigger":
                triggers.setdefault(key[2], set()).add(_name(s.node.funcname))
    return bodies, triggers


def _executed(stmts: list[_Stmt], bodies: dict[str, list[_Stmt]], triggers: dict[str, set[str]]) -> set[str]:
    """The names that may run at migration time over `stmts`: what their executed statements name, closed over
    function bodies (what a called function names and writes) and the trigger functions of every table written."""
    run = [s for s in stmts if not isinstance(s.node, DEFINITIONS)]
    names, writes = set().union(*(s.words for s in run)), set().union(*(s.writes for s in run))
    while True:
        called = [b for n in names for b in bodies.get(n, [])]
        more = set().union(*(b.words for b in called)) | set().union(*(triggers.get(t, set()) for t in writes))
        more_writes = set().union(*(b.writes for b in called)) - writes
        if not (more - names or more_writes):
            return names
        names |= more
        writes |= more_writes


def _label(key: tuple) -> str:
    return {"function": lambda: f"function {key[1]}({', '.join(key[2])})",
            "trigger": lambda: f"trigger {key[1]} on {key[2]}", "table": lambda: f"table {key[1]}"}[key[0]]()


def superseded(chain: list[tuple[str, str]], upto: str | None = None) -> dict[str, list[Superseded]]:
    """For each file of `chain` (name, text in order): its definitions a later migration, up to `upto` (a number;
    None: the whole chain), drops or replaces with nothing executing them at migration time in between."""
    parsed = [(name, _parse(name, text)) for name, text in chain]
    callees = _callees([s for _, stmts in parsed for s in stmts])
    out: dict[str, list[Superseded]] = {name: [] for name, _ in chain}
    for i, (name, stmts) in enumerate(parsed):
        for s in stmts:
            for key in _defines(s.node):
                found = _later(parsed, i, s, key, upto)
                if found is None:
                    continue
                j, how = found
                between = [t for _, ts in parsed[i:j + 1] for t in ts if t.file != name or t.start > s.start]
                if key[1] not in _executed(between, *callees):
                    out[name].append(Superseded(s.start, s.end, _label(key), parsed[j][0].split("_", 1)[0], how))
    return out


def _later(parsed, i: int, s: _Stmt, key: tuple, upto: str | None) -> tuple[int, str] | None:
    """The first later file (index) that drops or replaces `key`, and how; None if none does (up to `upto`)."""
    for j in range(i + 1, len(parsed)):
        name, stmts = parsed[j]
        if upto is not None and name.split("_", 1)[0] > upto:
            return None
        for t in stmts:
            for gone in _supersedes(t.node):
                if _matches(key, gone) or (key[0] == "trigger" and gone[0] == "table" and gone[1] == key[2]):
                    return j, "replaced" if isinstance(t.node, ast.CreateFunctionStmt) else "dropped"
    return None
