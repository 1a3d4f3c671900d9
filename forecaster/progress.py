"""``fit(progress=True)``: a progress line on stderr (epoch, loss, validation, elapsed, ETA)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from forecaster.train import EpochProgress

LINE_EVERY_S = 5.0  # without a terminal, at most one line per this many seconds


class StderrProgress:
    """A progress callback that redraws one line on a terminal, or prints a line every few
    seconds elsewhere (logs, notebooks). The ETA is an upper bound: early stopping may end
    training sooner than the epochs or the time budget left."""

    def __init__(self, budget_s: float | None, stream: TextIO | None = None) -> None:
        self.budget_s = budget_s
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.last_line = -float("inf")
        self.last: EpochProgress | None = None

    def __call__(self, p: EpochProgress) -> None:
        self.last = p
        now = time.monotonic()
        if self.tty:
            self.stream.write("\r" + self.render(p) + "\033[K")
        elif p.epoch == 1 or now - self.last_line >= LINE_EVERY_S:
            self.stream.write(self.render(p) + "\n")
            self.last_line = now
        self.stream.flush()

    def render(self, p: EpochProgress) -> str:
        """``epoch 12/100 [###.......] loss 0.0712 val 0.0690 35s ETA <=1m48s``."""
        width = 20
        filled = min(width, round(width * self.fraction(p)))
        val = f"{p.val_score:.4f}" if p.val_score is not None else "-"
        return (
            f"epoch {p.epoch}/{p.epochs} [{'#' * filled}{'.' * (width - filled)}] "
            f"loss {p.train_loss:.4f} val {val} {_clock(p.elapsed_s)} "
            f"ETA <={_clock(self.eta(p))}"
        )

    def fraction(self, p: EpochProgress) -> float:
        """Progress as the larger of epochs done and budget spent."""
        by_epochs = p.epoch / p.epochs
        if self.budget_s is None:
            return by_epochs
        return min(1.0, max(by_epochs, p.elapsed_s / self.budget_s))

    def eta(self, p: EpochProgress) -> float:
        """Seconds left at most: the epochs left at the pace so far, capped by the budget."""
        left = (p.epochs - p.epoch) * p.elapsed_s / max(p.epoch, 1)
        if self.budget_s is not None:
            left = min(left, max(self.budget_s - p.elapsed_s, 0.0))
        return left

    def close(self, seconds: float) -> None:
        """The closing line: epochs run and the training time."""
        epochs = self.last.epoch if self.last is not None else 0
        line = f"trained {epochs} epochs in {_clock(seconds)}"
        self.stream.write(f"\r{line}\033[K\n" if self.tty else line + "\n")
        self.stream.flush()


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
