"""How to run and operate a rollup target: servers, migrations, clock, pipeline, backfill, scheduler, reports."""
