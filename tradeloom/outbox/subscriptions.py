"""Which RQ jobs consume which outbox topics. Domains subscribe at composition time (app/cli)."""

from dataclasses import dataclass
from fnmatch import fnmatchcase


@dataclass(frozen=True)
class Subscription:
    pattern: str  # fnmatch pattern over topics, e.g. "order.*"
    job: str  # dotted path of an RQ job taking the event dict (or, for a batch consumer, a list of them)
    queue: str = "default"
    batch: bool = False  # one job per dispatched batch, carrying all its matching events in id order


_subscriptions: list[Subscription] = []


def subscribe(pattern: str, job: str, queue: str = "default", *, batch: bool = False) -> None:
    """Deliver events whose topic matches ``pattern`` to ``job`` (idempotent: subscribing twice is once).

    ``batch=True`` declares a batch consumer: the dispatcher enqueues one job per batch it sends, taking the
    list of matching event dicts, instead of one job per event.
    """
    subscription = Subscription(pattern, job, queue, batch)
    if subscription not in _subscriptions:
        _subscriptions.append(subscription)


def unsubscribe(pattern: str, job: str, queue: str = "default", *, batch: bool = False) -> None:
    _subscriptions.remove(Subscription(pattern, job, queue, batch))


def subscribers_of(topic: str) -> list[Subscription]:
    return [s for s in _subscriptions if fnmatchcase(topic, s.pattern)]
