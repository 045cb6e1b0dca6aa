"""The application's writes, as the upstream server issues them (pipeline.md §1).

Entities satisfy every required column and unique constraint of the upstream schema, so the same writes run on
upstream-shaped targets. Usage is written with the application's upsert: one row per (task, provider, model),
counters overwritten (replace, not add), `updated_at = now()` — the writer's transaction start.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import psycopg


def _one(conn: psycopg.Connection, query: str, params: tuple) -> UUID:
    return conn.execute(query, params).fetchone()[0]


def _tag() -> str:
    return secrets.token_hex(4)


def create_workspace(conn, name: str | None = None, slug: str | None = None) -> UUID:
    tag = _tag()
    return _one(conn, "INSERT INTO workspace (name, slug) VALUES (%s, %s) RETURNING id",
                (name or f"Workspace {tag}", slug or f"ws-{tag}"))


def create_user(conn, name: str | None = None, email: str | None = None, timezone: str | None = None) -> UUID:
    tag = _tag()
    return _one(conn, 'INSERT INTO "user" (name, email, timezone) VALUES (%s, %s, %s) RETURNING id',
                (name or f"User {tag}", email or f"user-{tag}@example.com", timezone))


def create_runtime(conn, workspace_id: UUID, name: str | None = None, provider: str = "claude",
                   runtime_mode: str = "local", daemon_id: str | None = None) -> UUID:
    return _one(conn, "INSERT INTO agent_runtime (workspace_id, name, runtime_mode, provider, daemon_id)"
                      " VALUES (%s, %s, %s, %s, %s) RETURNING id",
                (workspace_id, name or f"runtime-{_tag()}", runtime_mode, provider, daemon_id))


def create_agent(conn, workspace_id: UUID, runtime_id: UUID, name: str | None = None,
                 runtime_mode: str = "local") -> UUID:
    return _one(conn, "INSERT INTO agent (workspace_id, name, runtime_mode, runtime_id)"
                      " VALUES (%s, %s, %s, %s) RETURNING id",
                (workspace_id, name or f"agent-{_tag()}", runtime_mode, runtime_id))


def create_project(conn, workspace_id: UUID, title: str | None = None) -> UUID:
    return _one(conn, "INSERT INTO project (workspace_id, title) VALUES (%s, %s) RETURNING id",
                (workspace_id, title or f"Project {_tag()}"))


def create_issue(conn, workspace_id: UUID, creator_id: UUID, project_id: UUID | None = None,
                 title: str | None = None, creator_type: str = "member") -> UUID:
    # Numbers are unique per workspace; the application assigns the next one.
    return _one(conn, "INSERT INTO issue (workspace_id, title, creator_type, creator_id, project_id, number)"
                      " SELECT %s, %s, %s, %s, %s, coalesce(max(number), 0) + 1 FROM issue WHERE workspace_id = %s"
                      " RETURNING id",
                (workspace_id, title or f"Issue {_tag()}", creator_type, creator_id, project_id, workspace_id))


def create_task(conn, agent_id: UUID, runtime_id: UUID | None, issue_id: UUID | None = None,
                status: str = "completed") -> UUID:
    return _one(conn, "INSERT INTO agent_task_queue (agent_id, runtime_id, issue_id, status)"
                      " VALUES (%s, %s, %s, %s) RETURNING id", (agent_id, runtime_id, issue_id, status))


UPSERT_USAGE = """
INSERT INTO task_usage AS u (task_id, provider, model, input_tokens, output_tokens, cache_read_tokens,
                             cache_write_tokens, created_at, updated_at)
VALUES (%(task_id)s, lower(%(provider)s), %(model)s, %(input)s, %(output)s, %(cache_read)s, %(cache_write)s,
        coalesce(%(created_at)s, now()), now())
ON CONFLICT (task_id, provider, model) DO UPDATE
   SET input_tokens = EXCLUDED.input_tokens, output_tokens = EXCLUDED.output_tokens,
       cache_read_tokens = EXCLUDED.cache_read_tokens, cache_write_tokens = EXCLUDED.cache_write_tokens,
       updated_at = now()
"""


def upsert_usage_sql(columns: tuple = ()) -> str:
    """The upsert, writing also the target's declared raw columns (rollup.measures.Column), overwritten like the
    counters; exactly UPSERT_USAGE for a chain that declares none."""
    if not columns:
        return UPSERT_USAGE
    names = "".join(f", {c.name}" for c in columns)
    values = "".join(f", %({c.name})s::{c.sql_type}" for c in columns)
    sets = "".join(f", {c.name} = EXCLUDED.{c.name}" for c in columns)
    text = (UPSERT_USAGE.replace("created_at, updated_at)", f"created_at, updated_at{names})")
            .replace("coalesce(%(created_at)s, now()), now())", f"coalesce(%(created_at)s, now()), now(){values})")
            .replace("updated_at = now()\n", f"updated_at = now(){sets}\n"))
    assert text.count(f"EXCLUDED.{columns[-1].name}") == 1 and text.count(columns[-1].name) == 4, text
    return text


@dataclass(frozen=True)
class Usage:
    """One usage report of the application: a task's tokens of a provider's model; `created_at` only for
    backdated rows (default: now())."""

    task_id: UUID
    provider: str
    model: str
    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0
    created_at: datetime | None = None


def upsert_usage(conn, usage: Usage) -> None:
    """The application's usage report."""
    u = usage
    conn.execute(UPSERT_USAGE, {"task_id": u.task_id, "provider": u.provider, "model": u.model, "input": u.input,
                                "output": u.output, "cache_read": u.cache_read, "cache_write": u.cache_write,
                                "created_at": u.created_at})
