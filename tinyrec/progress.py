"""Progress lines on stderr: :class:`ProgressBar` for an epoch of a network, :class:`EpochBar` for a fit.

On a terminal both redraw one line in place with ``\\r``, at most every ``min_interval`` seconds,
cut to the terminal's width (a line that wrapped could not be redrawn, and would show twice), and
end it with a newline when the epoch or the fit ends, or when the loop inside stops on an
exception. When the stream is not a terminal (a log file, a pipe, a notebook's captured output)
nothing is redrawn: each epoch writes one finished line, so a log holds one line per epoch.
"""

from __future__ import annotations

import math
import shutil
import sys
import time


class _ProgressLine:
    """A line on a stream (stderr by default), for the two bars below.

    ``live`` (default: whether the stream is a terminal) chooses between redrawing in place and
    writing finished lines only. A redraw is padded with spaces to the length of the previous one,
    so no stale characters remain when the line gets shorter. Used as a context manager
    (``with ... as bar:``), it ends a line left open when the loop inside stops on an exception (a
    NaN loss, Ctrl-C), so the error starts on a line of its own. ``enabled=False`` makes every
    method a no-op, so the loop calls it unconditionally.
    """

    def __init__(self, *, enabled: bool, stream, width: int, min_interval: float, live: bool | None):
        self.enabled = enabled
        self.stream = sys.stderr if stream is None else stream
        self.live = _is_terminal(self.stream) if live is None else live
        self.width = width
        self.min_interval = min_interval
        self._last_draw = -math.inf
        self._drawn = 0  # length of the line on screen
        self._open = False  # a line is drawn and not yet ended by a newline

    def _due(self, final: bool) -> bool:
        """Whether to redraw now: always for the ``final`` update, else at most every min_interval s."""
        now = time.monotonic()
        if not final and now - self._last_draw < self.min_interval:
            return False
        self._last_draw = now
        return True

    def _bar(self, done: int, total: int) -> str:
        filled = self.width * done // max(total, 1)
        return "#" * filled + "." * (self.width - filled)

    def _draw(self, line: str, *, end: bool = False) -> None:
        """Redraw ``line`` in place (live), or write it as a finished line (``end``, not live)."""
        if not self.live:
            if end:
                self.stream.write(line + "\n")
                self.stream.flush()
            return
        line = line[: max(shutil.get_terminal_size().columns - 1, 20)]  # never wrap: \r redraws one row
        self.stream.write("\r" + line.ljust(self._drawn) + ("\n" if end else ""))
        self.stream.flush()
        self._drawn, self._open = (0, False) if end else (len(line), True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.enabled and self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False


class ProgressBar(_ProgressLine):
    """The progress line of one epoch of a network: batches done and the running mean loss.

    ``update(batch, running_loss)`` redraws at most every ``min_interval`` seconds (and at the
    last batch); ``end(summary)`` finishes the line with a summary, the only line written when
    the stream is not a terminal.
    """

    def __init__(self, epoch: int, epochs: int, n_batches: int, *, enabled: bool = True, stream=None,
                 width: int = 20, min_interval: float = 0.1, live: bool | None = None):  # fmt: skip
        super().__init__(enabled=enabled, stream=stream, width=width, min_interval=min_interval, live=live)
        self.epoch, self.epochs, self.n_batches = epoch, epochs, n_batches
        self._line = ""

    def update(self, batch: int, running_loss: float) -> None:
        """Show that ``batch`` (1-based) of ``n_batches`` is done, with the running mean loss."""
        if not self.enabled or not self._due(final=batch >= self.n_batches):
            return
        bar = self._bar(batch, self.n_batches)
        self._line = (
            f"epoch {self.epoch}/{self.epochs} [{bar}] {batch}/{self.n_batches} loss {running_loss:.4f}"
        )
        self._draw(self._line)

    def end(self, summary: dict[str, float]) -> None:
        """Finish the epoch's line with ``name value`` pairs (validation loss, metrics)."""
        if not self.enabled:
            return
        extra = "".join(f" {name} {value:.4f}" for name, value in summary.items() if name != "loss")
        self._draw(self._line + extra, end=True)


class EpochBar(_ProgressLine):
    """One progress line over the epochs of a whole fit.

    For the classic models, whose epochs are single Numba calls with nothing to report between
    batches: ``update(epoch, value)`` after each epoch (1-based; ``value`` is the epoch's training
    loss or RMSE, or None). On a terminal the line is redrawn at most every ``min_interval``
    seconds and always at the last epoch, which also ends it; elsewhere each epoch writes a line.
    """

    def __init__(self, n_epochs: int, what: str, *, enabled: bool = True, stream=None,
                 width: int = 20, min_interval: float = 0.1, live: bool | None = None):  # fmt: skip
        super().__init__(enabled=enabled, stream=stream, width=width, min_interval=min_interval, live=live)
        self.n_epochs, self.what = n_epochs, what

    def update(self, epoch: int, value: float | None) -> None:
        last = epoch >= self.n_epochs
        if not self.enabled or (self.live and not self._due(final=last)):
            return
        shown = "" if value is None else f" {self.what} {value:.4f}"
        line = f"epoch {epoch}/{self.n_epochs} [{self._bar(epoch, self.n_epochs)}]{shown}"
        self._draw(line, end=last or not self.live)


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
