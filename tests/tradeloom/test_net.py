"""Port blocks for servers started over seconds stay clear of the ports the OS gives outgoing connections."""

import socket

from tradeloom.net import OUTGOING_PORTS, free_port_block


def test_a_port_block_lies_below_the_outgoing_range_and_skips_a_port_in_use():
    lowest_outgoing = int(OUTGOING_PORTS.read_text().split()[0])
    first = free_port_block(50)
    assert first + 50 <= lowest_outgoing
    with socket.socket() as listener:  # someone listens inside that block: the block below is given instead
        listener.bind(("127.0.0.1", first + 10))
        listener.listen()
        second = free_port_block(50)
    assert second + 50 <= first
