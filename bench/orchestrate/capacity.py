"""Capacity planning as the command line asks for it (`rollup-bench capacity`, `capacity-diff`): the role
(bench/capacity) reached through here, so the command line stands on the orchestration alone."""

from bench.capacity.budget import evaluate as judge_budget
from bench.capacity.compare import compare, machine, paired
from bench.capacity.front import HELD_OUT, held_out_rows
from bench.capacity.report import summary_table, write_report
from bench.capacity.run import CapacityRun
from bench.capacity.plan import HEADERS, Ask, plan, sentences, table_rows
from bench.capacity.spec import PlanSpec, Reach
from bench.capacity.spec import load as load_spec
from bench.capacity.verdict import headline

__all__ = ["HEADERS", "HELD_OUT", "Ask", "CapacityRun", "PlanSpec", "Reach", "compare", "headline", "held_out_rows",
           "judge_budget", "load_spec", "machine", "paired", "plan", "sentences", "summary_table", "table_rows", "write_report"]
