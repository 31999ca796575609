"""A progress bar for long work (resharding, export), drawn on the terminal's stderr."""

import os
import sys
import time


def _open_terminal():
    # A descriptor of its own: the driver captures fd 2 while it runs.
    try:
        fd = sys.__stderr__.fileno()
        if not os.isatty(fd):
            return None
        return os.fdopen(os.dup(fd), "w", buffering=1)
    except (AttributeError, OSError, ValueError):
        return None


_terminal = None


def format_bytes(value):
    """As the commands print sizes: "600 B", "482.6 KiB", "1.50 GiB"."""
    if value < 1024:
        return f"{value} B"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024.0
        if value < 1024 or unit == "TiB":
            return f"{value:.2f} {unit}" if value < 10 else f"{value:.1f} {unit}"


def _format_units(phase, value):
    if phase == "reshard":
        for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
            if value < 1024 or unit == "TiB":
                return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
            value /= 1024.0
    return f"{value} rank{'s' if value != 1 else ''}" if phase == "export" else str(value)


class Bar:
    """Draws `phase [#####.....] 50% done/total` on one redrawn line."""

    def __init__(self, stream=None, width=30):
        global _terminal
        if stream is None:
            if _terminal is None:
                _terminal = _open_terminal()
            stream = _terminal
        self._stream = stream
        self._width = width
        self._start = time.monotonic()
        self._open_phase = None

    @property
    def active(self):
        return self._stream is not None

    def __call__(self, phase, done, total):
        if self._stream is None or total <= 0:
            return
        fraction = min(1.0, done / total)
        filled = int(round(fraction * self._width))
        bar = "#" * filled + "." * (self._width - filled)
        elapsed = time.monotonic() - self._start
        self._stream.write(f"\rdinfer {phase} [{bar}] {fraction * 100:5.1f}% "
                           f"{_format_units(phase, done)} / {_format_units(phase, total)}  {elapsed:.1f}s ")
        self._open_phase = phase
        if done >= total:
            self.close()

    def close(self):
        if self._stream is not None and self._open_phase is not None:
            self._stream.write("\n")
            self._stream.flush()
            self._open_phase = None


def resolve(progress):
    """None: a bar when stderr is a terminal; False: nothing; True: a bar; a callable: itself."""
    if progress is False:
        return None
    if callable(progress):
        return progress
    bar = Bar()
    return bar if bar.active else None
