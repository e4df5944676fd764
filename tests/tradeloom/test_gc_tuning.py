import gc
from collections.abc import Iterator

import pytest

from tradeloom.gc_tuning import MIDDLE_THRESHOLD, OLD_THRESHOLD, YOUNG_THRESHOLD, tune_collector_for_service


@pytest.fixture
def collector_settings_restored() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("collector_settings_restored")
def test_a_service_freezes_what_start_up_built_and_collects_the_young_rarely() -> None:
    built_at_start_up = [[index] for index in range(1000)]  # containers: objects the collector tracks
    gc.unfreeze()

    tune_collector_for_service()

    assert gc.get_freeze_count() >= len(built_at_start_up)
    assert gc.get_threshold() == (YOUNG_THRESHOLD, MIDDLE_THRESHOLD, OLD_THRESHOLD)
