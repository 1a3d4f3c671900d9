"""Typed errors of the forecasting core; callers map them to their own layer (e.g. HTTP 422)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


class ForecasterError(Exception):
    """Base class of every error the forecasting core raises on purpose."""


class InvalidDataError(ForecasterError, ValueError):
    """The input data cannot be used; ``series`` names the offending series (None: all)."""

    def __init__(self, reason: str, series: str | None = None) -> None:
        self.series = series
        self.reason = reason
        where = f"series {series!r}: " if series is not None else ""
        super().__init__(f"{where}{reason}")


class InvalidFrameError(InvalidDataError):
    """A long frame's content is refused: ``column`` and 1-based input ``row`` where known, and
    ``kind`` (``missing``, ``nul``, ``unparseable``, ``range``, ``non_numeric``, ``not_finite``,
    ``duplicate``) with the offending ``value``, so each layer can word it for its users."""

    def __init__(
        self,
        reason: str,
        series: str | None = None,
        column: str | None = None,
        row: int | None = None,
        kind: str | None = None,
        value: object = None,
    ) -> None:
        self.column = column
        self.row = row
        self.kind = kind
        self.value = value
        super().__init__(reason, series)


class CovariateError(InvalidDataError):
    """A covariate column is refused: ``column`` names it, ``series`` the series (None: the
    whole frame, e.g. a missing or unnamed column) and ``timestamp`` the first bad timestamp
    (None where no single timestamp is at fault); ``detail`` is the reason alone."""

    def __init__(
        self,
        detail: str,
        series: str | None = None,
        column: str = "",
        timestamp: pd.Timestamp | None = None,
    ) -> None:
        self.column = column
        self.timestamp = timestamp
        self.detail = detail
        at = f" at {timestamp.isoformat()}" if timestamp is not None else ""
        super().__init__(f"column {column!r}{at}: {detail}", series)


class HorizonError(ForecasterError, ValueError):
    """The requested horizon is below 1 or beyond what the model was trained for."""


class ArtifactError(ForecasterError):
    """A saved model is missing, tampered with, truncated or of an unknown format version."""


class TrainingCancelled(ForecasterError):  # noqa: N818 (the public contract's name)
    """Training stopped at an epoch boundary because ``should_stop()`` returned True."""


class NotFittedError(ForecasterError, RuntimeError):
    """The forecaster was used before ``fit`` or ``load``."""


class NoHeldOutDataError(InvalidDataError):
    """No backtest window fits after the version's training cut-off (``cutoff``, ISO 8601):
    every remaining point was a training target or steered early stopping."""

    def __init__(self, reason: str, series: str | None, cutoff: str) -> None:
        self.cutoff = cutoff
        super().__init__(reason, series)
