"""`corridor run` takes what it built at start-up out of Python's full garbage collections."""

from __future__ import annotations

import gc

from bot.cli import keep_out_of_garbage_collection


def test_what_start_up_built_is_frozen_and_later_garbage_is_still_collected() -> None:
    class Node:
        def __init__(self) -> None:
            self.itself = self

    built = [Node() for _ in range(100)]
    tracked = len(gc.get_objects())
    try:
        keep_out_of_garbage_collection()
        assert gc.get_freeze_count() >= len(built)
        # Frozen objects are no longer looked at by a collection…
        assert len(gc.get_objects()) < tracked - len(built)
        # …while a cycle made afterwards is still found and freed.
        Node()
        assert gc.collect() >= 1
    finally:
        gc.unfreeze()
