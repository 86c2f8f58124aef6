"""Progress reporting and Ctrl-C handling of long batched runs."""

from __future__ import annotations

import io

import numpy as np
import pytest

import alsmeta as am
import alsmeta.engine.batch as batch_module
from alsmeta.engine.batch import _ARRAY_FIELDS
from alsmeta.progress import Progress


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _data(B=50, k=6, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(0, 1, (B, k)), rng.uniform(0.05, 0.5, (B, k))


def test_progress_is_silent_when_not_a_terminal():
    out = io.StringIO()
    with Progress(10, "x", stream=out, delay=0.0) as bar:
        for _ in range(10):
            bar.update(1)
    assert out.getvalue() == ""


def test_progress_draws_on_a_terminal_and_ends_the_line():
    out = _Tty()
    with Progress(4, "gosh", stream=out, delay=0.0, unit="fits") as bar:
        for _ in range(4):
            bar.update(1)
    text = out.getvalue()
    assert "gosh: 100% [" in text and "4/4 fits" in text
    assert text.endswith("\n")


def test_progress_forced_on_and_off():
    out = io.StringIO()
    with Progress(2, stream=out, enabled=True) as bar:
        bar.update(2)
    assert "100%" in out.getvalue()
    tty = _Tty()
    with Progress(2, stream=tty, enabled=False) as bar:
        bar.update(2)
    assert tty.getvalue() == ""


def test_a_note_goes_above_a_drawn_bar_and_nowhere_when_silent():
    out = io.StringIO()
    with Progress(2, "pool_many", stream=out, enabled=True) as bar:
        bar.note("dashboard at http://host:8787/status")
        bar.update(1)
        bar.note("second")
        bar.update(1)
    lines = out.getvalue().split("\n")
    assert lines[0] == "dashboard at http://host:8787/status"
    assert "second" in lines and lines.index("second") > 1  # after the partly drawn bar, on its own line
    for enabled in (False, lambda done, total: None):
        quiet = _Tty()
        with Progress(2, stream=quiet, enabled=enabled) as bar:
            bar.note("never shown")
        assert quiet.getvalue() == ""


def test_progress_callback_gets_done_and_total():
    Y, V = _data(B=25)
    calls = []
    am.pool_many(Y, V, chunk_size=10, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(10, 25), (20, 25), (25, 25)]


def test_pool_many_is_silent_in_scripts(capsys):
    Y, V = _data(B=30)
    am.pool_many(Y, V, chunk_size=4)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_interrupt_returns_the_rows_fitted_so_far():
    Y, V = _data(B=50)
    full = am.pool_many(Y, V, method="REML")

    def stop_after_two_chunks(done, total):
        if done >= 20:
            raise KeyboardInterrupt

    with pytest.warns(am.AlsmetaWarning, match="interrupted: 20 of 50 rows"):
        part = am.pool_many(Y, V, method="REML", chunk_size=10, progress=stop_after_two_chunks)
    assert part.interrupted and part.completed_rows == 20 and len(part) == 50
    for name in _ARRAY_FIELDS:
        a, b = getattr(part, name), getattr(full, name)
        assert np.array_equal(a[:20], b[:20], equal_nan=a.dtype.kind == "f"), name
    assert np.isnan(part.estimate[20:]).all() and not part.converged[20:].any()
    assert (part.k[20:] == 0).all()
    done = part.completed()
    assert len(done) == 20 and done.interrupted and done.completed_rows == 20
    assert not full.interrupted and full.completed_rows == 50 and full.completed() is full


def test_interrupt_inside_a_chunk(monkeypatch):
    Y, V = _data(B=40)
    real = batch_module._fit_chunk
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(batch_module, "_fit_chunk", flaky)
    with pytest.warns(am.AlsmetaWarning):
        part = am.pool_many(Y, V, chunk_size=8)
    assert part.completed_rows == 16
    assert np.isfinite(part.estimate[:16]).all() and np.isnan(part.estimate[16:]).all()


def test_interrupt_before_anything_is_fitted_propagates(monkeypatch):
    Y, V = _data(B=40)

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(batch_module, "_fit_chunk", boom)
    with pytest.raises(KeyboardInterrupt):
        am.pool_many(Y, V, chunk_size=8)


def test_interrupt_can_be_asked_to_propagate():
    Y, V = _data(B=40)

    def stop(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        am.pool_many(Y, V, chunk_size=8, progress=stop, on_interrupt="raise")
    with pytest.raises(am.AlsmetaInputError, match="on_interrupt"):
        am.pool_many(Y, V, on_interrupt="ignore")
