"""Gunicorn settings for ``tradeloom serve``: JSON logs like the app's, and /metrics right when a worker exits."""

from typing import Any

from prometheus_client import multiprocess

# Seconds an idle keep-alive connection stays open (uvicorn's worker takes gunicorn's setting). Gunicorn's
# default of 2 s is shorter than the pause of a client between requests, so a client reusing its connection
# met one the server was closing: "connection reset" under the Locust mix (BENCHMARKS.md). Behind a load
# balancer it must outlast the balancer's idle timeout (60 s for most), or the balancer answers 502.
keepalive = 75

logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "tradeloom.observability.JsonFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        "gunicorn.access": {"level": "WARNING", "handlers": ["stderr"], "propagate": False},
        "uvicorn.access": {"level": "WARNING", "handlers": ["stderr"], "propagate": False},
    },
}


def child_exit(server: Any, worker: Any) -> None:
    multiprocess.mark_process_dead(worker.pid)
