"""Gunicorn settings for ``tradeloom serve``: JSON logs like the app's at ``TRADELOOM_LOG_LEVEL``, and /metrics
right when a worker exits."""

from typing import Any

from prometheus_client import multiprocess

from tradeloom.settings import get_settings

# Seconds an idle keep-alive connection stays open (uvicorn's worker takes gunicorn's setting). Gunicorn's
# default of 2 s is shorter than the pause of a client between requests, so a client reusing its connection
# met one the server was closing: "connection reset" under the Locust mix (BENCHMARKS.md). Behind a load
# balancer it must outlast the balancer's idle timeout (60 s for most), or the balancer answers 502.
keepalive = 75


def logging_config(level: str) -> dict[str, Any]:
    """The workers' logging: everything as JSON on stderr at ``level`` (WARNING silences the access log)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "tradeloom.observability.JsonFormatter"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": ["stderr"], "propagate": False},
            "gunicorn.access": {"level": "WARNING", "handlers": ["stderr"], "propagate": False},
            "uvicorn.access": {"level": "WARNING", "handlers": ["stderr"], "propagate": False},
        },
    }


logconfig_dict = logging_config(get_settings().log_level)


def child_exit(server: Any, worker: Any) -> None:
    multiprocess.mark_process_dead(worker.pid)
