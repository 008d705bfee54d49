"""The Keras-style progress bar and the callback that drives it during fit.

Display rules (``docs/decisions.md``, "Progress bar"):

* On a terminal (``stream.isatty()``) the bar is redrawn in place with ``\\r``,
  at most every ``interval`` seconds (0.05 s), and finished with a newline.
* In a Jupyter kernel it is redrawn the same way but at most every 0.5 s.
* Anywhere else (a file, a pipe, CI logs) no ``\\r`` is written: one line per
  epoch, printed when the epoch ends.
* ``verbose=2`` prints one summary line per epoch; ``verbose=0`` nothing.
* A redrawn line never wraps: it fits the terminal width (``max_width``,
  default ``shutil.get_terminal_size()`` minus one column), first by
  shortening the bar, then by dropping the bar, then by dropping metrics from
  the end (the loss stays longest), as a last resort by cutting the line.
"""

from __future__ import annotations

import shutil
import sys
import time

from numnet.callbacks.base import Callback


def _dynamic_interval(stream) -> float | None:
    """Redraw interval in seconds, or None when the stream cannot redraw."""
    isatty = getattr(stream, "isatty", None)
    try:
        if isatty is not None and isatty():
            return 0.05
    except ValueError:  # closed stream
        return None
    if "ipykernel" in sys.modules:
        return 0.5
    return None


def format_time(seconds: float) -> str:
    """``1:02:03``, ``2:05`` or ``7s`` (ETA and epoch times)."""
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    if seconds >= 60:
        return f"{seconds // 60}:{seconds % 60:02d}"
    return f"{seconds}s"


def format_per_step(seconds: float, unit: str = "step") -> str:
    """``1s/step``, ``25ms/step`` or ``830us/step``."""
    if seconds >= 1:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


