"""PUBACKs go out in delivery order whatever order the shards finish in (MQTT-4.6.0-2)."""

from dataclasses import dataclass

from iot_bridge.bridge.acknowledgements import InOrderAcknowledgements


@dataclass(frozen=True)
class Message:
    mid: int
    delivery: int
    connection: int = 1
    qos: int = 1


def acknowledger() -> tuple[InOrderAcknowledgements, list[int]]:
    sent: list[int] = []
    return InOrderAcknowledgements(lambda mid, qos: sent.append(mid)), sent


def test_a_message_is_acknowledged_once_every_one_delivered_before_it_is_done():
    acks, sent = acknowledger()
    first, second, third = (Message(mid=100 + n, delivery=n) for n in (1, 2, 3))
    for message in (first, second, third):
        acks.delivered(message)
    acks.done([third], connection=1)  # another shard finished first
    assert sent == []
    acks.done([first], connection=1)
    assert sent == [101]
    acks.done([second], connection=1)
    assert sent == [101, 102, 103] and acks.waiting() == 0


def test_messages_of_an_earlier_connection_are_given_up_unacknowledged_and_do_not_block():
    acks, sent = acknowledger()
    old, new = Message(mid=7, delivery=1, connection=1), Message(mid=7, delivery=2, connection=2)
    acks.delivered(old)
    acks.delivered(new)
    acks.done([new], connection=2)  # the old one is not done yet, and never will be acknowledged
    assert sent == [7] and acks.waiting() == 0
    acks.done([old], connection=2)  # done late: nothing more is sent, nothing is kept for it
    assert sent == [7] and acks._done == set()


def test_qos_0_messages_are_not_acknowledged_and_do_not_wait():
    acks, sent = acknowledger()
    echo, report = Message(mid=0, delivery=1, qos=0), Message(mid=5, delivery=2)
    acks.delivered(echo)
    acks.delivered(report)
    acks.done([report], connection=1)
    assert sent == [5]
