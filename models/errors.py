"""Domain errors of the store; the API maps them to problem documents (404, 409, 422, 503)."""

from __future__ import annotations


class StoreError(Exception):
    """Base class of every error raised by ``models``."""

    default_message = "store error"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)

    @property
    def message(self) -> str:
        """The human-readable reason."""
        return str(self.args[0])


class NotFound(StoreError):  # noqa: N818 - names fixed by the contract
    """The requested object does not exist."""

    default_message = "not found"


class Conflict(StoreError):  # noqa: N818 - names fixed by the contract
    """The request conflicts with the current state (duplicate, wrong status, alias in use)."""

    default_message = "conflict with the current state"


class InvalidInput(StoreError, ValueError):  # noqa: N818 - names fixed by the contract
    """Input that the store refuses before writing anything (bad name, bad data, bad cursor)."""

    default_message = "invalid input"


class DatabaseUnavailable(StoreError):  # noqa: N818 - names fixed by the contract
    """The database cannot be reached, or the connection was lost."""

    default_message = "the database is unavailable"


class ArtifactCorrupted(StoreError):  # noqa: N818 - names fixed by the contract
    """A stored artifact no longer matches its recorded digests or sizes."""

    default_message = "the stored artifact is corrupted"


class ArtifactNotFound(NotFound):
    """No artifact is stored under this digest."""

    default_message = "no artifact with this digest"
