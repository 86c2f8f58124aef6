"""Campaigns (alsmeta.campaign): the same bytes on every executor and chunking; streaming to disk and resuming."""

from __future__ import annotations

import json
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import alsmeta
from alsmeta import campaign
from alsmeta.campaign import Chunk, chunks_of, completed_prefix, read_chunks
from alsmeta.diagnostics import multiverse, sensitivity
from alsmeta.engine import batch
from alsmeta.simulate import NaturalHistory, design_preset
from alsmeta.simulate import engine as sim
from alsmeta.validation import AlsmetaInputError, AlsmetaWarning

try:
    import distributed
except ImportError:  # the dask extra is optional; `make test` installs it
    distributed = None

needs_dask = pytest.mark.skipif(
    distributed is None, reason="dask extra not installed (pip install 'alsmeta[dask]'; make test installs it)"
)


@pytest.fixture(scope="module")
def scheduler() -> Any:
    """A two-worker LocalCluster in this process (threads), shared by the Dask tests of this module."""
    if distributed is None:
        pytest.skip("dask extra not installed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as c:
        yield c.scheduler_address


def _bytes(obj: Any) -> dict[str, bytes]:
    """Every array of a result, as raw bytes (NaN payloads and signed zeros included)."""
    if isinstance(obj, pd.DataFrame):
        return {c: np.asarray(obj[c].to_numpy()).tobytes() for c in obj.columns}
    out: dict[str, bytes] = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, np.ndarray):
            out[f.name] = value.tobytes()
        elif isinstance(value, pd.DataFrame):
            out.update({f"{f.name}.{k}": v for k, v in _bytes(value).items()})
        elif isinstance(value, tuple) and value and hasattr(value[0], "mean_change"):
            for i, part in enumerate(value):
                out.update({f"{f.name}{i}.{k}": v for k, v in _bytes(part).items()})
        elif value is not None and hasattr(value, "true_rate"):  # PatientData
            out.update({f"{f.name}.{k}": v for k, v in _bytes(value).items()})
    assert out, "nothing to compare"
    return out


def _data(b: int = 900, k: int = 7) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20261205)
    y = rng.normal(0.2, 0.5, (b, k))
    v = rng.uniform(0.02, 0.4, (b, k))
    m = rng.random((b, k)) < 0.8
    return y, v, m


FIT = alsmeta.pool(np.array([0.1, 0.5, -0.2, 0.3, 0.9, 0.05, 0.4, -0.1]), np.linspace(0.05, 0.3, 8))
HISTORY = NaturalHistory.alsfrs_r()
DESIGNS = [design_preset("cudkowicz2022"), design_preset("oh2018")]


# -- the same bytes whatever the executor and the chunk size -----------------------------------


@given(chunk=st.integers(5, 250))
@settings(max_examples=10, deadline=None)
def test_pool_many_bytes_do_not_depend_on_the_chunk_size(chunk: int) -> None:
    y, v, m = _data(200)
    assert _bytes(batch.pool_many(y, v, m, chunk_size=chunk)) == _bytes(batch.pool_many(y, v, m))


@needs_dask
def test_pool_many_same_bytes_serial_and_dask(scheduler: str) -> None:
    y, v, m = _data()
    ref = _bytes(batch.pool_many(y, v, m))
    assert _bytes(batch.pool_many(y, v, m, chunk_size=97, executor="dask", scheduler=scheduler)) == ref


def test_pool_many_same_bytes_in_worker_processes() -> None:
    y, v, m = _data()
    ref = _bytes(batch.pool_many(y, v, m))
    assert _bytes(batch.pool_many(y, v, m, chunk_size=250, executor="processes", workers=2)) == ref


