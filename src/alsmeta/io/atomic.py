"""Atomic file output: write to a temporary file beside the target, then rename.

``os.replace`` within one directory is atomic on POSIX and Windows, so a
reader (or a later run) sees either the previous complete file or the new
complete file, never a truncated one - whatever interrupts the writer
(Ctrl-C, a crash, a full disk). The temporary file is removed on failure.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_write(
    path: str | Path, mode: str = "w", encoding: str | None = "utf-8", newline: str | None = ""
) -> Iterator[IO[Any]]:
    """Open a temporary file for writing that replaces ``path`` when the block ends without error.

    Parameters
    ----------
    path
        The destination; its folder is created if needed.
    mode
        ``"w"`` (text) or ``"wb"`` (binary).
    encoding, newline
        For text mode (default UTF-8, newlines written as given).

    Yields
    ------
    file object
        Write to it; on leaving the block it is flushed, synced to disk and
        renamed to ``path`` (``os.replace``). If the block raises (including
        ``KeyboardInterrupt``), the temporary file is deleted and ``path`` is
        left as it was.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode: expected 'w' or 'wb', got {mode!r}")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        handle = os.fdopen(fd, mode, encoding=encoding, newline=newline) if mode == "w" else os.fdopen(fd, mode)
        with handle as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (newlines as given) and return the path."""
    with atomic_write(path, "w", encoding=encoding) as fh:
        fh.write(text)
    return Path(path)


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically and return the path."""
    with atomic_write(path, "wb") as fh:
        fh.write(data)
    return Path(path)


def write_csv(frame: pd.DataFrame, path: str | Path, float_format: str | None = "%.10g", **kwargs: Any) -> Path:
    """Write ``frame`` as CSV atomically, deterministically (``\\n`` line ends, no index).

    Floats are written with ``float_format`` (default 10 significant digits,
    as :mod:`alsmeta.io.reporting` stores numbers), so last-digit floating-point
    noise does not change the file. Other keyword arguments go to
    :meth:`pandas.DataFrame.to_csv`.
    """
    kwargs.setdefault("index", False)
    kwargs.setdefault("lineterminator", "\n")
    with atomic_write(path, "w") as fh:
        frame.to_csv(fh, float_format=float_format, **kwargs)
    return Path(path)
