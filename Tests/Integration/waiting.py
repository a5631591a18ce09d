"""Waiting on a threading.Condition for something another thread records (the test upstreams' messages)."""

from __future__ import annotations

import threading
import time
from typing import Callable, TypeVar

T = TypeVar("T")


def wait_on(condition: threading.Condition, predicate: Callable[[], T], timeout: float,
            failure: Callable[[], str]) -> T:
    """Holding `condition`, wait until predicate() is truthy and return its value; after `timeout` seconds raise
    AssertionError with failure() (also called with the lock held). Wakes at least every 0.2 s, so a change
    recorded without a notify is still seen."""
    deadline = time.monotonic() + timeout
    with condition:
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(failure())
            condition.wait(min(remaining, 0.2))
