-- 114: the window runs without JIT. It is one large statement whose estimated cost grows with the history (1M
-- usage rows put it past jit_above_cost, 10M past the optimisation and inlining thresholds too), while what a tick
-- reads is a few index ranges. On a server built with LLVM (the PostgreSQL 15 the bench runs beside the embedded
-- 18, which has none), every tick compiled about 190 functions before doing anything: an idle tick at 1M rows
-- took 0.3-0.4 s, at 10M 1.3-2.5 s, against about 5 ms with JIT off. The setting is the function's own (the tick
-- and the backfill both run the window through it); the server's stays as it is for everything else.
ALTER FUNCTION rollup_task_usage_hourly_window(TIMESTAMPTZ, TIMESTAMPTZ, PG_SNAPSHOT) SET jit = off;
