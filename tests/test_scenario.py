"""bench.workload.scenario: parsing, defaults, one-line errors at the right line, expectations, view zones, digest."""

from __future__ import annotations

import pickle
import textwrap
from datetime import UTC, datetime, timedelta

import pytest

from bench.workload import scenario as sc
from bench.workload import schema
from bench.workload.scenario import Expectation, ScenarioError, load, loads

MINIMAL = '[scenario]\nname = "x"\n'
X = "[scenario]\nname = 'x'\n"  # lines 1-2 of most error cases

FULL = textwrap.dedent("""\
    [scenario]
    name = "full"
    description = "every key"
    seed = 7
    start = 2026-06-01T09:30:00+05:30
    duration = "1d12h"

    [tenants]
    workspaces = 4
    users = 3
    runtimes = 5
    agents = 6
    projects = 0
    issues = 20
    zones = ["Asia/Kathmandu", "UTC"]
    cross_workspace_issues = 0.25

    [rates]
    tasks_per_hour = 2.5
    diurnal = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1,
               1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    usage_rows_per_task = [2, 2]
    reports_per_row = [1, 20]
    chat_share = 0
    backdated_share = 0.5
    backdated_max = "90s"
    bursts_per_day = 0
    burst_factor = 1
    burst_length = "5m"

    [rates.providers]
    openai = 1
    mistral = 2.5

    [rates.models]
    mistral = ["mistral-large"]

    [rates.tokens]
    input_median = 10
    input_sigma = 0
    output_median = 20
    output_sigma = 0.5
    cache_share = 1
    cache_read_ratio = 0

    [operations]
    per_hour = 3
    breakers = true

    [operations.weights]
    delete_agent = 4
    update_no_bump = 1.5

    [pipeline]
    tick_every = "1m"
    scheduler = true
    replicas = 16
    check_every = "1m"
    sessions = 32

    [zones]
    view = ["Pacific/Chatham"]
    random = 3
    report_days = 365

    [expect.reference]
    hour_drift = "some"
    report_drift = "some"
    representation_error = "non_whole_hour_only"

    [expect.default]
    representation_error = "none"
    """)


def error(text: str, source: str = "s.toml") -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        loads(text, source)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{source}:")
    return caught.value


def test_full_file_round_trips():
    s = loads(FULL, "full.toml")
    assert (s.name, s.description, s.seed, s.source) == ("full", "every key", 7, "full.toml")
    assert s.start == datetime(2026, 6, 1, 4, 0, tzinfo=UTC) and s.start.tzinfo is UTC
    assert s.duration == timedelta(days=1, hours=12)
    assert s.tenants == sc.Tenants(4, 3, 5, 6, 0, 20, ("Asia/Kathmandu", "UTC"), 0.25)
    r = s.rates
    assert r.tasks_per_hour == 2.5 and r.diurnal == (0.0,) * 6 + (1.0,) * 12 + (0.0,) * 6
    assert (r.usage_rows_per_task, r.reports_per_row) == ((2, 2), (1, 20))
    assert (r.chat_share, r.backdated_share, r.backdated_max) == (0.0, 0.5, timedelta(seconds=90))
    assert (r.bursts_per_day, r.burst_factor, r.burst_length) == (0.0, 1.0, timedelta(minutes=5))
    assert r.providers == {"mistral": 2.5, "openai": 1.0}
    assert r.models == {"mistral": ("mistral-large",), "openai": ("gpt-5", "gpt-5-mini")}
    assert r.tokens == sc.Tokens(10, 0.0, 20, 0.5, 1.0, 0.0)
    assert isinstance(r.tokens.input_sigma, float) and isinstance(r.chat_share, float)
    o = s.operations
    assert (o.per_hour, o.breakers) == (3.0, True)
    assert set(o.weights) == set(sc.OPS) | set(sc.BREAKERS)
    assert o.weights["delete_agent"] == 4 and o.weights["update_no_bump"] == 1.5
    assert o.weights["reassign_runtime"] == 2 and o.weights["change_agent"] == 0
    assert s.pipeline == sc.PipelineSettings(timedelta(minutes=1), True, 16, timedelta(minutes=1), 32)
    assert s.zones == sc.Views(("Pacific/Chatham",), 3, 365)
    assert s.expectation("reference") == Expectation("some", "some", "non_whole_hour_only")


