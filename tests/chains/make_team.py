"""Writes tests/chains/team/migrations: a team's chain of 432 migrations shaped like a real one (issue 35).

Its first migration creates pgcrypto; two later ones create pg_bigm and pg_cron inside DO blocks whose EXCEPTION
handlers let them be absent; the rollup's migrations (the reference's 100–104, taken from migrations/reference as
the team's own files) sit at 100–104 with the base schema spread before them; a migration well after 104 adds a
nullable cost_usd_ticks to task_usage and, to task_usage_hourly, its sum and the tokens of uncosted rows, and
replaces the window to fill them. Everything else is the rest of an application: tables, indexes, comments,
views, functions — seeded, so the files are the same on every run.

    python tests/chains/make_team.py            # (re)write the directory
    python tests/chains/make_team.py --check    # exit 1 if the committed files differ from what it writes
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "team" / "migrations"
REFERENCE = HERE.parent.parent / "migrations" / "reference"
TOTAL = 432
COST = 287  # the migration that adds the cost columns
NOUNS = ("label", "comment", "webhook", "notification", "invite", "billing_plan", "audit_event", "saved_view",
         "integration", "attachment", "reaction", "mention", "digest", "api_token", "sso_config", "feature_flag",
         "subscription", "export_job", "import_job", "template", "milestone", "sprint", "reminder", "snippet")

# The base schema (reference 000) cut where each of its tables begins: (number, name, first line's start, drop).
BASE = (
    (1, "init", None, 'DROP TABLE IF EXISTS workspace;\nDROP TABLE IF EXISTS "user";\n'),
    (6, "agent_runtime", "CREATE TABLE agent_runtime", "DROP TABLE IF EXISTS agent_runtime;\n"),
    (9, "agent", "CREATE TABLE agent (", "DROP TABLE IF EXISTS agent;\n"),
    (13, "project", "CREATE TABLE project", "DROP TABLE IF EXISTS project;\n"),
    (16, "issue", "CREATE TABLE issue", "DROP TABLE IF EXISTS issue;\n"),
    (21, "agent_task_queue", "-- One row per task.", "DROP TABLE IF EXISTS agent_task_queue;\n"),
    (25, "task_usage", "-- One row per (task", "DROP TABLE IF EXISTS task_usage;\n"),
    (31, "legacy_daily_rollups", "-- -------", None),  # its down: LEGACY_DOWN
)

INIT_HEAD = """-- The team's first migration: pgcrypto for API token digests, then the users and workspaces.
CREATE EXTENSION IF NOT EXISTS pgcrypto;

CREATE TABLE api_key (
    id         UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    secret     TEXT NOT NULL DEFAULT encode(gen_random_bytes(24), 'hex'),
    digest     BYTEA GENERATED ALWAYS AS (digest(secret, 'sha256')) STORED
);

"""

BIGM = """-- Issue search: a bigram index when pg_bigm is there; without it search falls back to ILIKE.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_bigm;
    EXECUTE 'CREATE INDEX IF NOT EXISTS idx_issue_title_bigm ON issue USING gin (title gin_bigm_ops)';
EXCEPTION
    WHEN undefined_file OR feature_not_supported THEN
        RAISE NOTICE 'pg_bigm is not available: issue search uses ILIKE';
END;
$$;
"""

CRON = """-- Nightly purge of read notifications by pg_cron where the server has it; elsewhere the app purges them.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_cron;
    PERFORM cron.schedule('purge_read_notifications', '17 3 * * *',
                          $job$DELETE FROM app_notification_ts WHERE created_at < now() - interval '30 days'$job$);
EXCEPTION
    WHEN OTHERS THEN
        RAISE NOTICE 'pg_cron is not available (%): the app purges notifications', SQLERRM;
END;
$$;

CREATE TABLE app_notification_ts (id BIGSERIAL PRIMARY KEY, created_at TIMESTAMPTZ NOT NULL DEFAULT now());
"""

COST_HEAD = """-- Usage rows carry their cost in ticks (1e-9 USD), NULL until the pricing job costs them. The hourly
-- rollup keeps the cost summed and, per token counter, the tokens of rows not costed yet; the window fills them.
ALTER TABLE task_usage ADD COLUMN cost_usd_ticks BIGINT;

