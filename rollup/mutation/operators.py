"""The mutation operators: each reads one region's tokens (rollup/mutation/tokens.py) and proposes edits of the
file's text at token positions. An operator may propose an edit that does not parse (an `=` of a SET turned into
`<>`): the generator drops those, so the operators stay simple readers of tokens."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from rollup.mutation.tokens import Region, Token, words


@dataclass(frozen=True)
class Edit:
    operator: str
    start: int  # the file's text[start:end] becomes `replacement`
    end: int
    replacement: str
    note: str  # what the edit does, for the report


COMPARISONS = {"<": "<=", "<=": "<", ">": ">=", ">=": ">", "=": "<>", "<>": "=", "!=": "="}
ADVISORY = {"pg_advisory_xact_lock": "pg_advisory_lock", "pg_advisory_lock": "pg_advisory_xact_lock",
            "pg_try_advisory_xact_lock": "pg_try_advisory_lock", "pg_try_advisory_lock": "pg_try_advisory_xact_lock",
            "pg_advisory_xact_lock_shared": "pg_advisory_lock_shared",
            "pg_advisory_lock_shared": "pg_advisory_xact_lock_shared"}
# Type names whose parenthesised integers are a modifier (varchar(64), numeric(20, 2)), not a value of the logic.
TYPES = {"varchar", "char", "character", "numeric", "decimal", "bit", "varbit", "time", "timestamp", "timestamptz",
         "interval", "float", "varying"}
# Words that end a conjunct at its own nesting level: clauses, joins, plpgsql's structure, assignments.
ENDS = set("""where group order limit offset having window union intersect except returning then loop join left
right inner full cross natural on for into do select from using as execute set values insert update delete with
elsif exit continue when else if while check return raise perform begin end ; , :=""".split())


def cased(original: str, new: str) -> str:
    """`new` in the case `original` is written in (keywords are written either way)."""
    return new.upper() if original.isupper() else new.lower() if original.islower() else new


def comparison(region: Region, text: str) -> Iterator[Edit]:
    for t in region.tokens:
        if t.text in COMPARISONS:
            yield Edit("cmp", t.start, t.end, COMPARISONS[t.text], f"'{t.text}' → '{COMPARISONS[t.text]}'")


def null_safety(region: Region, text: str) -> Iterator[Edit]:
    """IS [NOT] DISTINCT FROM: to the plain operator (NULLs no longer compared), and negated."""
    toks = region.tokens
    for i, t in enumerate(toks):
        negated = [w.word for w in toks[i:i + 4]] == ["is", "not", "distinct", "from"]
        if not negated and [w.word for w in toks[i:i + 3]] != ["is", "distinct", "from"]:
            continue
        last = toks[i + (3 if negated else 2)]
        was = text[t.start:last.end]
        plain = "=" if negated else "<>"
        yield Edit("null-safe", t.start, last.end, plain, f"'{' '.join(was.split())}' → '{plain}'")
        flipped = cased(t.text, "IS DISTINCT FROM" if negated else "IS NOT DISTINCT FROM")
        yield Edit("distinct-negate", t.start, last.end, flipped, f"'{' '.join(was.split())}' → '{flipped}'")


def boolean(region: Region, text: str) -> Iterator[Edit]:
    for t in region.tokens:
        if t.name in ("TRUE_P", "FALSE_P"):
            new = cased(t.text, "false" if t.name == "TRUE_P" else "true")
            yield Edit("bool-flip", t.start, t.end, new, f"'{t.text}' → '{new}'")


def _is_modifier(toks: list[Token], i: int) -> bool:
    j = i - 1
    while j > 0 and (toks[j].text == "," or toks[j].name == "ICONST"):
        j -= 1
    return j > 0 and toks[j].text == "(" and toks[j - 1].word in TYPES


def integer(region: Region, text: str) -> Iterator[Edit]:
    toks = region.tokens
    for i, t in enumerate(toks):
        if t.name != "ICONST" or _is_modifier(toks, i):
            continue
        n = int(t.text)
        yield Edit("int-up", t.start, t.end, str(n + 1), f"{n} → {n + 1}")
        if n > 0:
            yield Edit("int-down", t.start, t.end, str(n - 1), f"{n} → {n - 1}")


def interval(region: Region, text: str) -> Iterator[Edit]:
    """The first number of an interval literal ('5 minutes', INTERVAL '1 hour', '3 days'::interval) one up, one
    down."""
    toks = region.tokens
    for i, t in enumerate(toks):
        if t.name != "SCONST" or not t.text.startswith("'"):
            continue
        typed = (i > 0 and toks[i - 1].word == "interval") or \
            ([w.word for w in toks[i + 1:i + 3]] == ["::", "interval"])
        m = re.search(r"\d+", t.text)
        if not typed or not m:
            continue
        n, at = int(m.group(0)), t.start + m.start()
        yield Edit("interval-up", at, at + len(m.group(0)), str(n + 1), f"{t.text} → {n + 1} in place of {n}")
        if n > 0:
            yield Edit("interval-down", at, at + len(m.group(0)), str(n - 1), f"{t.text} → {n - 1} in place of {n}")


def _spaced_removal(text: str, t: Token) -> tuple[int, int]:
    end = t.end
    while end < len(text) and text[end] in " \t":
        end += 1
    return t.start, end


def distinct(region: Region, text: str) -> Iterator[Edit]:
    """DISTINCT removed (SELECT DISTINCT, count(DISTINCT …)); UNION made UNION ALL: duplicates kept."""
    toks = region.tokens
    for i, t in enumerate(toks):
        after = toks[i + 1].word if i + 1 < len(toks) else ""
        if t.word == "distinct" and after not in ("from", "on") and (i == 0 or toks[i - 1].word not in ("is", "not")):
            start, end = _spaced_removal(text, t)
            yield Edit("drop-distinct", start, end, "", "DISTINCT removed")
        if t.word == "union" and after not in ("all", "distinct"):
            yield Edit("union-all", t.end, t.end, cased(t.text, " ALL"), "UNION → UNION ALL")


def functions(region: Region, text: str) -> Iterator[Edit]:
    """GREATEST ↔ LEAST; a transaction-scoped advisory lock ↔ a session-scoped one."""
    for t in region.tokens:
        if t.word in ("greatest", "least"):
            new = cased(t.text, "least" if t.word == "greatest" else "greatest")
            yield Edit("greatest-least", t.start, t.end, new, f"{t.text} → {new}")
        elif t.word in ADVISORY:
            yield Edit("advisory-lock", t.start, t.end, ADVISORY[t.word], f"{t.text} → {ADVISORY[t.word]}")


def _arguments(toks: list[Token], open_at: int) -> list[tuple[int, int]]:
    """The argument token ranges (inclusive) of the call whose '(' is toks[open_at]."""
    args, depth, first = [], 0, open_at + 1
    for j in range(open_at, len(toks)):
        if toks[j].text == "(":
            depth += 1
        elif toks[j].text == ")":
            depth -= 1
            if depth == 0:
                return args + [(first, j - 1)]
        elif toks[j].text == "," and depth == 1:
            args.append((first, j - 1))
            first = j + 1
    return []


def coalesce(region: Region, text: str) -> Iterator[Edit]:
    toks = region.tokens
    for i, t in enumerate(toks):
        if t.word != "coalesce" or i + 1 >= len(toks) or toks[i + 1].text != "(":
            continue
        args = _arguments(toks, i + 1)
        for k, (a, b) in enumerate(args if len(args) > 1 else []):
            if k + 1 < len(args):  # the argument and the comma after it
                start, end = toks[a].start, toks[args[k + 1][0]].start
            else:  # the last: the comma before it
                start, end = toks[args[k - 1][1]].end, toks[b].end
            shown = " ".join(text[toks[a].start:toks[b].end].split())
            yield Edit("coalesce-arg", start, end, "", f"COALESCE argument {k + 1} ({shown}) dropped")


def levels(toks: list[Token]) -> list[int]:
    """Each token's nesting level: parentheses and CASE … END; a pair's tokens sit at the level around them."""
    out, stack = [], []
    for t in toks:
        if t.text == ")" and "(" in stack:
            while stack and stack.pop() != "(":
                pass
            out.append(len(stack))
        elif t.word == "end" and stack and stack[-1] == "case":
            stack.pop()
            out.append(len(stack))
        else:
            out.append(len(stack))
            if t.text == "(" or t.word == "case":
                stack.append("(" if t.text == "(" else "case")
    return out


def conjunct(region: Region, text: str) -> Iterator[Edit]:
    """One conjunct of an AND removed, wherever the AND stands (WHERE, ON, WHEN, CHECK, IF, CASE …): the one after
    each AND, and the first of each chain."""
    toks, level = region.tokens, levels(region.tokens)
    between = set()
    for i, t in enumerate(toks):
        if t.word == "between":
            j = next((j for j in range(i + 1, len(toks)) if toks[j].word == "and" and level[j] == level[i]), None)
            if j is not None:
                between.add(j)

    def boundary(k: int) -> bool:
        w = toks[k].word
        if w == "from" and k > 0 and toks[k - 1].word == "distinct":
            return False
        return (w in ("and", "or") and k not in between) or w in ENDS

    for i, t in enumerate(toks):
        if t.word != "and" or i in between:
            continue
        d = level[i]
        j = i + 1
        while j < len(toks) and level[j] >= d and not (level[j] == d and boundary(j)):
            j += 1
        k = i - 1
        while k >= 0 and level[k] >= d and not (level[k] == d and boundary(k)):
            k -= 1
        if j == i + 1 or k == i - 1:
            continue
        start = t.start
        while start > 0 and text[start - 1] in " \t\n":
            start -= 1
        right = " ".join(text[toks[i + 1].start:toks[j - 1].end].split())
        yield Edit("drop-conjunct", start, toks[j - 1].end, "", f"conjunct removed: AND {right}")
        if k < 0 or toks[k].word != "and" or k in between:  # the first of its chain
            left = " ".join(text[toks[k + 1].start:toks[i - 1].end].split())
            yield Edit("drop-conjunct", toks[k + 1].start, toks[i + 1].start, "", f"conjunct removed: {left} AND")


def trigger(region: Region, text: str) -> Iterator[Edit]:
    """CREATE TRIGGER: BEFORE ↔ AFTER, FOR EACH ROW ↔ STATEMENT (without a WHEN, which reads rows), an event
    dropped, a column dropped from UPDATE OF."""
    toks = region.tokens
    w = [t.word for t in toks]
    if region.kind != "sql" or "trigger" not in w[:5] or w[0] != "create":
        return
    timing = next((i for i, x in enumerate(w) if x in ("before", "after", "instead")), None)
    on = next((i for i, x in enumerate(w) if x == "on" and timing is not None and i > timing), None)
    if timing is None or on is None:
        return
    if w[timing] in ("before", "after"):
        new = cased(toks[timing].text, "after" if w[timing] == "before" else "before")
        yield Edit("trigger-timing", toks[timing].start, toks[timing].end, new, f"{toks[timing].text} → {new}")
    for i in range(on, len(toks)):
        if w[i] in ("row", "statement") and w[i - 1] in ("each", "for") and "when" not in w[i:]:
            new = cased(toks[i].text, "statement" if w[i] == "row" else "row")
            yield Edit("trigger-level", toks[i].start, toks[i].end, new, f"FOR EACH {toks[i].text} → {new}")
    events, first = [], timing + 1
    for i in range(timing + 1, on + 1):
        if w[i] in ("or", "on"):
            events.append((first, i - 1))
            first = i + 1
    for k, (a, b) in enumerate(events if len(events) > 1 else []):
        shown = " ".join(text[toks[a].start:toks[b].end].split())
        if k + 1 < len(events):
            start, end = toks[a].start, toks[events[k + 1][0]].start
        else:
            start, end = toks[events[k - 1][1]].end, toks[b].end
        yield Edit("trigger-event", start, end, "", f"event {shown} dropped")
        if w[a] == "update" and a + 1 <= b and w[a + 1] == "of":
            columns = [j for j in range(a + 2, b + 1) if toks[j].text != ","]
            for n, c in enumerate(columns if len(columns) > 1 else []):
                start, end = (toks[c].start, toks[columns[n + 1]].start) if n + 1 < len(columns) else \
                    (toks[columns[n - 1]].end, toks[c].end)
                yield Edit("update-of-column", start, end, "", f"column {toks[c].text} dropped from UPDATE OF")


OPERATORS: list[Callable[[Region, str], Iterator[Edit]]] = [
    comparison, null_safety, boolean, integer, interval, distinct, functions, coalesce, conjunct, trigger]


def is_index_or_comment(stmt: list[Token]) -> bool:
    w = words(stmt, 4)
    return w[:1] == ["comment"] or (w[:1] == ["create"] and "index" in w)
