"""Progress reporting for long batched runs, without a dependency.

:class:`Progress` draws a one-line bar on standard error, updated per
chunk of work. It is shown only when standard error is a terminal and the
run lasts long enough to be worth watching (by default after half a second),
so scripts, pipes, log files, notebooks' captured output and tests stay
silent. ``progress=`` arguments in alsmeta accept:

* ``None`` (default): automatic, as above;
* ``True`` / ``False``: always / never draw the bar (``True`` still needs a
  stream to write to; it does not require a terminal);
* a callable ``f(done, total)``: called after every chunk instead of
  drawing a bar (a hook for GUIs and tests; it may raise
  ``KeyboardInterrupt`` to stop the run).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

ProgressArg = bool | None | Callable[[int, int], object]


def _fmt_time(seconds: float) -> str:
    seconds = max(0, round(seconds))
    m, s = divmod(seconds, 60)
    h, m = divmod(m, 60)
    return f"{h:d}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def _fmt_count(x: float) -> str:
    for unit, div in (("M", 1e6), ("k", 1e3)):
        if x >= div:
            return f"{x / div:.1f}{unit}"
    return f"{x:.0f}"


class Progress:
    """A progress bar for ``total`` units of work (rows, fits, ...).

    Parameters
    ----------
    total
        Units of work in the run.
    desc
        Label printed before the bar.
    enabled
        See the module docstring (``None``, ``True``, ``False`` or a callable).
    stream
        Where to draw (default ``sys.stderr``).
    delay
        Seconds before the bar first appears in automatic mode.
    unit
        Name of the unit of work, for the rate.

    Use as a context manager, calling :meth:`update` with the units just
    completed; the bar is removed (a final line is left) on exit.
    """

    width = 24

    def __init__(
        self,
        total: int,
        desc: str = "",
        enabled: ProgressArg = None,
        stream: TextIO | None = None,
        delay: float = 0.5,
        unit: str = "fits",
    ) -> None:
        self.total = int(total)
        self.desc = desc
        self.unit = unit
        self.done = 0
        self.stream = sys.stderr if stream is None else stream
        self.callback: Callable[[int, int], object] | None = enabled if callable(enabled) else None
        if self.callback is not None:
            self.active = False
        elif enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            self.active = bool(isatty and isatty())
        else:
            self.active = bool(enabled)
        self.delay = delay if enabled is None else 0.0
        self.start = time.perf_counter()
        self._last = 0.0
        self._drawn = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, n: int) -> None:
        """Record ``n`` more units done; redraw at most ten times a second."""
        self.done += int(n)
        if self.callback is not None:
            self.callback(self.done, self.total)
            return
        if not self.active:
            return
        now = time.perf_counter()
        if now - self.start < self.delay and self.done < self.total:
            return
        if now - self._last >= 0.1 or self.done >= self.total:
            self._last = now
            self._draw(now)

    def line(self, now: float | None = None) -> str:
        """The text of the bar."""
        now = time.perf_counter() if now is None else now
        elapsed = now - self.start
        frac = self.done / self.total if self.total else 1.0
        filled = round(frac * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        head = f"{self.desc}: " if self.desc else ""
        return (
            f"{head}{100 * frac:3.0f}% [{bar}] {self.done}/{self.total} {self.unit} "
            f"[{_fmt_time(elapsed)}<{_fmt_time(eta)}, {_fmt_count(rate)} {self.unit}/s]"
        )

    def note(self, text: str) -> None:
        """Write one line of ``text`` above the bar (only when the bar is drawn: not with a callback)."""
        if not self.active:
            return
        try:
            self.stream.write(("\n" if self._drawn else "") + text + "\n")
            self.stream.flush()
        except (OSError, ValueError):
            self.active = False

    def _draw(self, now: float) -> None:
        try:
            self.stream.write("\r" + self.line(now))
            self.stream.flush()
            self._drawn = True
        except (OSError, ValueError):  # closed or broken stream: stop drawing
            self.active = False

    def close(self) -> None:
        """Finish the bar with a newline (only if it was drawn)."""
        if self._drawn:
            try:
                self._draw(time.perf_counter())
                self.stream.write("\n")
                self.stream.flush()
            except (OSError, ValueError):
                pass
            self._drawn = False
