"""The machinery a benchmark needs around Django: PostgreSQL and Redis up (started the way
`.ci/run` starts them when they are down), a database of its own, a gunicorn server and a Celery
worker as subprocesses. Nothing here imports Django models: `__main__` runs it before Django is
set up."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PG_HOST, PG_PORT = "127.0.0.1", 5432
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
BENCH_DB = "healthkit_bench"
# The Redis database the servers and workers of a run share (BENCH_REDIS_DB, default 14): two runs
# at once on one machine each need their own, or one's worker takes the other's tasks.
BROKER_DB = int(os.environ.get("BENCH_REDIS_DB", "14"))
BROKER_URL = f"redis://{REDIS_HOST}:{REDIS_PORT}/{BROKER_DB}"


class BenchSetupError(RuntimeError):
    pass


def log(message: str) -> None:
    print(f"==> bench: {message}", file=sys.stderr, flush=True)


def _wait(seconds: float, ok) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ok():
            return True
        time.sleep(0.5)
    return False


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _pg_ready() -> bool:
    if shutil.which("pg_isready"):
        return subprocess.run(["pg_isready", "-h", PG_HOST, "-p", str(PG_PORT)], capture_output=True).returncode == 0
    return _port_open(PG_HOST, PG_PORT)


def postgres_ensure() -> None:
    if _pg_ready():
        return
    log("starting PostgreSQL")
    versions = sorted(os.listdir("/etc/postgresql"), key=lambda v: [int(x) for x in v.split(".") if x.isdigit()])
    if not versions:
        raise BenchSetupError("PostgreSQL is not running and no cluster is configured in /etc/postgresql")
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"], check=False)
    if not _wait(30, _pg_ready):
        raise BenchSetupError(f"PostgreSQL is not accepting connections on {PG_HOST}:{PG_PORT} after 30 s")


def _redis_ping() -> bool:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def redis_ensure() -> None:
    if _redis_ping():
        return
    log("starting Redis")
    if not shutil.which("redis-server"):
        raise BenchSetupError("Redis is not running and redis-server is not installed")
    subprocess.run(
        ["redis-server", "--daemonize", "yes", "--bind", REDIS_HOST, "--port", str(REDIS_PORT), "--save", ""]
        + ["--appendonly", "no"],
        check=False,
    )
    if not _wait(30, _redis_ping):
        raise BenchSetupError(f"Redis is not answering PING on {REDIS_HOST}:{REDIS_PORT} after 30 s")


def redis_flush(db: int = BROKER_DB) -> None:
    with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=5) as s:
        s.sendall(f"SELECT {db}\r\nFLUSHDB\r\n".encode())
        s.recv(64)


def _pg_role() -> str:
    import psycopg

    for role in ("postgres", "root"):
        try:
            with psycopg.connect(host=PG_HOST, port=PG_PORT, user=role, dbname="postgres", connect_timeout=5):
                return role
        except psycopg.OperationalError:
            continue
    raise BenchSetupError("cannot connect to PostgreSQL as role postgres or root (trust authentication expected)")


def database_url(name: str = BENCH_DB) -> str:
    return f"postgres://{_pg_role()}@{PG_HOST}:{PG_PORT}/{name}"


def database_exists(name: str = BENCH_DB) -> bool:
    import psycopg

    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=_pg_role(), dbname="postgres", autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def database_recreate(name: str = BENCH_DB) -> None:
    """Drop (closing its connections) and create the benchmark database."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=_pg_role(), dbname="postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(**extra: str) -> dict:
    """The environment of the server and worker: the benchmark database, debug off, the broker."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DEBUG="False",
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        CELERY_BROKER_URL=BROKER_URL,
        LOG_LEVEL="WARNING",
    )
    # The staff look-ups of `audit_seal` run at a server's pace, not a person's: no budget for the CDC.
    env.setdefault("API_THROTTLE_RATES", '{"cdc_officer": null}')
    env.update(extra)
    return env


class Process:
    """A subprocess in its own process group, stopped (the group) on `stop`."""

    def __init__(self, args: list[str], env: dict, name: str, quiet: bool = False):
        self.name = name
        stdout = subprocess.DEVNULL if quiet else None
        self.proc = subprocess.Popen(args, cwd=ROOT, env=env, start_new_session=True, stdout=stdout)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)  # the main process: a warm shutdown of its children
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


def gunicorn_start(
    *, port: int, workers: int, threads: int, env: dict, token: str, app: str = "config.wsgi:application"
) -> Process:
    """gunicorn serving `app` (the portal; the `status_read` floor serves its raw app the same way)."""
    args = [
        str(Path(sys.executable).with_name("gunicorn")),
        app,
        f"--bind=127.0.0.1:{port}",
        "--worker-class=gthread",
        f"--workers={workers}",
        f"--threads={threads}",
        "--keep-alive=30",
        "--log-level=warning",
        "--backlog=512",
    ]
    server = Process(args, env, "gunicorn")

    def up() -> bool:
        if not server.alive():
            raise BenchSetupError("gunicorn exited while starting")
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/ping/", headers={"Authorization": f"Token {token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    if not _wait(60, up):
        server.stop()
        raise BenchSetupError("gunicorn did not answer /api/v1/ping/ within 60 s")
    return server


def celery_worker_start(
    *, env: dict, concurrency: int, queues: str = "", name: str = "", label: str = "celery"
) -> Process:
    """`celery -A config worker` (prefork), on `queues` (comma-separated; default every queue) and
    with node `name` (default Celery's), its banner kept off the bench's output."""
    args = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool=prefork",
        f"--concurrency={concurrency}",
        *(["-Q", queues] if queues else []),
        *(["-n", name] if name else []),
        "-l",
        "warning",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
    ]
    return Process(args, env, label, quiet=True)  # its banner goes to stdout
