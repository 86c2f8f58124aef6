"""Campaigns: a batched job split into chunks, run serially, in processes or on Dask, optionally streamed to disk.

Every batched job of alsmeta (``pool_many``, ``gosh``, ``bootstrap``,
``fit_specifications``, ``simulate_trials``, ``simulate_meta_analyses``)
hands its work to :func:`run_campaign` as a list of :class:`Chunk` s of
consecutive units (rows, studies) and a picklable module-level ``task``.
The driver prepares each chunk's arguments, the chosen executor computes
``task(*args)`` and the driver receives the arrays of every chunk:

* ``"serial"`` (default): in this process, as before;
* ``"processes"``: a :class:`concurrent.futures.ProcessPoolExecutor`
  (``spawn`` start method, ``workers`` processes);
* ``"dask"``: ``dask.distributed`` - the cluster at ``scheduler=ADDRESS``
  (or the ``ALSMETA_SCHEDULER`` environment variable), else a
  ``LocalCluster`` started for the job and closed after it.

Identical bytes whatever the executor, the number of workers and the chunk
size: a task's output depends only on its own arguments, never on which
worker runs it or on what ran before. Random numbers are therefore either
drawn by the driver exactly as the serial code always drew them (bootstrap
resamples, random GOSH subsets) or drawn by the task from a stream keyed by
the index of a fixed unit of work (the simulators' blocks:
``SeedSequence(entropy, spawn_key=(..., block))``), whose size does not
depend on the chunking. At most a few chunks are in flight at a time, so
the driver's memory is bounded by the chunk size (and, without ``out=``,
the result).

``out=DIR`` streams the results: each finished chunk is written atomically
to ``DIR/chunk-NNNNNN.npz`` and ``DIR/manifest.json`` records the job (its
name, parameters, a fingerprint of its inputs and the chunk layout). Run
the same call again after an interruption and the chunks already on disk
are read instead of recomputed (none repeated, none lost); a manifest of a
different job is refused. The job's result arrays are then memory-mapped
``DIR/arrays/NAME.npy`` files filled as the chunks arrive
(:class:`ResultArrays`), so neither the job nor its result needs the result
to fit in memory. :func:`read_chunks` iterates over the chunk files one at a
time.
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import os
import uuid
from collections import deque
from collections.abc import Callable, Container, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from alsmeta.io.atomic import atomic_write, write_text
from alsmeta.jsonsafe import json_safe
from alsmeta.progress import Progress, ProgressArg
from alsmeta.validation import AlsmetaInputError, choice, whole_number

EXECUTORS: tuple[str, ...] = ("serial", "processes", "dask")
SCHEDULER_ENV = "ALSMETA_SCHEDULER"
MANIFEST = "manifest.json"
FORMAT_VERSION = 1
_DASK_MISSING = "executor='dask' needs the dask extra: pip install 'alsmeta[dask]'"

Arrays = dict[str, np.ndarray]
Task = Callable[..., Arrays]


@dataclass(frozen=True)
class Chunk:
    """Units ``start:stop`` of a job, the ``index``-th chunk."""

    index: int
    start: int
    stop: int

    @property
    def size(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True)
class CampaignOptions:
    """Where and how a job runs (validated by :func:`campaign_options`)."""

    executor: str = "serial"
    workers: int | None = None
    scheduler: str | None = None
    out: Path | None = None


def campaign_options(
    executor: str = "serial", workers: int | None = None, scheduler: str | None = None, out: str | Path | None = None
) -> CampaignOptions:
    """Validate the executor arguments that every batched job accepts.

    Parameters
    ----------
    executor
        ``"serial"``, ``"processes"`` or ``"dask"``.
    workers
        Worker processes (``"processes"``; default: the CPU count) or workers
        of the ``LocalCluster`` started for a Dask job. Ignored with an
        existing Dask cluster.
    scheduler
        Address of a running Dask scheduler (``"tcp://host:8786"``); default
        the ``ALSMETA_SCHEDULER`` environment variable, else a LocalCluster.
    out
        Folder to stream the chunks to (see the module docstring).
    """
    executor = choice(executor, "executor", EXECUTORS)
    if workers is not None:
        workers = whole_number(workers, "workers", minimum=1)
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
        raise AlsmetaInputError(f"scheduler: expected a scheduler address such as 'tcp://host:8786', got {scheduler!r}")
    if scheduler is not None and executor != "dask":
        raise AlsmetaInputError(f"scheduler: only used with executor='dask' (executor is {executor!r})")
    return CampaignOptions(executor, workers, scheduler, None if out is None else Path(out))


def chunks_of(n_units: int, chunk_size: int, align: int = 1) -> list[Chunk]:
    """Split ``n_units`` into chunks of ``chunk_size`` units (rounded up to a multiple of ``align``)."""
    size = max(align, int(math.ceil(chunk_size / align)) * align)
    return [Chunk(i, a, min(n_units, a + size)) for i, a in enumerate(range(0, n_units, size))]


def fingerprint(*parts: Any) -> str:
    """SHA-256 of a job's inputs: arrays (shape, dtype and values, streamed by rows) and JSON-able values."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            a = part
            if a.ndim and a.shape[0] > 1 and a.strides[0] == 0:  # one row broadcast: hash it once
                h.update(b"broadcast")
                a = a[:1]
            h.update(repr((a.shape, a.dtype.str)).encode())
            step = max(1, (1 << 22) // max(1, a[:1].nbytes)) if a.ndim else 1
            for i in range(0, a.shape[0] if a.ndim else 1, step):
                h.update(np.ascontiguousarray(a[i : i + step] if a.ndim else a).tobytes())
        else:
            h.update(json.dumps(json_safe(part), sort_keys=True, default=repr).encode())
    return h.hexdigest()


def completed_prefix(chunks: Sequence[Chunk], finished: Container[int]) -> int:
    """How many leading chunks are finished (a result after an interruption keeps only those)."""
    for i, c in enumerate(chunks):
        if c.index not in finished:
            return i
    return len(chunks)


# -- streaming to disk ---------------------------------------------------------------------


def _chunk_path(folder: Path, index: int) -> Path:
    return folder / f"chunk-{index:06d}.npz"


def _open_store(folder: Path, job: str, params: Mapping[str, Any], chunks: Sequence[Chunk]) -> set[int]:
    """Create or check the manifest of ``folder``; return the indices of the chunks already written."""
    manifest = {
        "format": FORMAT_VERSION,
        "job": job,
        "params": json_safe(dict(params)),
        "chunks": [[c.start, c.stop] for c in chunks],
    }
    path = folder / MANIFEST
    if path.exists():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise AlsmetaInputError(f"out: {path} is not a readable campaign manifest ({exc})") from None
        if old != json.loads(json.dumps(manifest)):
            what = [k for k in manifest if old.get(k) != json.loads(json.dumps(manifest[k]))]
            raise AlsmetaInputError(
                f"out: {folder} holds a different campaign (its {', '.join(what) or 'manifest'} differ); "
                "choose another folder or delete it"
            )
    else:
        folder.mkdir(parents=True, exist_ok=True)
        write_text(path, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return {c.index for c in chunks if _chunk_path(folder, c.index).exists()}


def _save_chunk(folder: Path, index: int, arrays: Arrays) -> None:
    with atomic_write(_chunk_path(folder, index), "wb") as fh:
        np.savez(fh, **arrays)  # type: ignore[arg-type]  # numpy stubs read the names as savez options


def _load_chunk(folder: Path, index: int) -> Arrays:
    with np.load(_chunk_path(folder, index), allow_pickle=False) as z:
        return {name: z[name] for name in z.files}


def read_chunks(out: str | Path) -> Iterator[tuple[Chunk, Arrays]]:
    """Iterate over the chunks of a campaign written with ``out=`` (in order; missing chunks are skipped)."""
    folder = Path(out)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AlsmetaInputError(f"out: {folder} has no readable campaign manifest ({exc})") from None
    for i, (a, b) in enumerate(manifest["chunks"]):
        if _chunk_path(folder, i).exists():
            yield Chunk(i, a, b), _load_chunk(folder, i)


# -- the result arrays ------------------------------------------------------------------------

ARRAYS = "arrays"


class ResultArrays:
    """A job's result arrays, one row per unit: in memory, or ``.npy`` files memory-mapped under ``out``.

    Without a folder the arrays are ordinary numpy arrays. With ``folder``
    each array is a memory-mapped ``folder/arrays/NAME.npy`` file filled
    chunk by chunk as the campaign runs, so the job never holds more than a
    chunk in memory however large its result: the operating system pages the
    rows in and out. :meth:`result` flushes the files and returns them as
    read-only :class:`numpy.memmap` arrays (an ``ndarray`` subclass: every
    numpy, pandas and alsmeta function accepts them; touching them reads from
    disk). The files are written under a temporary name and renamed when
    complete, so an array returned by an earlier run of the same campaign stays
    valid (POSIX keeps the old file alive while it is mapped). Nothing is
    written before the first :meth:`allocate`, so a job allocates inside
    :func:`run_campaign` (after the manifest check). Use as a context manager:
    on an error the temporary files are removed.

    Parameters
    ----------
    n_rows
        Rows of every array (the job's units).
    folder
        The campaign folder (``out=``), or None to keep the arrays in memory.
    """

    def __init__(self, n_rows: int, folder: Path | None = None) -> None:
        self.n_rows = int(n_rows)
        self.folder = None if folder is None else Path(folder) / ARRAYS
        self.arrays: dict[str, np.ndarray] = {}
        self._tmp: dict[str, Path] = {}

    def __enter__(self) -> ResultArrays:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()

    def allocate(self, name: str, dtype: npt.DTypeLike, trailing: tuple[int, ...] = ()) -> np.ndarray:
        """The array ``name`` of shape ``(n_rows, *trailing)``, created on first use."""
        if name in self.arrays:
            return self.arrays[name]
        shape = (self.n_rows, *trailing)
        if self.folder is None:
            arr = np.empty(shape, dtype=dtype)
        else:
            if not name or "/" in name or name.startswith("."):
                raise ValueError(f"result array name {name!r} is not a file name")
            if not self._tmp:  # the first file: only now, after run_campaign has checked the manifest
                self.folder.mkdir(parents=True, exist_ok=True)
                for stale in self.folder.glob(".*.tmp"):  # left by a run that was killed
                    stale.unlink(missing_ok=True)
            tmp = self.folder / f".{name}.{uuid.uuid4().hex[:12]}.tmp"
            self._tmp[name] = tmp
            arr = np.lib.format.open_memmap(tmp, mode="w+", dtype=dtype, shape=shape)
        self.arrays[name] = arr
        return arr

    def write(self, start: int, arrays: Mapping[str, np.ndarray], rows: int | None = None) -> None:
        """Put the first ``rows`` rows (default all) of each of ``arrays`` at rows ``start:``.

        Arrays not yet allocated take their dtype and trailing shape from
        the first chunk written. A chunk computed in place (a view of the
        result array) is not copied.
        """
        for name, part in arrays.items():
            n = part.shape[0] if rows is None else rows
            target = self.allocate(name, part.dtype, part.shape[1:])
            if part.base is target and part.ctypes.data == target[start:].ctypes.data:
                continue  # computed in place
            target[start : start + n] = part[:n]

    def blank_from(self, row: int) -> None:
        """Mark rows ``row:`` as not computed: NaN (floats), 0 (integers), False (booleans)."""
        for arr in self.arrays.values():
            arr[row:] = np.nan if arr.dtype.kind in "fc" else 0

    def result(self, n_keep: int | None = None) -> dict[str, np.ndarray]:
        """The arrays, their first ``n_keep`` rows (default all); on disk: flushed, renamed and reopened read-only."""
        n = self.n_rows if n_keep is None else int(n_keep)
        if self.folder is None:
            return {name: arr[:n] for name, arr in self.arrays.items()}
        out: dict[str, np.ndarray] = {}
        for name, arr in self.arrays.items():
            if isinstance(arr, np.memmap):
                arr.flush()
            final = self.folder / f"{name}.npy"
            os.replace(self._tmp.pop(name), final)
            out[name] = np.load(final, mmap_mode="r")[:n]
        self.arrays = {}
        return out

    def discard(self) -> None:
        """Remove the temporary files of arrays not returned by :meth:`result`."""
        self.arrays = {}
        for tmp in self._tmp.values():
            tmp.unlink(missing_ok=True)
        self._tmp = {}


# -- executors -----------------------------------------------------------------------------

Prepare = Callable[[Chunk], tuple[Any, ...]]
Collect = Callable[[Chunk, Arrays], None]


def run_campaign(
    task: Task,
    prepare: Prepare,
    chunks: Sequence[Chunk],
    collect: Collect,
    options: CampaignOptions = CampaignOptions(),
    *,
    job: str,
    params: Mapping[str, Any] | None = None,
    progress: ProgressArg = None,
    unit: str = "fits",
) -> None:
    """Compute ``task(*prepare(chunk))`` for every chunk and pass each result to ``collect(chunk, arrays)``.

    ``task`` must be a picklable module-level function for the
    ``"processes"`` and ``"dask"`` executors. Chunks are collected in
    completion order (in order when serial). With ``options.out`` the chunks
    already on disk are collected from there and not recomputed; ``job`` and
    ``params`` identify the campaign in the manifest. A
    ``KeyboardInterrupt`` (Ctrl-C, or raised by a ``progress`` callback)
    cancels the pending chunks and propagates; the chunks collected before it
    stay collected (and written).
    """
    total = sum(c.size for c in chunks)
    folder = options.out
    on_disk = _open_store(folder, job, params or {}, chunks) if folder is not None else set()

    def finish(chunk: Chunk, arrays: Arrays) -> None:
        if folder is not None and chunk.index not in on_disk:
            _save_chunk(folder, chunk.index, arrays)
        collect(chunk, arrays)

    todo = [c for c in chunks if c.index not in on_disk]
    with Progress(total, desc=job, enabled=progress, unit=unit) as bar:
        for c in chunks:
            if folder is not None and c.index in on_disk:
                finish(c, _load_chunk(folder, c.index))
                bar.update(c.size)
        if options.executor == "serial":
            for c in todo:
                finish(c, task(*prepare(c)))
                bar.update(c.size)
        elif options.executor == "processes":
            _run_processes(task, prepare, todo, finish, bar, options.workers or os.cpu_count() or 1)
        else:
            _run_dask(task, prepare, todo, finish, bar, options)


def _run_processes(task: Task, prepare: Prepare, todo: Sequence[Chunk], finish: Collect, bar: Progress, n: int) -> None:
    """At most ``2 n`` chunks in flight, so the prepared inputs stay bounded."""
    pending: dict[Future[Arrays], Chunk] = {}
    queue = deque(todo)
    with ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn")) as pool:
        try:
            while queue or pending:
                while queue and len(pending) < 2 * n:
                    c = queue.popleft()
                    pending[pool.submit(task, *prepare(c))] = c
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in sorted(done, key=lambda f: pending[f].index):
                    c = pending.pop(fut)
                    finish(c, fut.result())
                    bar.update(c.size)
        except BaseException:
            for fut in pending:
                fut.cancel()
            raise


def _dask_client(options: CampaignOptions) -> tuple[Any, Any]:
    """A client of the given scheduler, else of a LocalCluster started here (returned to be closed)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise AlsmetaInputError(_DASK_MISSING) from None
    address = options.scheduler or os.environ.get(SCHEDULER_ENV) or None
    if address:
        return Client(address, set_as_default=False), None
    cluster = LocalCluster(
        n_workers=options.workers or os.cpu_count() or 1, threads_per_worker=1, dashboard_address=":0"
    )
    return Client(cluster, set_as_default=False), cluster


def _run_dask(
    task: Task, prepare: Prepare, todo: Sequence[Chunk], finish: Collect, bar: Progress, options: CampaignOptions
) -> None:
    """Chunks as futures on the cluster, twice its threads in flight (the driver's memory stays bounded)."""
    client, cluster = _dask_client(options)
    from distributed import as_completed

    try:
        if client.scheduler_info(n_workers=0).get("services", {}).get("dashboard"):
            bar.note(f"{bar.desc}: Dask dashboard at {client.dashboard_link}")
        window = 2 * max(1, sum(client.nthreads().values()))
        queue = deque(todo)
        chunk_of: dict[str, Chunk] = {}
        token = uuid.uuid4().hex[:12]

        def submit(c: Chunk) -> Any:
            fut = client.submit(task, *prepare(c), key=f"alsmeta-{token}-{c.index}", pure=False)
            chunk_of[fut.key] = c
            return fut

        running = as_completed([submit(queue.popleft()) for _ in range(min(window, len(queue)))], loop=client.loop)
        try:
            for fut in running:
                c = chunk_of.pop(fut.key)
                arrays = fut.result()
                fut.release()
                finish(c, arrays)
                bar.update(c.size)
                if queue:
                    running.add(submit(queue.popleft()))
        except BaseException:
            client.cancel(list(running.futures))
            raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
