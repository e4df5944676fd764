"""Gunicorn hooks for ``tradeloom serve``: keep /metrics right when a worker exits."""

from typing import Any

from prometheus_client import multiprocess


def child_exit(server: Any, worker: Any) -> None:
    multiprocess.mark_process_dead(worker.pid)