def test_defaults():
    s = loads(MINIMAL)
    assert s == sc.Scenario(name="x")
    assert s.seed == 1 and s.start == datetime(2026, 3, 2, tzinfo=UTC) and s.duration == timedelta(days=1)
    assert s.tenants.zones == ("America/Los_Angeles", "Europe/Berlin", "Asia/Kolkata", "Asia/Tokyo")
    assert s.rates.diurnal == "office" and s.rates.providers == {"anthropic": 0.6, "openai": 0.3, "google": 0.1}
    assert s.rates.models["google"] == ("gemini-2.5-pro",)
    assert s.operations.weights == {
        "delete_usage": 1, "delete_task": 1, "delete_issue": 0.5, "delete_agent": 0, "delete_runtime": 0.2,
        "delete_project": 0.2, "delete_workspace": 0, "reassign_runtime": 2, "link_issue": 2,
        "change_issue_project": 2, "change_agent": 0, "change_usage_key": 0, "update_no_bump": 0, "move_usage": 0,
    }  # fmt: skip
    assert s.pipeline.tick_every == timedelta(minutes=5) and s.pipeline.check_every == timedelta(days=1)
    assert s.zones.view == ("UTC", "America/Los_Angeles", "Asia/Kolkata") and s.zones.report_days == 30
    assert s.expect == {} and s.expectation("reference") == Expectation("none", "none", "any")


def test_hourly_profile_keeps_the_daily_mean():
    for text in (MINIMAL, MINIMAL + '[rates]\ndiurnal = "flat"\n', FULL):
        profile = loads(text).rates.hourly_profile()
        assert len(profile) == 24 and sum(profile) == pytest.approx(24)


def test_load_reads_a_file(tmp_path):
    path = tmp_path / "one.toml"
    path.write_text(FULL)
    assert load(path) == loads(FULL) and load(path).source == str(path)
    missing = tmp_path / "none.toml"
    with pytest.raises(ScenarioError, match=r"none\.toml: file: cannot read"):
        load(missing)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # unknown keys, at every level
        (X + "\n[tenants]\nworkspaces = 3\n\nwrkspaces = 4\n", ":7: tenants.wrkspaces: unknown key; expected one"),
        ("[scenario]\nnme = 'x'\n", ":2: scenario.nme: unknown key; expected one of description,"),
        (X + "[pipelines]\n", ":3: pipelines: unknown key; expected one of cover, expect, faults, operations,"),
        (X + "[rates.tokens]\ncache = 1\n", ":4: rates.tokens.cache: unknown key"),
        (X + "[operations.weights]\nfoo_delete = 1\n", ":4: operations.weights.foo_delete: unknown key"),
        (X + "[expect.hardened]\nhour_drift = 'none'\ndrift = 'x'\n", ":5: expect.hardened.drift: unknown key"),
        (X + "[expect.refrence]\n", ":3: expect.refrence: unknown target; expected one of default, hardened,"),
        # TOML syntax, at the line tomllib reports
        (X + "seed = = 3\n", ":3: syntax: Invalid value (column 8)"),
        (X + "name = 'y'\n", ":3: syntax: Cannot overwrite a value"),
        # missing, wrong type
        ("[scenario]\ndescription = 'x'\n", ":1: scenario.name: required"),
        ("[scenario]\nname = '  '\n", ":2: scenario.name: must not be empty"),
        (X + "seed = 1.5\n", ":3: scenario.seed: expected integer, got float"),
        (X + "[pipeline]\nscheduler = 'yes'\n", ":4: pipeline.scheduler: expected boolean, got string"),
        (X + "[tenants]\nusers = true\n", ":4: tenants.users: expected integer, got boolean"),
        (X + "start = 2026-03-02\n", ":3: scenario.start: expected offset datetime, got date"),
        (X + "start = 2026-03-02T00:00:00\n", ":3: scenario.start: needs a UTC offset"),
        ("tenants = 3\n[scenario]\nname = 'x'\n", ":1: tenants: expected a table, got integer"),
        (X + "[rates]\nusage_rows_per_task = [1, 2.0]\n", ":4: rates.usage_rows_per_task: expected [min, max] of two"),
        # out of range
        (X + "seed = -1\n", ":3: scenario.seed: -1 out of range; must be >= 0"),
        (X + "[tenants]\nworkspaces = 1001\n", ":4: tenants.workspaces: 1001 out of range; must be >= 1 and <= 1000"),
        (X + "[rates]\ntasks_per_hour = 0\n", ":4: rates.tasks_per_hour: 0.0 out of range; must be > 0"),
        (X + "[rates]\nchat_share = 1.5\n", ":4: rates.chat_share: 1.5 out of range"),
        (X + "[rates]\nreports_per_row = [3, 2]\n", ":4: rates.reports_per_row: [3, 2] out of range; need 1 <="),
        (X + "[rates]\ndiurnal = [1, 2]\n", ":4: rates.diurnal: a list must hold 24"),
        (X + "[rates]\ndiurnal = 'night'\n", ":4: rates.diurnal: 'night' is not one of flat, office"),
        (X + "[zones]\nrandom = 65\n", ":4: zones.random: 65 out of range"),
        (X + "[expect.default]\nhour_drift = 'lots'\n", ":4: expect.default.hour_drift: 'lots' is not one of none,"),
        # durations
        (X + "duration = '1x'\n", ":3: scenario.duration: bad duration '1x'"),
        (X + "duration = '12h1d'\n", ":3: scenario.duration: bad duration"),
        (X + "duration = '0s'\n", ":3: scenario.duration: '0s' out of range; must be > 0s"),
        (X + "duration = '401d'\n", ":3: scenario.duration: '401d' out of range; must be > 0s and <= 400d"),
        (X + "[pipeline]\ntick_every = '30s'\n", ":4: pipeline.tick_every: '30s' out of range; must be >= 1m and"),
        (X + "[pipeline]\ntick_every = '1h'\ncheck_every = '30m'\n", ":5: pipeline.check_every: '30m' out of range;"),
        # zones
        (X + "[zones]\nview = [\n  'UTC',\n  'Mars/Olympus',\n]\n", ":4: zones.view: unknown IANA zone"),
        (X + "[tenants]\nzones = ['Local']\n", ":4: tenants.zones: unknown IANA zone 'Local'"),
        (X + "[zones]\nview = ['UTC', 'UTC']\n", ":4: zones.view: duplicate entries"),
        # providers and models
        (X + "[rates.providers]\nmistral = 1\n", ":4: rates.providers.mistral: provider 'mistral' has weight 1.0"),
        (X + "[rates.models]\nmistral = ['m']\n", ":4: rates.models.mistral: unknown key; expected one of anthropic,"),
        (X + "[rates.models]\nopenai = []\n", ":4: rates.models.openai: provider 'openai' has weight 0.3"),
        (X + "[rates.providers]\nopenai = 0\n", ":3: rates.providers: needs at least one provider"),
    ],
)  # fmt: skip
def test_errors_name_file_line_and_key(text, expected):
    assert str(error(text)).startswith(f"s.toml{expected}")


