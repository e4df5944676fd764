"""A device behind a Sparkplug edge node: its aliases, last values and metrics, and how it runs a command."""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from iot_bridge.device_types import CommandSpec, DeviceTypeSpec
from iot_bridge.edge.preprocess import Reading
from iot_bridge.sparkplug import DataType, Metric
from iot_bridge.sparkplug.commands import CORRELATION, RESULT, RESULT_OK, CommandMetrics, command_metric, failed

Executor = Callable[[CommandSpec, dict[str, Any]], Awaitable[None]]


class CommandFailed(Exception):
    """A device could not carry out a command; the message goes back to the host as the result."""


@dataclass
class EdgeDevice:
    device_id: str
    spec: DeviceTypeSpec
    executor: Executor
    aliases: dict[str, int]  # metric name → alias (unique within the edge node)
    data_topic: str
    values: dict[str, Reading] = field(default_factory=dict)  # telemetry key → last value, for births
    online: bool = False

    def birth_metrics(self, timestamp: int) -> tuple[Metric, ...]:
        telemetry = tuple(
            Metric(name=t.metric, alias=self.aliases[t.metric], datatype=t.type.sparkplug_datatype,
                   value=self.values.get(t.key), timestamp=timestamp)
            for t in self.spec.telemetry
        )
        commands = tuple(
            Metric(name=command_metric(c.name, part), alias=self.aliases[command_metric(c.name, part)],
                   datatype=DataType.STRING, value="", timestamp=timestamp)
            for c in self.spec.commands for part in (CORRELATION, RESULT)
        )
        return telemetry + commands

    def data_metrics(self, readings: Mapping[str, Reading], timestamp: int) -> tuple[Metric, ...]:
        metrics = []
        for key, value in readings.items():
            spec = self.spec.telemetry_key(key)
            if spec is not None:
                metrics.append(Metric(name=spec.metric, datatype=spec.type.sparkplug_datatype, value=value,
                                      timestamp=timestamp))
        return tuple(metrics)

    def result_metrics(self, command: str, correlation: str, result: str, timestamp: int) -> tuple[Metric, ...]:
        """A command's correlation id and result, as the DDATA that reports them carries them."""
        return tuple(
            Metric(name=command_metric(command, part), datatype=DataType.STRING, value=value, timestamp=timestamp)
            for part, value in ((CORRELATION, correlation), (RESULT, result))
            if command_metric(command, part) in self.aliases
        )

    async def execute(self, command: CommandMetrics) -> str:
        """Check the parameters against the type's command and hand it to the executor; the result text."""
        spec = self.spec.command(command.name)
        try:
            if spec is None:
                raise CommandFailed(f"unknown command {command.name!r}")
            problems = spec.check_params(command.params)
            if problems:
                raise CommandFailed("; ".join(problems))
            await self.executor(spec, command.params)
        except CommandFailed as exc:
            return failed(str(exc))
        return RESULT_OK
