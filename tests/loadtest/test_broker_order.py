"""How the broker-order check counts messages that came after a later one of the same sender."""

from loadtest.broker_order import overtaken


def test_in_order_arrivals_count_nothing():
    assert overtaken([1, 2, 3, 7]) == (0, 0)


def test_each_message_behind_the_highest_seen_counts_once_with_how_far_back_it_came():
    # 3 overtook 1 and 2 (one and two behind); 5 overtook 4
    assert overtaken([3, 1, 2, 5, 4]) == (3, 2)