def test_error_fields_and_no_line():
    e = error(X + "[tenants]\nzones = []\n")
    assert (e.file, e.key, e.line) == ("s.toml", "tenants.zones", 4)
    e = error(X + "[pipeline]\ntick_every = '1h'\ncheck_every = '30m'\n")
    assert e.message == "'30m' out of range; must be >= tick_every = 1h"
    # with no line to point at, the message drops it
    e = ScenarioError("f.toml", "k", None, "bad\nthing")
    assert str(e) == "f.toml: k: bad thing"
    assert str(pickle.loads(pickle.dumps(e))) == str(e)


def test_dotted_keys_and_inline_tables_are_located():
    assert error(X + "[rates]\nchat_share = 0.1\ntokens.input_median = 0\n").line == 5
    assert error(X + "[operations]\nweights = { delete_task = 1, x = 2 }\n").line == 4
    assert error("scenario.name = 'x'\nscenario.seed = -3\n").line == 2
    # every key of a full file, after multi-line arrays and sub-tables, is found on its own line
    lines = FULL.splitlines()
    for key, bad in [("sessions", "33"), ("report_days", "0"), ("cache_read_ratio", "-1"), ("burst_length", "'x'")]:
        number = next(i for i, line in enumerate(lines, 1) if line.startswith(f"{key} ="))
        broken = "\n".join(f"{key} = {bad}" if i == number else line for i, line in enumerate(lines, 1))
        assert error(broken).line == number, key
    # an unclosed value is reported at the end of the document
    assert error(X + "[tenants]\nzones = ['UTC',\n").line == 4
    # a "key = value" inside a multi-line string is text, not a key
    text = "[scenario]\nname = 'x'\ndescription = '''\nseed = 1\n'''\nseed = -1\n"
    assert error(text).line == 6