ALTER TABLE task_usage_hourly
    ADD COLUMN cost_usd_ticks BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN uncosted_input_tokens BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN uncosted_output_tokens BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN uncosted_cache_read_tokens BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN uncosted_cache_write_tokens BIGINT NOT NULL DEFAULT 0;

"""
COST_DOWN = """ALTER TABLE task_usage_hourly
    DROP COLUMN cost_usd_ticks, DROP COLUMN uncosted_input_tokens, DROP COLUMN uncosted_output_tokens,
    DROP COLUMN uncosted_cache_read_tokens, DROP COLUMN uncosted_cache_write_tokens;
ALTER TABLE task_usage DROP COLUMN cost_usd_ticks;
"""
LEGACY_DOWN = """DROP TRIGGER IF EXISTS trg_task_usage_daily ON task_usage;
DROP TRIGGER IF EXISTS trg_task_usage_dashboard_daily ON task_usage;
DROP FUNCTION IF EXISTS task_usage_daily_apply();
DROP FUNCTION IF EXISTS task_usage_dashboard_daily_apply();
"""
TOKENS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
COST_COLUMNS = ("cost_usd_ticks", *(f"uncosted_{t}" for t in TOKENS))


def base_parts() -> list[tuple[int, str, str, str]]:
    text = (REFERENCE / "000_base_schema.up.sql").read_text()
    cuts = [0] + [text.index(start) for _, _, start, _ in BASE[1:]] + [len(text)]
    down_legacy = (REFERENCE / "000_base_schema.down.sql").read_text().split("\nDROP TABLE IF EXISTS task_usage;")[0]
    down_legacy = LEGACY_DOWN + down_legacy.split("\n\n", 1)[1]  # the tables after the triggers and functions
    out = []
    for (n, name, _, down), a, b in zip(BASE, cuts, cuts[1:]):
        body = text[a:b].strip() + "\n"
        if n == 1:
            body = INIT_HEAD + body.split("\n\n", 1)[1]  # the reference's header comment gives way to the team's
            down = down + "DROP TABLE IF EXISTS api_key;\n"
        out.append((n, name, body, down if down is not None else down_legacy.strip() + "\n"))
    return out


def cost_window() -> str:
    """102's window, replaced to fill the cost columns: the cost summed, and each token counter over uncosted rows."""
    text = (REFERENCE / "102_task_usage_hourly_pipeline.up.sql").read_text()
    fn = text[text.index("CREATE FUNCTION rollup_task_usage_hourly_window"):]
    fn = fn[:fn.index("$$;\n") + 4].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)
    sums = "".join(f",\n               coalesce(sum(tu.{t}) FILTER (WHERE tu.cost_usd_ticks IS NULL), 0)"
                   f" AS uncosted_{t}" for t in TOKENS)
    fn = fn.replace("count(*)                    AS event_count",
                    "count(*)                    AS event_count,\n"
                    "               coalesce(sum(tu.cost_usd_ticks), 0) AS cost_usd_ticks" + sums, 1)
    listed = ", ".join(COST_COLUMNS[:3]) + ",\n                " + ", ".join(COST_COLUMNS[3:])
    fn = fn.replace("task_count, event_count,\n                updated_at)",
                    f"task_count, event_count,\n                {listed}, updated_at)", 1)
    fn = fn.replace("task_count, event_count,\n               now()",
                    f"task_count, event_count,\n               {listed.replace(chr(10) + ' ', chr(10))}, now()", 1)
    sets = "".join(f"               {c} = EXCLUDED.{c},\n" for c in COST_COLUMNS)
    fn = fn.replace("               updated_at         = EXCLUDED.updated_at",
                    sets + "               updated_at         = EXCLUDED.updated_at", 1)
    assert fn.count("cost_usd_ticks") == 6 + 1 + 1 + 2, fn  # in recomputed (sum, filters), insert, select, set
    return fn


