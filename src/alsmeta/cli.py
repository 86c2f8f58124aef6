"""Command-line interface: ``alsmeta pool``, ``alsmeta reproduce`` and ``alsmeta report``.

User mistakes (a missing file or column, bad values) are reported on stderr
as one line with exit status 2 and no traceback; the message names the file,
the study and the column. Ctrl-C ends a command with exit status 130 and one
line, never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import IO, Any

import numpy as np

from alsmeta.engine.batch import TESTS
from alsmeta.engine.estimators import METHODS
from alsmeta.io import FIGURES_ENV, EffectsTable, read_effects_csv, write_text
from alsmeta.io.reporting import collect_numbers, dumps, write_figure_index
from alsmeta.models.pooling import PooledResult, pool
from alsmeta.validation import AlsmetaInputError, numeric_column

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
"""128 + SIGINT, as shells report a command ended by Ctrl-C."""

JSON_CHUNK = 65536
"""Per-study values written per chunk by ``pool --json`` (bounds its memory)."""


class CliError(Exception):
    """A user mistake to report without a traceback."""


def _checked_column(table: EffectsTable, column: str, positive: bool = False) -> np.ndarray:
    """The numbers of ``column``, or an error naming the first bad study (vectorised check)."""
    values = table.values[column]
    bad = ~np.isfinite(values)
    if positive:
        bad |= values <= 0
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        cell = None if np.isnan(values[i]) else float(values[i])
        # the library's own message for this one value
        numeric_column([cell], column, [table.label(i)], positive=positive)
        raise AlsmetaInputError(f"study {table.label(i)!r}, column {column!r}: value {cell!r} is not allowed")
    return values


def _checked_labels(table: EffectsTable, column: str | None) -> list[str]:
    """Study labels: the label column (non-empty, unique) or ``row 1``, ``row 2`` ..."""
    if column is None or table.labels is None:
        return [f"row {i + 1}" for i in range(table.n_rows)]
    labels = table.labels
    empty = ((labels == "") | labels.str.isspace()).to_numpy()
    if empty.any():
        raise AlsmetaInputError(f"column {column!r}: row {int(np.flatnonzero(empty)[0]) + 1} has an empty study label")
    dup = labels.duplicated().to_numpy()
    if dup.any():
        j = int(np.flatnonzero(dup)[0])
        i = int(np.flatnonzero((labels == labels.iloc[j]).to_numpy())[0])
        raise AlsmetaInputError(
            f"column {column!r}: duplicate study label {labels.iloc[j]!r} (rows {i + 1} and {j + 1})"
        )
    return labels.tolist()


def _json_value_lines(values: Sequence[Any] | np.ndarray, encode: Any, out: IO[str]) -> None:
    """Write a JSON list at indent level 1 (as ``json.dumps(indent=2)``), in chunks."""
    n = len(values)
    if n == 0:
        out.write("[]")
        return
    out.write("[\n    ")
    for start in range(0, n, JSON_CHUNK):
        chunk = values[start : start + JSON_CHUNK]
        if start:
            out.write(",\n    ")
        if isinstance(chunk, np.ndarray):
            if not np.isfinite(chunk).all():
                raise ValueError("Out of range float values are not JSON compliant")
            chunk = chunk.tolist()
        out.write(",\n    ".join(map(encode, chunk)))
    out.write("\n  ]")


def write_result_json(fit: PooledResult, out: IO[str]) -> None:
    """Write ``fit.to_dict()`` as ``json.dumps(..., indent=2)`` would, streaming the per-study lists.

    The scalar part comes from :meth:`PooledResult.to_dict` on a copy without
    the study data; ``yi``, ``vi`` and ``labels`` are written in chunks of
    :data:`JSON_CHUNK`, so a million-study result never exists as one string
    or one list of Python floats.
    """
    streamed = {"yi": fit.yi, "vi": fit.vi, "labels": fit.labels}
    try:
        head = dataclasses.replace(fit, yi=np.empty(0), vi=np.empty(0), labels=()).to_dict()
    except (TypeError, ValueError):  # a result type that refuses an empty copy: plain (unstreamed) dict
        head = fit.to_dict()
    out.write("{")
    for n, (key, value) in enumerate(head.items()):
        out.write(("," if n else "") + "\n  " + json.dumps(key) + ": ")
        if key in ("yi", "vi"):
            _json_value_lines(np.asarray(streamed[key], dtype=float), float.__repr__, out)
        elif key == "labels":
            _json_value_lines(list(streamed[key]), encode_basestring_ascii, out)
        else:
            text = json.dumps(value, indent=2, allow_nan=False)
            out.write(text.replace("\n", "\n  "))
    out.write("\n}\n")


def _cmd_pool(args: argparse.Namespace) -> int:
    spread_col = args.vi or args.sei
    try:
        table = read_effects_csv(args.file, [args.yi, spread_col], labels=args.labels)
    except AlsmetaInputError as exc:  # the message names the file already
        raise CliError(str(exc)) from None
    try:
        labels = _checked_labels(table, args.labels)
        yi = _checked_column(table, args.yi)
        spread = _checked_column(table, spread_col, positive=True)
        del table
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            kwargs = {"vi": spread} if args.vi else {"sei": spread}
            fit = pool(yi, **kwargs, method=args.method, test=args.test, level=args.level, labels=labels)
    except AlsmetaInputError as exc:
        raise CliError(f"{args.file}: {exc}") from None
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    if args.json:
        write_result_json(fit, sys.stdout)
    else:
        print(fit.summary())
    return 0


@contextmanager
def _sigint_deferred() -> Iterator[list[int]]:
    """Hold Ctrl-C until the block ends, so a group of renames completes; yields the signals received."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield received
    finally:
        signal.signal(signal.SIGINT, previous)


