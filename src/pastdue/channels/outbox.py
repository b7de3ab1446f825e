"""Writing one file per notice into a folder, so that a reader never sees half a file.

The file channels (e-mail, text messages, phone tasks) are what a fresh install and the demo
use, and what an operator inspects or another program picks up. A reader polling the folder
must never open a file that is still being written, so every file is written under a hidden
temporary name in the same folder and then renamed over its final name (``os.replace`` is
atomic on one file system), as Django's file e-mail backend does. The final name is derived
from the notice id alone, so sending the same notice twice replaces the file instead of
adding a second one.

Files are not fsynced: the outboxes serve development, demos and hand-offs, where a
thousand files a second matter more than surviving a power cut between two of them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pastdue.errors import ConfigurationError, TemporaryFailure

_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]")


def notice_path(folder: Path, notice_id: str, suffix: str) -> Path:
    """The file a notice is written to; a notice id can never name a path outside ``folder``."""
    stem = _UNSAFE.sub("_", notice_id).lstrip(".")
    if not stem:
        raise ValueError(f"notice id {notice_id!r} gives no usable file name")
    return folder / f"{stem}{suffix}"


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that ``path`` holds either its old content or all of ``data``.

    A folder that cannot be created is a configuration problem (it will not fix itself);
    a full disk or a transient I/O error may clear, so it is a temporary failure.
    """
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigurationError(f"cannot create the outbox folder {folder}: {error}") from error
    try:
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise TemporaryFailure(f"cannot write into {folder}: {error}") from error
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except OSError as error:
        _remove_quietly(temporary)
        raise TemporaryFailure(f"cannot write {path}: {error}") from error
    except BaseException:
        _remove_quietly(temporary)
        raise


def json_bytes(document: Mapping[str, Any]) -> bytes:
    """Readable, stable JSON: the same notice always gives the same bytes."""
    return (json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _remove_quietly(name: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(name)