def format_value(value) -> str:
    """Keras's metric format: 4 decimals, or scientific for tiny values."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{value:.4f}" if abs(value) > 1e-3 or value == 0 else f"{value:.4e}"


class Progbar:
    """A text progress bar: ``120/469 [=====>.....] - ETA: 12s - loss: 0.5123``.

    Args:
        target: total number of steps, or None when unknown.
        width: width of the bar in characters.
        verbose: 1 for the live bar, 2 for one line at the end.
        unit_name: the unit of the per-step time.
        stream: where to write (default: ``sys.stdout`` at each write).
        interval: minimum seconds between redraws (default: by stream kind).
        max_width: the longest line written when redrawing in place (default:
            the terminal's width minus one); None there means no limit.
    """

    def __init__(
        self,
        target,
        width=30,
        verbose=1,
        unit_name="step",
        stream=None,
        interval=None,
        max_width=None,
    ):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.unit_name = unit_name
        self._stream = stream
        self._interval = interval
        self.max_width = max_width
        self._start = time.perf_counter()
        self._last_draw = 0.0
        self._prev_width = 0
        self._finished = False

    @property
    def stream(self):
        """The output stream."""
        return self._stream if self._stream is not None else sys.stdout

    def update(self, current: int, values=None, finalize: bool | None = None) -> None:
        """Show progress ``current`` with the metric ``values`` (dict or pairs).

        The final call (``current == target`` or ``finalize=True``) always draws
        and ends the line; intermediate calls are throttled, and skipped
        entirely when the stream cannot redraw.
        """
        if self._finished or self.verbose == 0:
            return
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        values = list(values.items() if isinstance(values, dict) else values or [])
        now = time.perf_counter()
        if not finalize:
            if self.verbose != 1:
                return
            if self._interval is None:  # decided once, on the first update
                self._interval = _dynamic_interval(self.stream) or float("inf")
            if now - self._last_draw < self._interval:
                return
        self._last_draw = now
        self._draw(current, values, now - self._start, finalize)

    def _draw(self, current: int, values, elapsed: float, finalize: bool) -> None:
        stream = self.stream
        dynamic = _dynamic_interval(stream) is not None and self.verbose == 1
        per_step = elapsed / max(current, 1)
        step_time = format_per_step(per_step, self.unit_name)
        if self.verbose == 2:
            timing = f"{format_time(elapsed)} - {step_time}"
        elif finalize:
            timing = f"{format_time(elapsed)} {step_time}"
        elif self.target is not None:
            timing = f"ETA: {format_time(per_step * (self.target - current))}"
        else:
            timing = format_time(elapsed)
        metrics = [f"{name}: {format_value(value)}" for name, value in values]
        limit = self._limit() if dynamic else None
        line = self._fit(current, timing, metrics, limit)
        pad = " " * max(self._prev_width - len(line), 0)
        self._prev_width = len(line)
        if dynamic:
            stream.write("\r" + line + pad + ("\n" if finalize else ""))
        else:
            stream.write(line + "\n")
        stream.flush()
        self._finished = finalize

    def _limit(self) -> int:
        if self.max_width is not None:
            return int(self.max_width)
        # one column spare: writing the last column makes some terminals wrap
        return max(shutil.get_terminal_size(fallback=(80, 24)).columns - 1, 20)

    def _fit(self, current: int, timing: str, metrics: list, limit) -> str:
        """The longest line within ``limit``: shorten the bar, drop it, drop metrics."""

        def line(bar_width: int, shown: list) -> str:
            bar = self._bar(current, bar_width) if self.verbose == 1 else ""
            head = " ".join(filter(None, [self._counter(current), bar]))
            return " - ".join([head, timing, *shown])

        full = line(self.width, metrics)
        if limit is None or len(full) <= limit:
            return full
        for bar_width in (20, 10, 0):
            candidate = line(min(bar_width, self.width), metrics)
            if len(candidate) <= limit:
                return candidate
        for keep in range(len(metrics) - 1, -1, -1):
            candidate = line(0, metrics[:keep])
            if len(candidate) <= limit:
                return candidate
        return candidate[:limit]

    def _counter(self, current: int) -> str:
        if self.target is None:
            return f"{current}/Unknown"
        digits = len(str(self.target))
        return f"{current:>{digits}}/{self.target}"

    def _bar(self, current: int, width: int) -> str:
        if self.target is None or self.target <= 0 or width <= 0:
            return ""
        done = int(width * min(current, self.target) / self.target)
        if done >= width:
            return "[" + "=" * width + "]"
        return "[" + "=" * done + ">" + "." * (width - done - 1) + "]"


class ProgbarLogger(Callback):
    """Prints ``Epoch i/N`` and a :class:`Progbar` per epoch (``fit`` adds it).

    Also shows progress in a standalone ``evaluate``/``predict`` with verbose=1.

    Args:
        stream: where to write (default ``sys.stdout``).
        max_width: the longest redrawn line (default: the terminal's width).
    """

    def __init__(self, stream=None, max_width=None):
        super().__init__()
        self.stream = stream
        self.max_width = max_width
        self.progbar = None
        self._in_fit = False
        self._seen = 0

    @property
    def verbose(self) -> int:
        """The loop's verbosity (from ``params``)."""
        return self.params.get("verbose", 1)

    def _new_bar(self, steps, unit="step"):
        self._seen = 0
        self.progbar = Progbar(
            steps, verbose=self.verbose, unit_name=unit, stream=self.stream,
            max_width=self.max_width,
        )  # fmt: skip

    def on_train_begin(self, logs=None):
        self._in_fit = True

    def on_train_end(self, logs=None):
        self._in_fit = False

    def on_epoch_begin(self, epoch, logs=None):
        epochs = self.params.get("epochs")
        if self.verbose:
            (self.stream or sys.stdout).write(f"Epoch {epoch + 1}/{epochs}\n")
        self._new_bar(self.params.get("steps"))

    def on_train_batch_end(self, batch, logs=None):
        self._seen = batch + 1
        self.progbar.update(batch + 1, logs, finalize=False)

    def on_epoch_end(self, epoch, logs=None):
        if self.progbar is not None:
            self.progbar.update(self._seen, logs, finalize=True)

    def on_test_begin(self, logs=None):
        if not self._in_fit:
            self._new_bar(self.params.get("steps"))

    def on_test_batch_end(self, batch, logs=None):
        if not self._in_fit:
            self._seen = batch + 1
            self.progbar.update(batch + 1, logs, finalize=False)

    def on_test_end(self, logs=None):
        if not self._in_fit:
            self.progbar.update(self._seen, logs, finalize=True)

    def on_predict_begin(self, logs=None):
        self._new_bar(self.params.get("steps"))

    def on_predict_batch_end(self, batch, logs=None):
        self._seen = batch + 1
        self.progbar.update(batch + 1, None, finalize=False)

    def on_predict_end(self, logs=None):
        self.progbar.update(self._seen, None, finalize=True)
