"""Orchestration: what a command asks for (runs, batches, a project's configuration) carried out over the roles
(workload → drive → judge), on a process pool or a Dask cluster. The command line (bench/cli) parses and prints;
the pytest plugin and every other caller stand here, never on the CLI."""
