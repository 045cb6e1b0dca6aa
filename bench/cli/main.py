"""`rollup-bench`: the Typer app with every command group registered (the console script's entry point)."""

from importlib import import_module

from bench.cli.common import app

# Each group registers its commands when imported; this order is the order `--help` lists them in.
for group in ("migrate", "runs", "gate", "merge", "diff", "capacity", "mutate"):
    import_module(f"bench.cli.{group}")

if __name__ == "__main__":
    app()
