"""Which RQ jobs consume which outbox topics. Domains subscribe at composition time (app/cli)."""

from dataclasses import dataclass
from fnmatch import fnmatchcase


@dataclass(frozen=True)
class Subscription:
    pattern: str  # fnmatch pattern over topics, e.g. "order.*"
    job: str  # dotted path of an RQ job taking one argument: the event dict
    queue: str = "default"


_subscriptions: list[Subscription] = []


def subscribe(pattern: str, job: str, queue: str = "default") -> None:
    """Deliver events whose topic matches ``pattern`` to ``job`` (idempotent: subscribing twice is once)."""
    subscription = Subscription(pattern, job, queue)
    if subscription not in _subscriptions:
        _subscriptions.append(subscription)


def unsubscribe(pattern: str, job: str, queue: str = "default") -> None:
    _subscriptions.remove(Subscription(pattern, job, queue))


def subscribers_of(topic: str) -> list[Subscription]:
    return [s for s in _subscriptions if fnmatchcase(topic, s.pattern)]
