"""`python -m apps.devtools.bench` (what `make bench` runs): PostgreSQL and Redis up, a fresh
`healthkit_bench` database (kept with `--keep-db` when it already holds the population), migrated
and with the areas loaded, then `manage.py bench` on it. Arguments after the options go to
`manage.py bench`."""

import argparse
import os
import subprocess
import sys

from apps.devtools.bench import infra


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m apps.devtools.bench")
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--keep-db", action="store_true", help="reuse the benchmark database when it exists")
    parser.add_argument("--database", default=infra.BENCH_DB)
    options, rest = parser.parse_known_args(argv)

    infra.postgres_ensure()
    infra.redis_ensure()
    url = infra.database_url(options.database)
    if options.keep_db and infra.database_exists(options.database):
        infra.log(f"reusing database {options.database}")
    else:
        infra.log(f"creating database {options.database}")
        infra.database_recreate(options.database)
    env = dict(os.environ, DATABASE_URL=url, DEBUG="False", LOG_LEVEL="WARNING")
    env.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
    env.pop("CELERY_BROKER_URL", None)  # the bench process runs tasks eagerly; servers get the broker
    for name in ("DATABASE_OWNER_URL", "DATABASE_APP_ROLE"):  # one (superuser) role owns and uses it
        env.pop(name, None)
    manage = [sys.executable, str(infra.ROOT / "manage.py")]
    for step in (["migrate", "--noinput", "-v", "0"], ["load_areas"]):
        subprocess.run(manage + step, env=env, cwd=infra.ROOT, check=True, stdout=subprocess.DEVNULL)
    command = manage + ["bench", "--persons", str(options.persons)] + (["--smoke"] if options.smoke else []) + rest
    return subprocess.run(command, env=env, cwd=infra.ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
