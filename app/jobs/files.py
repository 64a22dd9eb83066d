"""Finished job files: written to a temporary name, then renamed, so never seen half-written.

The folder is ``JOB_FILES_DIR`` (default ``<instance>/job-files``). Every app server and every
worker must see the same folder (one machine, or a shared mount): the worker writes the file
and whichever server the person reaches sends it. A file is named by the job's random id
only; nothing a person typed becomes part of a path.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from flask import Flask, current_app

TEMP_PREFIX = ".partial-"
_NAME = re.compile(r"^[0-9a-f]{32}\.[a-z]{2,5}$")


def folder(app: Flask | None = None) -> Path:
    """The job-files folder, created on first use."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    configured = app.config.get("JOB_FILES_DIR")
    path = Path(configured) if configured else Path(app.instance_path) / "job-files"
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_name(public_id: str, extension: str) -> str:
    """The stored name of a job's file: its random id and a fixed extension."""
    name = f"{public_id}.{extension}"
    if not _NAME.match(name):
        raise ValueError(f"not a job file name: {name!r}")
    return name


def path_of(name: str, app: Flask | None = None) -> Path:
    """Where a stored job file lives; refuses any name this module did not make."""
    if not _NAME.match(name):
        raise ValueError(f"not a job file name: {name!r}")
    return folder(app) / name


@contextmanager
def atomic_writer(name: str, app: Flask | None = None) -> Iterator[IO[bytes]]:
    """Write the file ``name`` in one piece: to a temporary file, synced, then renamed.

    If the block raises, the temporary file is removed and ``name`` is left as it was. If the
    process dies inside the block, only a ``.partial-*`` file remains, which no download
    ever names and :func:`remove_leftovers` deletes.
    """
    target = path_of(name, app)
    temp = target.with_name(f"{TEMP_PREFIX}{secrets.token_hex(8)}-{name}")
    handle = temp.open("wb")
    try:
        yield handle
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()
        os.replace(temp, target)
    except BaseException:
        handle.close()
        temp.unlink(missing_ok=True)
        raise


def remove(name: str | None, app: Flask | None = None) -> None:
    """Delete a stored job file if it is there."""
    if name:
        path_of(name, app).unlink(missing_ok=True)


def remove_leftovers(older_than_seconds: float, app: Flask | None = None,
                     now: float | None = None) -> int:
    """Delete temporary files left by workers that died mid-write; returns how many."""
    cutoff = (now if now is not None else time.time()) - older_than_seconds
    removed = 0
    for path in folder(app).glob(f"{TEMP_PREFIX}*"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed
