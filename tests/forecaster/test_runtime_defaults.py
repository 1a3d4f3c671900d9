"""Library defaults: passive OpenMP waiting on import, one thread in fit where threads could
spin or a step is too small for them, a progress line with progress=True, and predict's
chunking over series."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from forecaster import EpochProgress, ForecastConfig, Forecaster, predict
from forecaster.progress import StderrProgress
from forecaster.threads import PARALLEL_WORK, recurrence_work

from .conftest import TINY, seasonal_frame

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "GOMP_"))}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return done.stdout.strip()


def test_importing_the_library_asks_openmp_to_wait_passively() -> None:
    out = _python("import os, forecaster, torch; print(os.environ['OMP_WAIT_POLICY'])")
    assert out == "PASSIVE"


def test_an_explicit_policy_is_kept() -> None:
    out = _python(
        "import os, forecaster; print(os.environ['OMP_WAIT_POLICY'])", OMP_WAIT_POLICY="ACTIVE"
    )
    assert out == "ACTIVE"


def test_fit_trains_on_one_thread_where_torch_loaded_first_with_spinning_threads() -> None:
    code = """
        import torch
        torch.set_num_threads(2)
        import forecaster
        from forecaster import ForecastConfig, Forecaster
        from tests.forecaster.conftest import TINY, seasonal_frame
        seen = []
        progress = lambda p: seen.append(torch.get_num_threads())
        Forecaster(TINY).fit(seasonal_frame(), horizon=6, progress=progress)
        print(seen[0], torch.get_num_threads())
    """
    assert _python(code) == "1 2"  # one thread while training, restored afterwards
    # Passive threads too: a small network's step is too little work for threads to pay.
    assert _python(code, OMP_WAIT_POLICY="PASSIVE") == "1 2"
    assert _python(code, OMP_NUM_THREADS="2") == "2 2"  # an explicit count is kept


def test_passive_threads_train_a_large_network_and_a_chosen_count_is_kept() -> None:
    code = """
        import torch
        torch.set_num_threads(2)
        from forecaster.threads import (
            PARALLEL_WORK, choose_intra_op_threads, training_threads
        )
        seen = []
        for work in (PARALLEL_WORK / 10, PARALLEL_WORK * 10, None):
            with training_threads(work):
                seen.append(torch.get_num_threads())
        choose_intra_op_threads(2)
        with training_threads(PARALLEL_WORK / 10):
            seen.append(torch.get_num_threads())
        print(*seen, torch.get_num_threads())
    """
    assert _python(code, OMP_WAIT_POLICY="PASSIVE") == "1 2 2 2 2"


def test_overlapping_fits_restore_the_thread_count_once_the_last_ends() -> None:
    code = """
        import threading, torch
        torch.set_num_threads(2)
        from forecaster.threads import PARALLEL_WORK, training_threads
        small = PARALLEL_WORK / 10
        a_in, a_out, b_out = threading.Event(), threading.Event(), threading.Event()
        seen = []
        def first():
            with training_threads(small):
                a_in.set()
                a_out.wait()
            seen.append(torch.get_num_threads())  # the second is still training
            b_out.set()
        thread = threading.Thread(target=first)
        thread.start()
        a_in.wait()
        with training_threads(small):
            a_out.set()
            b_out.wait()
            seen.append(torch.get_num_threads())
        thread.join()
        print(*seen, torch.get_num_threads())
    """
    assert _python(code, OMP_WAIT_POLICY="PASSIVE") == "1 1 2"


def test_the_default_network_trains_on_one_thread_and_a_large_one_on_threads() -> None:
    default = ForecastConfig()  # GRU 64, 512 windows, lookback 168 in patches of 24
    assert recurrence_work(default.batch_size, 7, default.hidden_size, 1, 1) < PARALLEL_WORK
    assert recurrence_work(2048, 28, 256, 1, 1) > PARALLEL_WORK


def test_progress_true_writes_epochs_loss_validation_and_eta_to_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    Forecaster(TINY).fit(seasonal_frame(), horizon=6, progress=True)
    err = capsys.readouterr().err
    assert "epoch 1/2" in err
    assert "loss " in err
    assert "val " in err
    assert "ETA" in err
    assert err.splitlines()[-1].startswith("trained 2 epochs in ")


def test_progress_eta_is_capped_by_the_budget_left() -> None:
    bar = StderrProgress(budget_s=60.0, stream=io.StringIO())
    p = EpochProgress(
        epoch=10, epochs=100, train_loss=0.1, val_score=0.2, elapsed_s=20.0, member=0, members=1
    )
    assert bar.eta(p) == pytest.approx(40.0)  # 90 epochs at 2 s would be 180 s
    assert bar.fraction(p) == pytest.approx(1 / 3)
    assert "epoch 10/100" in bar.render(p)
    assert "ETA <=40s" in bar.render(p)


def test_predict_in_chunks_equals_predict_in_one_go(
    tiny_model: Forecaster, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = tiny_model.forecast_panel(tiny_model.prepare(seasonal_frame()))
    monkeypatch.setattr(predict, "PREDICT_CHUNK", 2)  # three series: chunks of 2 and 1
    chunked = tiny_model.forecast_panel(tiny_model.prepare(seasonal_frame()))
    np.testing.assert_array_equal(chunked, whole)
