"""The mutation report (bench/orchestrate/mutate.py's result): a terminal table, Markdown, a self-contained HTML
page, and the JSON itself. Survivors come with their diff and the runs they passed: each is a test to write or an
equivalence to argue."""

from __future__ import annotations

import html
import json
from pathlib import Path

from rich.table import Table

COLUMNS = ["mutants", "killed", "survived", "stillborn", "unreached", "equivalent", "error", "score"]


def _score(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"


def _row(name: str, t: dict) -> list[str]:
    return [name, *(str(t.get(c, 0)) for c in COLUMNS[:-1]), _score(t["score"])]


def rows(result: dict) -> list[list[str]]:
    return [*(_row(op, t) for op, t in result["by_operator"].items()), _row("all", result["total"])]


def table(result: dict) -> Table:
    t = Table(title=f"mutation score on {result['target']}")
    short = {"mutants": "all", "survived": "surv.", "stillborn": "stillb.", "unreached": "unr.", "equivalent": "equiv.",
             "error": "err"}
    for c in ["operator", *COLUMNS]:  # short headers: the table fits 80 columns
        t.add_column(short.get(c, c), justify="left" if c == "operator" else "right", no_wrap=True)
    for r in rows(result):
        t.add_row(*r, style="bold" if r[0] == "all" else None)
    return t


def survivors(result: dict) -> list[dict]:
    return [m for m in result["mutants"] if m["status"] == "survived"]


def headline(result: dict) -> str:
    t = result["total"]
    rate = result.get("mutants_per_minute")
    return (f"score {_score(t['score'])}: {t['killed']} killed, {t['survived']} survived, {t['stillborn']} stillborn, "
            f"{t.get('unreached', 0)} unreached, {t['equivalent']} equivalent, {t['error']} error(s) of "
            f"{t['mutants']} mutant(s); "
            f"{result['seconds']['mutants']:.0f} s for the mutants"
            + (f" ({rate} a minute)" if rate else "") + f", {result['seconds']['base']:.0f} s for the base")


def markdown(result: dict) -> str:
    out = [f"## Mutation score on {result['target']}", "", headline(result), "",
           f"Runs: {', '.join(result['runs'])}" + (f" (the base fails {', '.join(result['base_failed'])}: not used)"
                                                  if result["base_failed"] else ""), "",
           "| operator | " + " | ".join(COLUMNS) + " |", "|" + "---|" * (len(COLUMNS) + 1)]
    out += ["| " + " | ".join(r) + " |" for r in rows(result)]
    found = survivors(result)
    out += ["", f"### Survivors ({len(found)})", ""]
    for m in found:
        out += [f"#### `{m['id']}` — {m['note']}", "", f"Passed: {', '.join(m['passed'])}", "", "```diff",
                m["diff"].rstrip("\n"), "```", ""]
    reasons = unreached(result)
    if reasons:
        out += ["", f"### Unreached ({sum(len(v) for v in reasons.values())})", ""]
        out += [f"- {why}: {', '.join(f'`{i}`' for i in ids)}" for why, ids in reasons.items()]
    if result.get("reach_contradicted"):
        out += ["", CONTRADICTED + ", ".join(result["reach_contradicted"])]
    if result.get("equivalents_unknown"):
        out += ["", "Equivalents naming no mutant of this run: " + ", ".join(result["equivalents_unknown"])]
    return "\n".join(out) + "\n"


CONTRADICTED = "The reach analysis called these killed mutants unreached (it is unsound here; please report): "


def unreached(result: dict) -> dict[str, list[str]]:
    """The unreached mutants' ids by their reason (the definition and the migration that supersedes it)."""
    out: dict[str, list[str]] = {}
    for m in result["mutants"]:
        if m["status"] == "unreached":
            out.setdefault(m.get("detail", ""), []).append(m["id"])
    return out


def _diff_html(diff: str) -> str:
    lines = []
    for line in diff.rstrip("\n").splitlines():
        cls = "add" if line.startswith("+") else "del" if line.startswith("-") else "hunk" if line.startswith("@") \
            else ""
        lines.append(f'<span class="{cls}">{html.escape(line)}</span>')
    return "<pre>" + "\n".join(lines) + "</pre>"


STYLE = """body{font-family:sans-serif;max-width:70em;margin:2em auto}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}td:first-child,th:first-child{text-align:left}
pre{background:#f6f8fa;padding:.6em;overflow-x:auto}.add{color:#116329}.del{color:#82071e}.hunk{color:#6639ba}"""


def html_page(result: dict) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in ["operator", *COLUMNS])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows(result))
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>mutation score on "
             f"{html.escape(result['target'])}</title><style>{STYLE}</style></head><body>",
             f"<h1>Mutation score on {html.escape(result['target'])}</h1><p>{html.escape(headline(result))}</p>",
             f"<p>Runs: {html.escape(', '.join(result['runs']))}</p>",
             f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"]
    found = survivors(result)
    parts.append(f"<h2>Survivors ({len(found)})</h2>")
    for m in found:
        parts.append(f"<h3><code>{html.escape(m['id'])}</code> — {html.escape(m['note'])}</h3>"
                     f"<p>Passed: {html.escape(', '.join(m['passed']))}</p>{_diff_html(m['diff'])}")
    reasons = unreached(result)
    if reasons:
        parts.append(f"<h2>Unreached ({sum(len(v) for v in reasons.values())})</h2><ul>"
                     + "".join(f"<li>{html.escape(why)}: {html.escape(', '.join(ids))}</li>"
                               for why, ids in reasons.items()) + "</ul>")
    if result.get("reach_contradicted"):
        parts.append(f"<p><b>{html.escape(CONTRADICTED + ', '.join(result['reach_contradicted']))}</b></p>")
    return "\n".join(parts) + "</body></html>\n"


def write(result: dict, report_dir: Path | None, json_file: Path | None) -> list[Path]:
    """The report's files: mutation.json, mutation.md and mutation.html in `report_dir`, and `json_file`."""
    written = []
    text = json.dumps(result, indent=2, default=str)
    if report_dir:
        report_dir.mkdir(parents=True, exist_ok=True)
        for name, content in (("mutation.json", text), ("mutation.md", markdown(result)),
                              ("mutation.html", html_page(result))):
            (report_dir / name).write_text(content)
            written.append(report_dir / name)
    if json_file:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(text)
        written.append(json_file)
    return written