def filler(n: int, rng: random.Random, made: list[str]) -> tuple[str, str, str]:
    """An unrelated migration of the application: (name, up, down)."""
    kind = rng.choice(("table", "table", "index", "column", "comment", "view", "function")) if made else "table"
    if kind == "table":
        table = f"app_{rng.choice(NOUNS)}_{n}"
        made.append(table)
        cols = "".join(f"    {c} {t},\n" for c, t in rng.sample(
            [("title", "TEXT NOT NULL DEFAULT ''"), ("body", "TEXT"), ("position", "INTEGER NOT NULL DEFAULT 0"),
             ("archived", "BOOLEAN NOT NULL DEFAULT false"), ("payload", "JSONB NOT NULL DEFAULT '{}'"),
             ("due_at", "TIMESTAMPTZ"), ("owner_id", 'UUID REFERENCES "user" (id) ON DELETE SET NULL')], 3))
        up = (f"CREATE TABLE {table} (\n    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),\n"
              f"    workspace_id UUID NOT NULL REFERENCES workspace (id) ON DELETE CASCADE,\n{cols}"
              f"    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()\n);\n\n"
              f"CREATE INDEX idx_{table}_workspace ON {table} (workspace_id);\n")
        return f"create_{table.removeprefix('app_')}", up, f"DROP TABLE IF EXISTS {table};\n"
    table = rng.choice(made)
    if kind == "index":
        return (f"index_{table}_created", f"CREATE INDEX idx_{n}_{table}_created ON {table} (created_at DESC);\n",
                f"DROP INDEX IF EXISTS idx_{n}_{table}_created;\n")
    if kind == "column":
        return (f"{table}_add_note_{n}", f"ALTER TABLE {table} ADD COLUMN note_{n} TEXT;\n",
                f"ALTER TABLE {table} DROP COLUMN IF EXISTS note_{n};\n")
    if kind == "comment":
        return (f"comment_{table}", f"COMMENT ON TABLE {table} IS 'Owned by the product team (revision {n}).';\n",
                f"COMMENT ON TABLE {table} IS NULL;\n")
    if kind == "view":
        return (f"view_{table}_recent", f"CREATE VIEW v_{n}_{table}_recent AS\n    SELECT id, workspace_id, "
                f"created_at FROM {table} WHERE created_at > '2020-01-01'::timestamptz;\n",
                f"DROP VIEW IF EXISTS v_{n}_{table}_recent;\n")
    return (f"function_{table}_count", f"CREATE FUNCTION f_{n}_{table}_count(p_workspace UUID) RETURNS BIGINT\n"
            f"LANGUAGE sql STABLE AS $$ SELECT count(*) FROM {table} WHERE workspace_id = p_workspace $$;\n",
            f"DROP FUNCTION IF EXISTS f_{n}_{table}_count(UUID);\n")


def files() -> dict[str, str]:
    """File name -> text, for the whole chain."""
    special: dict[int, tuple[str, str, str]] = {n: (name, up, down) for n, name, up, down in base_parts()}
    special[47] = ("search_pg_bigm", BIGM, "DROP INDEX IF EXISTS idx_issue_title_bigm;\n")
    special[163] = ("notification_purge_pg_cron", CRON, "DROP TABLE IF EXISTS app_notification_ts;\n")
    for ref in sorted(REFERENCE.glob("10[0-4]_*.up.sql")):
        version = ref.name.removesuffix(".up.sql")
        number, name = version.split("_", 1)
        down = ref.with_name(version + ".down.sql").read_text()
        special[int(number)] = (name, ref.read_text(), down)
    special[COST] = ("task_usage_cost", COST_HEAD + cost_window(), COST_DOWN)
    rng, made, out = random.Random(35), [], {}
    for n in range(1, TOTAL + 1):
        name, up, down = special[n] if n in special else filler(n, rng, made)
        name = re.sub(r"[^a-z0-9_]", "_", name)
        out[f"{n:03d}_{name}.up.sql"] = up
        out[f"{n:03d}_{name}.down.sql"] = down
    return out


def main(argv: list[str]) -> int:
    want = files()
    if "--check" in argv:
        have = {p.name: p.read_text() for p in OUT.glob("*.sql")}
        differ = sorted(set(want) ^ set(have) | {k for k in want if have.get(k) != want[k]})
        for name in differ[:10]:
            print(f"differs: {name}")
        return 1 if differ else 0
    OUT.mkdir(parents=True, exist_ok=True)
    for p in OUT.glob("*.sql"):
        if p.name not in want:
            p.unlink()
    for name, text in want.items():
        (OUT / name).write_text(text)
    print(f"wrote {len(want)} files to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
