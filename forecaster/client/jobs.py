"""A job of the service as the client sees it: refresh, cancel, and ``wait`` with a progress bar.

The bar (tqdm: a text bar in a terminal, a widget in a notebook) counts epochs over all ensemble
members and shows the epoch, train loss, validation score and the worker's ETA.
"""

from __future__ import annotations

import time
from typing import Any

from tqdm.auto import tqdm

from forecaster.client.errors import JobFailedError
from forecaster.client.http import Session

FINISHED = frozenset({"succeeded", "failed", "cancelled"})


class Job:
    """A queued or running job; ``data`` is its last known state (the API's job document)."""

    def __init__(self, session: Session, data: dict[str, Any]) -> None:
        self._session = session
        self.data = data

    def __repr__(self) -> str:
        return f"Job(id={self.id}, kind={self.data.get('kind')!r}, status={self.status!r})"

    @property
    def id(self) -> int:
        """The job's id."""
        return int(self.data["id"])

    @property
    def status(self) -> str:
        """queued, running, succeeded, failed or cancelled (as of the last refresh)."""
        return str(self.data["status"])

    @property
    def progress(self) -> dict[str, Any] | None:
        """epoch, epochs, member, members, train_loss, val_score, elapsed_s, eta_s (or None)."""
        return self.data.get("progress")

    @property
    def result(self) -> dict[str, Any] | None:
        """What the job produced: the version and its metrics, or an inline forecast."""
        return self.data.get("result")

    def refresh(self) -> Job:
        """Read the job's current state from the service."""
        self.data = self._session.json("GET", f"/v1/jobs/{self.id}")
        return self

    def cancel(self) -> Job:
        """Ask the service to cancel the job (a running one stops at its next epoch)."""
        self.data = self._session.json("POST", f"/v1/jobs/{self.id}/cancel")
        return self

    def wait(
        self, progress: bool = True, poll: float = 1.0, timeout: float | None = None
    ) -> int | None:
        """Block until the job ends; return the version it registered (None for a forecast job).

        Raises ``JobFailedError`` when it fails or is cancelled, ``TimeoutError`` after
        ``timeout`` seconds (the job keeps running on the service).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        bar = _Bar(self.id) if progress else None
        try:
            while self.refresh().status not in FINISHED:
                if bar is not None:
                    bar.update(self.progress)
                if deadline is not None and time.monotonic() >= deadline:
                    raise TimeoutError(f"job {self.id} still {self.status} after {timeout} s")
                time.sleep(poll)
            if bar is not None:
                bar.update(self.progress, done=self.status == "succeeded")
        finally:
            if bar is not None:
                bar.close()
        if self.status != "succeeded":
            raise JobFailedError(self.data)
        version = self.data.get("result_version")
        return None if version is None else int(version)


class _Bar:
    """A tqdm bar fed with the job's progress documents."""

    def __init__(self, job_id: int) -> None:
        self.bar = tqdm(desc=f"job {job_id}", unit="epoch", total=None, leave=True)

    def update(self, progress: dict[str, Any] | None, done: bool = False) -> None:
        """Move the bar to the epochs done so far; show loss, validation and ETA."""
        if not progress:
            return
        epochs, members = int(progress["epochs"]), int(progress.get("members") or 1)
        self.bar.total = epochs * members
        finished = self.bar.total if done else int(progress["member"]) * epochs + progress["epoch"]
        self.bar.n = min(finished, self.bar.total)
        self.bar.set_postfix(_postfix(progress), refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        """Leave the bar as it ended."""
        self.bar.close()


def _postfix(progress: dict[str, Any]) -> dict[str, str]:
    postfix = {"epoch": f"{progress['epoch']}/{progress['epochs']}"}
    if progress.get("members", 1) > 1:
        postfix["member"] = f"{progress['member'] + 1}/{progress['members']}"
    for key, label in (("train_loss", "loss"), ("val_score", "val"), ("eta_s", "eta")):
        if progress.get(key) is not None:
            postfix[label] = f"{progress[key]:.4g}" + ("s" if key == "eta_s" else "")
    return postfix
