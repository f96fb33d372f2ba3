"""Benchmarks at city scale, measured against a floor (issue 6): `make bench` runs
`python -m apps.devtools.bench`, which prepares PostgreSQL, Redis and a `healthkit_bench` database and
then runs `manage.py bench` (sections in `sections.py`, HTTP load in `load.py`, subprocesses in
`infra.py`, output in `report.py`)."""
