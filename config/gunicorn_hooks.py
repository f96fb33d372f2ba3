"""What config/gunicorn.py hooks in for operations (issue 17, item 5).

- `QuietProbesLogger`: the access log leaves out the probes (/healthz, /readyz) and the scrapes
  (/metrics): every few seconds from the balancer and Prometheus, they would bury the requests.
- `child_exit`: in prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR), a dead
  worker's live gauges are dropped from the sum (its counters and histograms are kept).
"""

import os

from gunicorn.glogging import Logger

QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class QuietProbesLogger(Logger):
    def access(self, resp, req, environ, request_time):
        if environ.get("PATH_INFO") in QUIET_PATHS:
            return
        super().access(resp, req, environ, request_time)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
