"""How a command travels in Sparkplug, for both ends (the host's bridge and the edge node).

The host sends a DCMD to ``spBv1.0/{group}/DCMD/{edge}/{device}`` whose metrics are
``Command/<name>/<param>`` (one per parameter, typed) and ``Command/<name>/CorrelationId`` (String). The edge
node answers in Sparkplug, not on a platform topic (it does not know the organization): a DDATA of the same
device with ``Command/<name>/CorrelationId`` and ``Command/<name>/Result`` = ``ok`` or ``failed: <why>``;
both metrics are declared in the device's DBIRTH, so the DDATA carries them by alias.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from iot_bridge.sparkplug.codec import Metric

COMMAND_PREFIX = "Command/"
CORRELATION = "CorrelationId"
RESULT = "Result"
RESULT_OK = "ok"
RESULT_FAILED = "failed: "


def command_metric(command: str, part: str) -> str:
    """``Command/<command>/<parameter | CorrelationId | Result>``."""
    return f"{COMMAND_PREFIX}{command}/{part}"


def failed(reason: str) -> str:
    return f"{RESULT_FAILED}{reason}"


@dataclass
class CommandMetrics:
    """One command's metrics found in a DCMD or DDATA payload."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    correlation_id: str = ""
    result: str | None = None

    @property
    def ok(self) -> bool:
        return self.result == RESULT_OK

    @property
    def detail(self) -> str:
        """The failure reason (empty when it succeeded)."""
        return "" if self.result is None or self.ok else self.result.removeprefix(RESULT_FAILED)


def commands_in(metrics: Iterable[Metric]) -> list[CommandMetrics]:
    """Each command named by ``Command/<name>/…`` metrics, with its parameters, correlation id and result."""
    found: dict[str, CommandMetrics] = {}
    for metric in metrics:
        if metric.name is None or not metric.name.startswith(COMMAND_PREFIX) or metric.is_null:
            continue
        name, _, part = metric.name.removeprefix(COMMAND_PREFIX).partition("/")
        if not name or not part:
            continue
        command = found.setdefault(name, CommandMetrics(name))
        if part == CORRELATION:
            command.correlation_id = str(metric.value)
        elif part == RESULT:
            command.result = str(metric.value)
        else:
            command.params[part] = metric.value
    return list(found.values())