@needs_dask
def test_gosh_and_bootstrap_same_bytes_on_dask_and_any_chunk(scheduler: str) -> None:
    ref_g = _bytes(sensitivity.gosh(FIT, max_subsets=2000, seed=5))
    ref_b = _bytes(sensitivity.bootstrap(FIT, 1500, seed=6))
    assert _bytes(sensitivity.gosh(FIT, max_subsets=2000, seed=5, chunk_size=333)) == ref_g
    assert (
        _bytes(sensitivity.gosh(FIT, max_subsets=2000, seed=5, chunk_size=300, executor="dask", scheduler=scheduler))
        == ref_g
    )
    assert (
        _bytes(sensitivity.bootstrap(FIT, 1500, seed=6, chunk_size=200, executor="dask", scheduler=scheduler)) == ref_b
    )
    exact = _bytes(sensitivity.gosh(FIT))  # all 255 subsets
    assert _bytes(sensitivity.gosh(FIT, chunk_size=40, executor="dask", scheduler=scheduler)) == exact


@needs_dask
def test_fit_specifications_same_bytes_on_dask(scheduler: str) -> None:
    effects = {f"s{i}": (0.1 * i - 0.3, 0.1 + 0.02 * i) for i in range(6)}
    specs = multiverse.expand_grid(
        a=["s0", "s1"], b=["s2", None], c=["s3", "s4", "s5"], method=["DL", "REML", "PM"], test=["z", "knha"]
    )
    ref = multiverse.fit_specifications(specs, effects, ["a", "b", "c"])
    got = multiverse.fit_specifications(
        specs, effects, ["a", "b", "c"], chunk_size=3, executor="dask", scheduler=scheduler
    )
    assert _bytes(got.specifications) == _bytes(ref.specifications)


@needs_dask
def test_simulators_same_bytes_on_dask_and_any_chunk(scheduler: str) -> None:
    per_block = sim._studies_per_block(DESIGNS[0])
    n = per_block + 5
    ref = _bytes(sim.simulate_trials(HISTORY, DESIGNS[0], n, seed=11, keep_patients=True))
    for kw in ({"chunk_size": 2 * per_block}, {"chunk_size": 1, "executor": "dask", "scheduler": scheduler}):
        assert _bytes(sim.simulate_trials(HISTORY, DESIGNS[0], n, seed=11, keep_patients=True, **kw)) == ref
    ref_meta = _bytes(sim.simulate_meta_analyses(HISTORY, DESIGNS, n, seed=12))
    got_meta = sim.simulate_meta_analyses(
        HISTORY, DESIGNS, n, seed=12, chunk_size=per_block, executor="dask", scheduler=scheduler
    )
    assert _bytes(got_meta) == ref_meta


@needs_dask
def test_a_local_cluster_is_started_for_the_job_and_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALSMETA_SCHEDULER", raising=False)
    started: list[Any] = []
    make = campaign._dask_client

    def recording(options: Any) -> Any:
        client, cluster = make(options)
        started.append(cluster)
        return client, cluster

    monkeypatch.setattr(campaign, "_dask_client", recording)
    y, v, m = _data(120)
    got = batch.pool_many(y, v, m, chunk_size=40, executor="dask", workers=1)
    assert _bytes(got) == _bytes(batch.pool_many(y, v, m))
    assert len(started) == 1 and isinstance(started[0], distributed.LocalCluster)
    assert len(started[0].workers) == 0 and started[0].status.name == "closed"


