"""A paper import caught in the middle of reading its file, for the concurrency tests."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class HeldImport:
    """The importing thread and what it returned (``outcome["import"]``, once it ended)."""

    thread: threading.Thread
    outcome: dict[str, Any] = field(default_factory=dict)


@contextmanager
def import_held_halfway(runner: Any, round_id: int, content: bytes, tmp_path: Path,
                        *, wait: float = 30) -> Iterator[HeldImport]:
    """Run ``flask responses import`` on a pipe and hold it with half the file read.

    The block runs while the import waits for the rest; leaving it writes the second half
    and waits for the import to finish.
    """
    pipe = tmp_path / "kertas.csv"
    os.mkfifo(pipe)
    outcome: dict[str, Any] = {}
    held = HeldImport(threading.Thread(target=lambda: outcome.setdefault(
        "import", runner.invoke(args=["responses", "import", str(round_id), str(pipe)]))),
        outcome)
    held.thread.start()
    deadline = time.monotonic() + wait
    fd = None
    try:
        while fd is None:  # opening for writing succeeds once the import opened the file
            try:
                fd = os.open(pipe, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                assert time.monotonic() < deadline and held.thread.is_alive(), held.outcome
                time.sleep(0.01)
        os.set_blocking(fd, True)
        half = len(content) // 2
        os.write(fd, content[:half])
        yield held
        os.write(fd, content[half:])
    finally:
        if fd is not None:
            os.close(fd)
        held.thread.join(timeout=120)