def test_breakers_need_the_flag():
    text = "[scenario]\nname = 'x'\n\n[operations]\nper_hour = 2\n\n[operations.weights]\nchange_usage_key = 1\n"
    e = error(text)
    assert e.line == 8 and e.key == "operations.weights.change_usage_key" and "breakers = true" in e.message
    allowed = loads(text.replace("per_hour = 2", "per_hour = 2\nbreakers = true"))
    assert allowed.operations.weights["change_usage_key"] == 1
    assert loads(text.replace("= 1", "= 0")).operations.weights["change_usage_key"] == 0


def test_former_weight_names_are_accepted_with_a_warning_and_change_nothing():
    new = X + "[operations]\nbreakers = true\n[operations.weights]\nlink_issue = 3\nchange_agent = 1\n"
    old = new.replace("link_issue", "link_chat_task").replace("change_agent", "agent_change")
    with pytest.warns(sc.ScenarioWarning) as caught:
        renamed = loads(old, source="old.toml")
    assert [str(w.message) for w in caught] == [
        "old.toml:6: operations.weights.link_chat_task: deprecated name; say link_issue",
        "old.toml:7: operations.weights.agent_change: deprecated name; say change_agent"]
    assert renamed == loads(new, source="old.toml") and renamed.digest() == loads(new).digest()
    both = error(new + "link_chat_task = 1\n")
    assert both.key == "operations.weights.link_chat_task" and "given too" in both.message
    with pytest.warns(sc.ScenarioWarning):
        e = error(old.replace("breakers = true\n", ""))  # an error names the key as the file says it
    assert e.key == "operations.weights.agent_change" and e.line == 6


def test_digests_render_weights_under_their_first_names():
    """Digests (and so histories) recorded before the one vocabulary stay what they were; a kind added since
    leaves them alone at its default."""
    s = loads(MINIMAL)
    assert s.digest() == loads(MINIMAL + "[operations.weights]\nmove_usage = 0\n").digest()
    assert s.digest() != loads(MINIMAL + "[operations]\nbreakers = true\n[operations.weights]\nmove_usage = 1\n").digest()


def test_expectation_falls_back_target_then_default_then_builtin():
    s = loads(FULL)
    assert s.expectation("reference").hour_drift == "some"
    assert s.expectation("hardened") == Expectation(representation_error="none")  # from [expect.default]
    assert s.expectation("some/other/dir") == Expectation(representation_error="none")
    bare = loads(MINIMAL + "[expect.hardened]\nreport_drift = 'some'\n")
    assert bare.expectation("hardened").report_drift == "some"
    assert bare.expectation("reference") == Expectation()


def test_view_zones_deterministic_per_seed():
    text = MINIMAL + "seed = {seed}\n[zones]\nview = ['UTC']\nrandom = 4\n"
    one = loads(text.format(seed=1)).view_zones()
    assert one == loads(text.format(seed=1)).view_zones()
    assert one[0] == "UTC" and len(set(one)) == 5
    assert one != loads(text.format(seed=2)).view_zones()
    assert loads(MINIMAL).view_zones() == ["UTC", "America/Los_Angeles", "Asia/Kolkata"]


def test_digest_stable_and_sensitive():
    base = loads(MINIMAL).digest()
    assert len(base) == 64 and base == loads(MINIMAL, "elsewhere.toml").digest()
    # spelling out defaults (or reordering a table) names the same scenario
    spelled = "seed = 1\nduration = '24h'\n[rates.providers]\nopenai = 0.3\ngoogle = 0.1\nanthropic = 0.6\n"
    assert loads(MINIMAL + spelled).digest() == base
    assert loads(MINIMAL + "seed = 2\n").digest() != base
    assert loads(MINIMAL + "[expect.reference]\nhour_drift = 'some'\n").digest() != base
    assert loads(FULL).digest() == loads(FULL).digest() != base


@pytest.mark.parametrize(
    ("text", "value"),
    [("90s", timedelta(seconds=90)), ("5m", timedelta(minutes=5)), ("2h", timedelta(hours=2)),
     ("14d", timedelta(days=14)), ("1d12h", timedelta(days=1, hours=12)), ("1h30m15s", timedelta(seconds=5415))],
)  # fmt: skip
def test_durations(text, value):
    assert schema.format_duration(timedelta(days=1, hours=12)) == "1d12h" and schema.format_duration(timedelta(0)) == "0s"
    assert schema.parse_duration(text) == value
    assert schema.parse_duration(schema.format_duration(value)) == value
    for bad in ("", "5", "m", "1.5h", "-1m", "5 m", "1m2h"):
        with pytest.raises(ValueError):
            schema.parse_duration(bad)
