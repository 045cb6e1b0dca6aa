"""The records a command reads and prints, as the orchestration hands them over (the command line imports no
role's module): verdicts and their JSON, runs without a verdict, the catalogue's ids and a baseline's words."""

from bench.judge.baseline import EVERY, FIXED, KNOWN, NEW, label, parse_ids
from bench.judge.record import Verdict, dumps, loads, write
from bench.workload.scenario import ScenarioWarning
from bench.orchestrate.request import NoVerdict

__all__ = ["EVERY", "FIXED", "KNOWN", "NEW", "NoVerdict", "ScenarioWarning", "Verdict", "dumps", "label", "loads",
           "parse_ids", "write"]
