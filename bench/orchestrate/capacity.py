"""Capacity planning as the command line asks for it (`rollup-bench capacity`, `capacity-diff`): the role
(bench/capacity) reached through here, so the command line stands on the orchestration alone."""

from bench.capacity.budget import evaluate as judge_budget
from bench.capacity.compare import compare, machine, paired
from bench.capacity.report import summary_table, write_report
from bench.capacity.run import CapacityRun
from bench.capacity.spec import Reach
from bench.capacity.spec import load as load_spec

__all__ = ["CapacityRun", "Reach", "compare", "judge_budget", "load_spec", "machine", "paired", "summary_table",
           "write_report"]
