"""What exercises and judges a rollup target: scenarios, generator, client, nemesis, oracle, checker, CLI."""