def _run_script(script: Path, root: Path, env: dict[str, str]) -> int:
    """Run one analysis in its own session (Ctrl-C reaches only us; we stop the child quietly)."""
    proc = subprocess.Popen([sys.executable, str(script)], cwd=root, env=env, start_new_session=True)
    try:
        return proc.wait()
    except BaseException:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        raise


def _publish(stage: Path, figures: Path) -> int:
    """Move every file under ``stage`` to the same place under ``figures`` (``os.replace``, atomic per file).

    A folder of ``figures`` that the analysis wrote (``figures/<folder>/``) then
    holds exactly what this run produced: files an earlier run left there and
    this run did not write (a figure the analysis no longer makes) are removed,
    so no stale output survives a reproduce.
    """
    files = sorted(p for p in stage.rglob("*") if p.is_file())
    produced = {figures / src.relative_to(stage) for src in files}
    for src in files:
        dest = figures / src.relative_to(stage)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dest)
    for folder in sorted(
        {figures / p.relative_to(stage).parts[0] for p in files if len(p.relative_to(stage).parts) > 1}
    ):
        for old in sorted(q for q in folder.rglob("*") if q.is_file() and q not in produced):
            old.unlink()
    return len(files)


def _cmd_reproduce(args: argparse.Namespace) -> int:
    root = Path(args.root).resolve()
    if not (root / "analyses").is_dir():
        raise CliError(f"{root}: no analyses/ directory (run from the alsmeta checkout or pass --root)")
    scripts = sorted(p for p in (root / "analyses").glob("*.py") if not p.name.startswith("_"))
    figures = Path(args.figures).resolve() if args.figures else root / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    # staged beside figures/ (same file system, so the final renames are atomic)
    staging = Path(tempfile.mkdtemp(prefix=".alsmeta-reproduce-", dir=figures.parent))
    done: list[Path] = []
    failed = 0
    try:
        for script in scripts:
            print(f"[alsmeta reproduce] {script.relative_to(root)}", flush=True)
            stage = staging / script.stem
            stage.mkdir()
            env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0", **{FIGURES_ENV: str(stage)})
            code = _run_script(script, root, env)
            if code != 0:
                print(
                    f"error: {script.name} failed with exit status {code}; its previous outputs are kept",
                    file=sys.stderr,
                )
                failed = code
                break
            done.append(stage)
        with _sigint_deferred() as interrupted:  # finished outputs move into place together, results.json last
            for stage in done:
                _publish(stage, figures)
            write_text(figures / "results.json", dumps(collect_numbers(figures)))
            try:
                write_figure_index(figures)
            except AlsmetaInputError as exc:
                raise CliError(f"figure index: {exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if interrupted:
        print("interrupted while moving the finished outputs into place; they are all in place", file=sys.stderr)
        return EXIT_INTERRUPTED
    if failed:
        return failed
    print(f"[alsmeta reproduce] {len(scripts)} analyses; numbers in {figures / 'results.json'}")
    if figures == root / "figures":  # a run into another folder (e.g. check-reproducible) leaves README alone
        _update_readme(root)
    return 0


README_TEMPLATE = Path("analyses") / "readme_results.template.md"
"""The README's results block, with every number a placeholder into figures/results.json."""


def _update_readme(root: Path) -> None:
    """Regenerate the README's results block from figures/results.json (if the checkout has both)."""
    from alsmeta.als.headlines import HeadlineError, update_readme

    readme, template = root / "README.md", root / README_TEMPLATE
    if not (readme.is_file() and template.is_file()):
        return
    try:
        changed = update_readme(readme, template, root / "figures" / "results.json", root=root)
    except HeadlineError as exc:
        raise CliError(f"README results block: {exc}") from None
    print(f"[alsmeta reproduce] README results block {'rewritten' if changed else 'unchanged'}")


def _cmd_validate_data(args: argparse.Namespace) -> int:
    from alsmeta.als import validate_data

    data_dir = Path(args.data)
    if not data_dir.is_dir():
        raise CliError(f"{data_dir}: no such directory")
    issues = validate_data(data_dir)
    for issue in issues:
        print(f"error: {issue}", file=sys.stderr)
    if issues:
        print(f"{len(issues)} problem(s) in {data_dir}", file=sys.stderr)
        return EXIT_USAGE
    print(f"{data_dir}: all tables valid")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from alsmeta.als.report import build_report

    try:
        index = build_report(args.figures, args.data, args.out)
    except AlsmetaInputError as exc:  # the message names the file already
        raise CliError(str(exc)) from None
    print(f"[alsmeta report] {index}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alsmeta", description="Meta-analysis reproduction toolkit.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("pool", help="pool study effects from a CSV file")
    p.add_argument(
        "file",
        help="CSV file with one row per study ('-' for standard input); delimiter ',', ';' "
        "or tab, decimal comma accepted with ';' or tab",
    )
    p.add_argument("--yi", required=True, help="column with the effect sizes")
    spread = p.add_mutually_exclusive_group(required=True)
    spread.add_argument("--vi", help="column with the sampling variances")
    spread.add_argument("--sei", help="column with the standard errors")
    p.add_argument("--labels", help="column with (unique) study labels")
    # validated by pool() (case-insensitive, aliases EE/FE/HKSJ), which names the valid choices on error
    p.add_argument("--method", default="REML", help=f"tau2 estimator: {', '.join(METHODS)} (default REML)")
    p.add_argument("--test", default="z", help=f"inference for the pooled effect: {', '.join(TESTS)} (default z)")
    p.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    p.add_argument("--json", action="store_true", help="print the result as JSON (keys = attribute names)")
    p.set_defaults(func=_cmd_pool)

    r = sub.add_parser("reproduce", help="run every analysis script and write figures/results.json")
    r.add_argument("--root", default=".", help="alsmeta checkout (default: current directory)")
    r.add_argument("--figures", help="output folder (default: ROOT/figures)")
    r.set_defaults(func=_cmd_reproduce)

    w = sub.add_parser("report", help="build the reproduction as one web page (report/index.html)")
    w.add_argument("--figures", default="figures", help="folder written by `alsmeta reproduce` (default: figures)")
    w.add_argument("--data", default="data", help="the evidence tables linked as provenance (default: data)")
    w.add_argument("--out", default="report", help="output folder (default: report)")
    w.set_defaults(func=_cmd_report)

    v = sub.add_parser("validate-data", help="check the curated evidence tables in data/")
    v.add_argument("--data", default="data", help="directory with the tables (default: data)")
    v.set_defaults(func=_cmd_validate_data)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        if args.command == "reproduce":
            print("interrupted; previous outputs left as they were", file=sys.stderr)
        else:
            print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
