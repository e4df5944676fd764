"""The garbage collector's settings for long-running service processes (decision 0036).

CPython's defaults (a young collection every 700 net allocations of container objects) promote almost
everything that outlives a batch to the oldest generation, and the oldest generation is collected whole
once it has grown by a quarter: in the IoT bridge and the device simulator, processes of 2–3 million
objects, that was a full collection every few seconds, 0.3–1 s each, a quarter of their CPU time and a pause
of the event loop every time. Collections only find reference cycles (reference counting frees everything
else), so collecting less often costs a little memory held by cycles a while longer, not correctness.
"""

import gc

YOUNG_THRESHOLD = 50_000  # net allocations between young collections: a whole batch dies young
MIDDLE_THRESHOLD = 20  # young collections per middle one
OLD_THRESHOLD = 10  # middle collections before the oldest generation may be collected


def tune_collector_for_service() -> None:
    """Collect once, freeze what start-up built (never scanned again), and collect the young rarely."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_THRESHOLD, OLD_THRESHOLD)
