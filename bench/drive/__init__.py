"""Doing it: the runner, client, loader and nemesis apply operations to a real PostgreSQL in simulated time, and
the history and snapshots record what was done and what the database held at each check."""
