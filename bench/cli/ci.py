"""What CI systems read from a batch of verdicts: JUnit XML (one testcase per scenario × server) and a Markdown
summary for a job's step summary ($GITHUB_STEP_SUMMARY), failures first."""

from __future__ import annotations

import platform
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from bench.orchestrate.records import Verdict, label


def _failed(v: Verdict) -> list[dict]:
    return [c for c in v.checks if not c["ok"]]


def _case_name(v: Verdict) -> str:
    return f"{v.scenario} seed {v.seed}"


def failure_text(v: Verdict) -> str:
    """Everything needed to act on a failed run, as plain text: the failed checks, the bad keys, the replay
    command and the report."""
    lines = [f"{c['name']}: expected {c['expected']}; observed {c['observed']}" for c in _failed(v)]
    for b in v.bad_keys[:10]:
        k = b["key"]
        lines.append(f"bad key {b['status']} {k['bucket_hour']} agent {k['agent_id']} runtime {k['runtime_id']} "
                     f"project {k['project_id'] or '-'} {k['provider']}/{k['model']}: deltas {b['deltas']}")
    if len(v.bad_keys) > 10:
        lines.append(f"… {len(v.bad_keys) - 10} more bad key(s) in the report")
    lines += [f"replay: {v.replay}", f"report: {v.report}"]
    return "\n".join(lines)


def junit(verdicts: list[Verdict], path: Path, name: str = "rollup-bench") -> None:
    """One <testsuite> per server × target and read side, one <testcase> per scenario run in it; a run that
    failed a check carries a <failure> with the text above, one the chain cannot carry out a <skipped>."""
    suites: dict[tuple, list[dict]] = {}
    for v in verdicts:
        suites.setdefault((v.server, v.target, v.read_side), []).append(v)
    root = ET.Element("testsuites", name=name, tests=str(len(verdicts)),
                      failures=str(sum(not v.ok for v in verdicts)), errors="0",
                      time=f"{sum((v.wall_seconds or 0) for v in verdicts):.3f}")
    stamp = datetime.now(UTC).replace(microsecond=0, tzinfo=None).isoformat()
    for (server, target, side), runs in suites.items():
        suite = ET.SubElement(root, "testsuite", name=f"{name} {target} ({side} read side) on {server}",
                              tests=str(len(runs)), failures=str(sum(not v.ok for v in runs)), errors="0",
                              skipped=str(sum(bool(v.not_applicable) for v in runs)),
                              time=f"{sum((v.wall_seconds or 0) for v in runs):.3f}",
                              timestamp=stamp, hostname=platform.node() or "localhost")
        props = ET.SubElement(suite, "properties")
        for key, value in (("server", server), ("server_version", runs[0]["server_version"]), ("target", target),
                           ("read_side", side)):
            ET.SubElement(props, "property", name=key, value=str(value))
        for v in runs:
            case = ET.SubElement(suite, "testcase", name=_case_name(v), classname=f"rollup_bench.{server}.{target}",
                                 time=f"{(v.wall_seconds or 0):.3f}")
            if v.baseline is not None:  # known / new / fixed against the accepted ids
                ET.SubElement(ET.SubElement(case, "properties"), "property", name="baseline", value=label(v))
            if v.not_applicable:  # carried out nowhere: CI shows it skipped, not passed
                ET.SubElement(case, "skipped", message=f"cannot run on this chain: {v.not_applicable}"[:1000])
            elif not v.ok:
                failed = _failed(v)
                message = "; ".join(f"{c['name']}: {c['observed']}" for c in failed)
                failure = ET.SubElement(case, "failure", message=message[:1000], type="divergence")
                failure.text = failure_text(v)
            base = f"\nbaseline {label(v)}" if v.baseline is not None else ""
            ET.SubElement(case, "system-out").text = f"history {v.history}\nreport {v.report}{base}"
    ET.indent(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def summary(verdicts: list[Verdict], title: str) -> str:
    """A Markdown table of scenario runs × servers, failures first, with each failure's replay command."""
    servers = sorted({v.server for v in verdicts})
    failed = [v for v in verdicts if not v.ok]
    versions = {v.server: v.server_version for v in verdicts}
    on = ", ".join(f"{s} (PostgreSQL {versions[s]})" for s in servers)
    lines = [f"## {title}: {'PASS' if not failed else 'FAIL'}", "",
             f"{len(verdicts) - len(failed)} of {len(verdicts)} run(s) passed on {on}.", ""]
    runs: dict[str, dict[str, dict]] = {}
    for v in sorted(verdicts, key=lambda v: v.ok):  # stable: failures first, each group in run order
        runs.setdefault(_case_name(v), {})[v.server] = v
    lines += ["| scenario | " + " | ".join(servers) + " |", "|---|" + "---|" * len(servers)]
    for name, by_server in runs.items():
        cells = []
        for s in servers:
            v = by_server.get(s)
            state = f" ({label(v)})" if v is not None and v.baseline is not None else ""
            cells.append("–" if v is None else f"pass{state}" if v.ok else
                         f"**FAIL**{state}: " + _cell("; ".join(f"{c['name']}: {c['observed']}" for c in _failed(v))))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    if failed:
        lines += ["", "### Replay", ""]
        lines += [f"- {_case_name(v)} on {v.server}: `{v.replay}` (report `{v.report}`)" for v in failed]
    return "\n".join(lines) + "\n"
