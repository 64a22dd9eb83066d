"""A small thread-safe LRU of bytes, shared by the chart and PDF caches."""

from __future__ import annotations

import threading
from collections import OrderedDict


class BytesLRU:
    """Keep the ``maxsize`` most recently used byte strings of one worker process."""

    def __init__(self, maxsize: int, *, setting: str = "maxsize") -> None:
        if isinstance(maxsize, bool) or not isinstance(maxsize, int) or maxsize < 1:
            raise ValueError(f"{setting} must be a whole number >= 1, got {maxsize!r}")
        self.maxsize = maxsize
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def set(self, key: str, value: bytes) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)
