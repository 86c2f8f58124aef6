"""Command-line interface: ``alsmeta es``, ``pool``, ``plot``, ``reproduce``, ``report`` and ``validate-data``.

``alsmeta es MEASURE FILE --ai COL ...`` computes effect sizes (metafor's
escalc, flags named as its arguments) and writes ``label, yi, vi``;
``alsmeta pool FILE`` pools them; ``alsmeta plot forest|funnel FILE -o OUT``
draws the pooled fit. Mistakes are reported on stderr as one line, never a
traceback: usage errors (an unknown flag or measure, a flag the measure does
not take, a bad ``--method``) exit with status 2, as argparse does; data
errors (a missing file or column, bad values, naming the file, the study and
the column) with status 1. Ctrl-C ends a command with exit status 130 and one
line.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import IO, Any

import numpy as np

from alsmeta import __version__
from alsmeta.engine.batch import TESTS, canonical_test
from alsmeta.engine.estimators import METHODS, canonical_method
from alsmeta.io import FIGURES_ENV, EffectsTable, read_effects_csv, write_text
from alsmeta.io.reporting import collect_numbers, dumps, write_figure_index
from alsmeta.models.pooling import PooledResult, pool
from alsmeta.validation import AlsmetaInputError, nonnegative_number, numeric_column, probability_level

EXIT_DATA = 1
"""A mistake in the data (file, column, value): the message names the file, the study and the column."""
EXIT_USAGE = 2
"""A mistake in the command line (argparse's status for usage errors)."""
EXIT_INTERRUPTED = 130
"""128 + SIGINT, as shells report a command ended by Ctrl-C."""

JSON_CHUNK = 65536
"""Per-study values written per chunk by ``pool --json`` (bounds its memory)."""


class CliError(Exception):
    """A mistake in the data to report without a traceback (exit status 1)."""


class UsageError(CliError):
    """A mistake in the command line found after parsing (exit status 2, as argparse's own)."""


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
    streamed: dict[str, Iterable[Any]] = {"yi": fit.yi, "vi": fit.vi, "labels": fit.labels}
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


def _fit_from_csv(args: argparse.Namespace) -> PooledResult:
    """Read yi and vi (or sei) from ``args.file`` and pool them; warnings go to stderr."""
    spread_col = args.sei or args.vi or "vi"
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
            vi, sei = (None, spread) if args.sei else (spread, None)
            fit = pool(yi, vi, sei=sei, method=args.method, test=args.test, level=args.level, labels=labels)
    except AlsmetaInputError as exc:
        raise CliError(f"{args.file}: {exc}") from None
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    return fit


def _cmd_pool(args: argparse.Namespace) -> int:
    fit = _fit_from_csv(args)
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
        return EXIT_DATA
    print(f"{data_dir}: all tables valid")
    return 0


# ---------------------------------------------------------------- alsmeta es
ESCALC_COLUMNS = (
    "ai", "bi", "ci", "di", "n1i", "n2i", "x1i", "x2i", "t1i", "t2i",
    "m1i", "m2i", "sd1i", "sd2i", "xi", "mi", "ri", "ti", "sdi", "ni",
)  # fmt: skip
"""metafor escalc's data arguments, each a ``--flag COLUMN`` of ``alsmeta es``."""


def _es_columns(args: argparse.Namespace) -> dict[str, str]:
    """The column flags given, checked against the measure (a flag it does not take is a usage error)."""
    from alsmeta.effects.escalc import MEASURES

    spec = MEASURES[args.measure]
    columns = {name: getattr(args, name) for name in ESCALC_COLUMNS if getattr(args, name) is not None}
    for name in columns:
        if name not in spec.columns:
            raise UsageError(f"--{name}: not used by measure {args.measure} (it takes --{', --'.join(spec.columns)})")
    for names in spec.required:
        if not any(n in columns for n in names):
            raise UsageError(f"measure {args.measure} needs --{' or --'.join(names)} COLUMN")
    for option in ("add", "to", "drop00", "vtype"):
        if getattr(args, option) is not None and option not in spec.options:
            raise UsageError(f"--{option}: not an option of measure {args.measure}")
    return columns


def _es_table(result: Any) -> str:
    """CSV text with columns label, yi, vi (full precision; NA where a study was dropped)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["label", "yi", "vi"])
    for label, y, v in zip(result.labels, result.yi.tolist(), result.vi.tolist(), strict=True):
        writer.writerow([label, "NA" if y != y else repr(y), "NA" if v != v else repr(v)])
    return buffer.getvalue()


def _es_json(result: Any) -> str:
    def number(x: float) -> float | None:
        return None if x != x else x

    record = {
        "measure": result.measure,
        "labels": list(result.labels),
        "yi": [number(x) for x in result.yi.tolist()],
        "vi": [number(x) for x in result.vi.tolist()],
        "notes": list(result.notes),
    }
    return json.dumps(record, indent=2, allow_nan=False) + "\n"


def _cmd_es(args: argparse.Namespace) -> int:
    import pandas as pd

    from alsmeta.effects.escalc import effect_sizes

    columns = _es_columns(args)
    try:
        table = read_effects_csv(args.file, list(dict.fromkeys(columns.values())), labels=args.labels)
    except AlsmetaInputError as exc:  # the message names the file already
        raise CliError(str(exc)) from None
    labels = table.labels.tolist() if table.labels is not None else [table.label(i) for i in range(table.n_rows)]
    options: dict[str, Any] = {"add": args.add, "to": args.to, "drop00": args.drop00, "vtype": args.vtype}
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            data = pd.DataFrame(table.values)
            columns_any: dict[str, Any] = dict(columns)
            result = effect_sizes(args.measure, data, labels=labels, **options, **columns_any)
    except AlsmetaInputError as exc:
        raise CliError(f"{table.source}: {exc}") from None
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    text = _es_json(result) if args.json else _es_table(result)
    if args.output:
        write_text(Path(args.output), text)
    else:
        sys.stdout.write(text)
    return 0


def _measure_code(text: str) -> str:
    from alsmeta.effects.escalc import MEASURES

    code = text.upper()
    if code not in MEASURES:
        raise argparse.ArgumentTypeError(f"unknown measure {text!r}; choose one of {', '.join(MEASURES)}")
    return code


def _add_es_parser(sub: Any) -> None:
    e = sub.add_parser(
        "es",
        help="effect sizes from a CSV file (metafor's escalc measure codes and argument names)",
        description="Compute effect sizes yi and sampling variances vi; each column flag names the CSV "
        "column holding that escalc argument, e.g. alsmeta es OR trials.csv --ai tpos --bi tneg --ci cpos --di cneg.",
    )
    e.add_argument("measure", type=_measure_code, help="metafor's measure code: OR, RR, RD, PETO, SMD, PFT, ...")
    e.add_argument("file", help="CSV file with one row per study ('-' for standard input)")
    for name in ESCALC_COLUMNS:
        e.add_argument(f"--{name}", metavar="COLUMN", help=argparse.SUPPRESS)
    e.add_argument("--labels", metavar="COLUMN", help="column with study labels (default: row 1, row 2, ...)")
    e.add_argument(
        "--add",
        type=_option_type(lambda t: nonnegative_number(float(t), "add"), "add"),
        help="continuity correction (metafor's default 1/2; 0 for PAS, PFT)",
    )
    e.add_argument("--to", choices=("only0", "all", "if0all", "none"), help="which studies get --add (default only0)")
    e.add_argument("--drop00", action="store_true", default=None, help="NA for studies without events in both groups")
    e.add_argument("--vtype", help="variance estimator where the measure has several (default LS)")
    e.add_argument("--json", action="store_true", help="write JSON (measure, labels, yi, vi, notes) instead of CSV")
    e.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    e.set_defaults(func=_cmd_es)
    e.epilog = "column flags: " + " ".join(f"--{n}" for n in ESCALC_COLUMNS)


# ---------------------------------------------------------------- alsmeta plot
PLOT_FORMATS = ("png", "svg", "pdf")


def _cmd_plot(args: argparse.Namespace) -> int:
    out = Path(args.output)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in PLOT_FORMATS:
        raise UsageError(f"-o: give a file ending in .png, .svg or .pdf, got {args.output!r}")
    fit = _fit_from_csv(args)
    from alsmeta.plots import forest_plot, funnel_plot  # matplotlib is imported only here
    from alsmeta.plots.save import save_figure

    try:
        fig = forest_plot(fit) if args.kind == "forest" else funnel_plot(fit)
        save_figure(fig, out.with_suffix(""), formats=(fmt,))
    except AlsmetaInputError as exc:
        raise CliError(f"{args.file}: {exc}") from None
    print(out)
    return 0


def _add_plot_parser(sub: Any) -> None:
    g = sub.add_parser("plot", help="forest or funnel plot of the pooled studies in a CSV file")
    g.add_argument("kind", choices=("forest", "funnel"), help="which plot")
    _add_fit_arguments(g)
    g.add_argument("-o", "--output", required=True, metavar="OUT", help="output file: .png, .svg or .pdf")
    g.set_defaults(func=_cmd_plot)


def _option_type(canonical: Any, what: str) -> Any:
    """An argparse ``type=`` that checks a value with the library's own validator (a bad value is a usage error)."""

    def check(text: str) -> Any:
        try:
            return canonical(text)
        except (AlsmetaInputError, ValueError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    check.__name__ = what
    return check


def _level(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise AlsmetaInputError(f"level: {text!r} is not a number") from None
    return probability_level(value)


def _add_fit_arguments(p: argparse.ArgumentParser) -> None:
    """The column and model flags shared by ``pool`` and ``plot``."""
    p.add_argument(
        "file",
        help="CSV file with one row per study ('-' for standard input); delimiter ',', ';' "
        "or tab, decimal comma accepted with ';' or tab",
    )
    p.add_argument("--yi", default="yi", help="column with the effect sizes (default yi)")
    spread = p.add_mutually_exclusive_group()
    spread.add_argument("--vi", help="column with the sampling variances (default vi)")
    spread.add_argument("--sei", help="column with the standard errors, instead of --vi")
    p.add_argument("--labels", help="column with (unique) study labels")
    # checked by the library's validators (case-insensitive, aliases EE/FE/HKSJ), which name the valid choices
    p.add_argument(
        "--method",
        default="REML",
        type=_option_type(canonical_method, "method"),
        help=f"tau2 estimator: {', '.join(METHODS)} (default REML)",
    )
    p.add_argument(
        "--test",
        default="z",
        type=_option_type(canonical_test, "test"),
        help=f"inference for the pooled effect: {', '.join(TESTS)} (default z)",
    )
    p.add_argument("--level", type=_option_type(_level, "level"), default=0.95, help="confidence level (default 0.95)")


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
    parser.add_argument("--version", action="version", version=f"alsmeta {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("pool", help="pool study effects from a CSV file")
    _add_fit_arguments(p)
    p.add_argument("--json", action="store_true", help="print the result as JSON (keys = attribute names)")
    p.set_defaults(func=_cmd_pool)

    _add_es_parser(sub)
    _add_plot_parser(sub)

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
    except UsageError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_DATA
    except KeyboardInterrupt:
        if args.command == "reproduce":
            print("interrupted; previous outputs left as they were", file=sys.stderr)
        else:
            print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
