"""Corridor's development tooling: the harness, the offline demo, the sandbox, the stories
and the update fuzzer. None of it ships in the production package."""
