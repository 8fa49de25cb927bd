"""Load benchmarks of the registry against a bare Flask endpoint (not tests): see bench/README.md."""
