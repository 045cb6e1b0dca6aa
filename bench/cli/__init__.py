"""The command line and what serves it: one module per command group (`main` assembles them), the batch pool,
the project's configuration, CI output and the pytest plugin."""