@needs_dask
def test_the_scheduler_comes_from_the_environment(scheduler: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALSMETA_SCHEDULER", scheduler)
    y, v, m = _data(200)
    assert _bytes(batch.pool_many(y, v, m, chunk_size=50, executor="dask")) == _bytes(batch.pool_many(y, v, m))


# -- streaming to disk and resuming --------------------------------------------------------------


def _stop_after(n_calls: int) -> Any:
    """A progress callback that presses Ctrl-C after ``n_calls`` chunks."""
    calls = {"n": 0}

    def hook(done: int, total: int) -> None:
        calls["n"] += 1
        if calls["n"] == n_calls:
            raise KeyboardInterrupt

    return hook


def _count_calls(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[tuple[Any, ...]]:
    seen: list[tuple[Any, ...]] = []
    task = getattr(module, name)

    def counting(*args: Any) -> Any:
        seen.append(args)
        return task(*args)

    monkeypatch.setattr(module, name, counting)
    return seen


def test_pool_many_resumes_without_losing_or_repeating_a_chunk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    y, v, m = _data()
    ref = _bytes(batch.pool_many(y, v, m))
    with pytest.warns(AlsmetaWarning, match="interrupted"):
        part = batch.pool_many(y, v, m, chunk_size=100, out=tmp_path, progress=_stop_after(4))
    assert part.interrupted and part.completed_rows == 400
    assert sorted(p.name for p in tmp_path.glob("chunk-*.npz")) == [f"chunk-{i:06d}.npz" for i in range(4)]
    calls = _count_calls(monkeypatch, batch, "_fit_rows")
    full = batch.pool_many(y, v, m, chunk_size=100, out=tmp_path)
    assert len(calls) == 5 and [c[0].shape[0] for c in calls] == [100] * 5  # chunks 4..8 only
    assert not full.interrupted and _bytes(full) == ref
    again = batch.pool_many(y, v, m, chunk_size=100, out=tmp_path)  # all on disk: nothing recomputed
    assert len(calls) == 5 and _bytes(again) == ref
    chunks = list(read_chunks(tmp_path))
    assert [c.index for c, _ in chunks] == list(range(9))
    assert np.concatenate([a["estimate"] for _, a in chunks]).tobytes() == full.estimate.tobytes()


def test_simulation_resumes_without_losing_or_repeating_a_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    per_block = sim._studies_per_block(DESIGNS[0])
    n = 4 * per_block
    ref = _bytes(sim.simulate_trials(HISTORY, DESIGNS[0], n, seed=21, keep_patients=True))
    with pytest.warns(AlsmetaWarning, match="interrupted"):
        part = sim.simulate_trials(
            HISTORY, DESIGNS[0], n, seed=21, keep_patients=True, out=tmp_path, progress=_stop_after(2)
        )
    assert part.interrupted and part.n_studies == 2 * per_block
    calls = _count_calls(monkeypatch, sim, "_simulate_blocks")
    full = sim.simulate_trials(HISTORY, DESIGNS[0], n, seed=21, keep_patients=True, out=tmp_path)
    assert sorted((c[5], c[6]) for c in calls) == [(2, 3), (3, 4)]  # (first block, stop block) of the missing chunks
    assert not full.interrupted and _bytes(full) == ref


@needs_dask
def test_meta_simulation_resumes_on_dask(tmp_path: Path, scheduler: str) -> None:
    per_block = min(sim._studies_per_block(d) for d in DESIGNS)
    n = 3 * per_block
    ref = _bytes(sim.simulate_meta_analyses(HISTORY, DESIGNS, n, seed=31))
    with pytest.warns(AlsmetaWarning, match="interrupted"):
        sim.simulate_meta_analyses(HISTORY, DESIGNS, n, seed=31, out=tmp_path, progress=_stop_after(1))
    written = {p.name for p in tmp_path.glob("chunk-*.npz")}
    assert written
    got = sim.simulate_meta_analyses(HISTORY, DESIGNS, n, seed=31, out=tmp_path, executor="dask", scheduler=scheduler)
    assert _bytes(got) == ref
    assert {p.name for p in tmp_path.glob("chunk-*.npz")} == {f"chunk-{i:06d}.npz" for i in range(3)}


def test_a_folder_of_another_campaign_is_refused(tmp_path: Path) -> None:
    sim.simulate_trials(HISTORY, DESIGNS[0], 10, seed=1, out=tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["job"] == f"simulate {DESIGNS[0].name}" and manifest["params"]["n"] == 10
    with pytest.raises(AlsmetaInputError, match=r"^out: .* different campaign \(its params differ\)"):
        sim.simulate_trials(HISTORY, DESIGNS[0], 10, seed=2, out=tmp_path)
    y, v, m = _data(50)
    with pytest.raises(AlsmetaInputError, match=r"^out: .* different campaign \(its job, params, chunks differ\)"):
        batch.pool_many(y, v, m, out=tmp_path)


# -- results larger than memory: memory-mapped result arrays under out= ------------------------------


def _array_fields(obj: Any) -> dict[str, np.ndarray]:
    return {f.name: getattr(obj, f.name) for f in fields(obj) if isinstance(getattr(obj, f.name), np.ndarray)}


def test_pool_many_with_out_returns_read_only_arrays_mapped_from_the_folder(tmp_path: Path) -> None:
    y, v, m = _data()
    ref = batch.pool_many(y, v, m)
    got = batch.pool_many(y, v, m, chunk_size=200, out=tmp_path)
    assert _bytes(got) == _bytes(ref)
    for name, arr in _array_fields(got).items():
        assert isinstance(arr, np.memmap) and not arr.flags.writeable, name
        assert Path(arr.filename) == tmp_path / "arrays" / f"{name}.npy"
        assert np.load(tmp_path / "arrays" / f"{name}.npy").tobytes() == getattr(ref, name).tobytes()
    assert not list((tmp_path / "arrays").glob(".*"))  # no temporary file left
    assert _bytes(ref) == _bytes(batch.pool_many(y, v, m))  # in memory without out=, as before
    assert not isinstance(batch.pool_many(y, v, m).estimate, np.memmap)


def test_a_result_still_held_survives_a_rerun_in_the_same_folder(tmp_path: Path) -> None:
    y, v, m = _data(300)
    first = batch.pool_many(y, v, m, chunk_size=100, out=tmp_path)
    expected = np.array(first.estimate)  # a copy in memory
    again = batch.pool_many(y, v, m, chunk_size=100, out=tmp_path)  # rewrites arrays/*.npy
    assert first.estimate.tobytes() == expected.tobytes() == again.estimate.tobytes()


def test_pool_many_with_out_holds_one_chunk_in_memory_not_the_result(tmp_path: Path) -> None:
    """Peak numpy allocations during a 200,000-row job: bounded by the chunk with out=, the result without."""
    import tracemalloc

    rng = np.random.default_rng(7)
    y = rng.normal(size=(200_000, 3))
    v = rng.uniform(0.05, 0.5, size=(200_000, 3))
    result_bytes = sum(a.nbytes for a in _array_fields(batch.pool_many(y[:10], v[:10], method="DL")).values()) * 20_000

    def peak(**kw: Any) -> int:
        tracemalloc.start()
        try:
            batch.pool_many(y, v, method="DL", confint=False, chunk_size=2_000, **kw)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    assert result_bytes > 25e6
    assert peak() > result_bytes  # in memory: the whole result
    assert peak(out=tmp_path) < result_bytes / 5  # streamed: a few chunks and the 4 MB input-hashing block


def test_an_interrupted_streamed_result_blanks_the_rows_not_fitted(tmp_path: Path) -> None:
    y, v, m = _data()
    with pytest.warns(AlsmetaWarning, match="interrupted"):
        part = batch.pool_many(y, v, m, chunk_size=100, out=tmp_path, progress=_stop_after(3))
    assert part.completed_rows == 300 and isinstance(part.estimate, np.memmap)
    assert np.isnan(part.estimate[300:]).all() and not part.converged[300:].any()
    assert part.estimate[:300].tobytes() == batch.pool_many(y[:300], v[:300], m[:300]).estimate.tobytes()


def test_a_failed_job_leaves_no_temporary_array_files(tmp_path: Path) -> None:
    y, v, m = _data()

    def fail(done: int, total: int) -> None:
        if done >= 200:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        batch.pool_many(y, v, m, chunk_size=100, out=tmp_path, progress=fail)
    assert sorted(p.name for p in (tmp_path / "arrays").iterdir()) == []
    assert len(list(tmp_path.glob("chunk-*.npz"))) == 2  # the chunks done are kept for the resume


def test_a_refused_folder_is_not_written_to(tmp_path: Path) -> None:
    sim.simulate_trials(HISTORY, DESIGNS[0], 10, seed=1, out=tmp_path)
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    y, v, m = _data(50)
    with pytest.raises(AlsmetaInputError, match="different campaign"):
        batch.pool_many(y, v, m, out=tmp_path)
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")} == before


def test_simulators_with_out_return_mapped_arrays_with_the_same_bytes(tmp_path: Path) -> None:
    per_block = sim._studies_per_block(DESIGNS[0])
    n = 2 * per_block + 3  # the last block runs past n
    ref = sim.simulate_trials(HISTORY, DESIGNS[0], n, seed=5, keep_patients=True)
    got = sim.simulate_trials(HISTORY, DESIGNS[0], n, seed=5, keep_patients=True, out=tmp_path / "t")
    assert _bytes(got) == _bytes(ref) and got.n_studies == n
    assert isinstance(got.mean_change, np.memmap) and isinstance(got.patients.true_rate, np.memmap)
    assert got.patients.true_rate.shape == ref.patients.true_rate.shape
    meta_ref = sim.simulate_meta_analyses(HISTORY, DESIGNS, 7, seed=6)
    meta = sim.simulate_meta_analyses(HISTORY, DESIGNS, 7, seed=6, out=tmp_path / "m")
    assert _bytes(meta) == _bytes(meta_ref)
    assert all(isinstance(a, np.memmap) for a in (meta.yi, meta.vi, meta.mask))
    assert meta.yi.shape == (7, 2) and meta.mask.dtype == bool


def test_result_arrays_refuse_a_name_that_is_not_a_file_name(tmp_path: Path) -> None:
    store = campaign.ResultArrays(3, tmp_path)
    with pytest.raises(ValueError, match="not a file name"):
        store.allocate("../escape", float)
    with campaign.ResultArrays(3, None) as mem:
        mem.write(1, {"x": np.array([1.0, 2.0])})
        assert mem.result(3)["x"][1:].tolist() == [1.0, 2.0]


# -- arguments -------------------------------------------------------------------------------------


def test_bad_executor_arguments_are_named() -> None:
    y, v, m = _data(20)
    with pytest.raises(AlsmetaInputError, match="^executor: must be one of 'serial', 'processes', 'dask'"):
        batch.pool_many(y, v, m, executor="threads")
    with pytest.raises(AlsmetaInputError, match="^scheduler: only used with executor='dask'"):
        sensitivity.bootstrap(FIT, 10, seed=1, scheduler="tcp://localhost:8786")
    with pytest.raises(AlsmetaInputError, match="^workers:"):
        sim.simulate_trials(HISTORY, DESIGNS[0], 10, executor="processes", workers=0)


def test_without_dask_the_dask_executor_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    y, v, m = _data(20)
    with pytest.raises(
        AlsmetaInputError, match=r"^executor='dask' needs the dask extra: pip install 'alsmeta\[dask\]'$"
    ):
        batch.pool_many(y, v, m, executor="dask")


@given(n=st.integers(0, 500), size=st.integers(1, 90), align=st.integers(1, 16))
def test_chunks_cover_the_units_once_on_aligned_starts(n: int, size: int, align: int) -> None:
    chunks = chunks_of(n, size, align)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert np.array_equal(
        np.concatenate([np.arange(c.start, c.stop) for c in chunks] or [np.zeros(0, int)]), np.arange(n)
    )
    assert all(c.start % align == 0 and c.size > 0 for c in chunks)
    assert all(c.size == chunks[0].size for c in chunks[:-1]) and all(c.size >= size for c in chunks[:-1])


def test_completed_prefix_stops_at_the_first_missing_chunk() -> None:
    chunks = [Chunk(i, 10 * i, 10 * i + 10) for i in range(5)]
    assert completed_prefix(chunks, {0, 1, 3}) == 2
    assert completed_prefix(chunks, {1, 2}) == 0
    assert completed_prefix(chunks, set(range(5))) == 5
