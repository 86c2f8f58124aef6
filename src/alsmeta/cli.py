"""Command-line interface: ``alsmeta pool`` and ``alsmeta reproduce``.

User mistakes (a missing file or column, bad values) are reported on stderr
with exit status 2 and no traceback; the message names the study and column.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from alsmeta.batch import TESTS
from alsmeta.estimators import METHODS
from alsmeta.pooling import pool
from alsmeta.reporting import collect_numbers, dumps
from alsmeta.validation import AlsmetaInputError, numeric_column, study_labels

EXIT_USAGE = 2


class CliError(Exception):
    """A user mistake to report without a traceback."""


def _read_csv(path: str) -> pd.DataFrame:
    p = Path(path)
    if not p.is_file():
        raise CliError(f"{path}: no such file")
    try:
        # keep every cell as text so that bad entries reach the validator as written
        return pd.read_csv(p, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise CliError(f"{path}: cannot be read as CSV ({exc})") from None


def _column(frame: pd.DataFrame, name: str) -> list[object]:
    """Cells of one column: numbers as floats, blanks/NA as None, anything else as text."""
    if name not in frame.columns:
        raise CliError(f"no column {name!r} (columns: {', '.join(map(str, frame.columns))})")
    out: list[object] = []
    for cell in frame[name].tolist():
        text = cell.strip()
        if text == "" or text.upper() in ("NA", "NAN"):
            out.append(None)
            continue
        try:
            out.append(float(text))
        except ValueError:
            out.append(text)
    return out


def _cmd_pool(args: argparse.Namespace) -> int:
    frame = _read_csv(args.file)
    spread_col = args.vi or args.sei
    try:
        if args.labels and args.labels not in frame.columns:
            raise CliError(f"no column {args.labels!r}")
        labels = study_labels(frame[args.labels].tolist() if args.labels else [f"row {i + 1}" for i in range(len(frame))], len(frame))
        # validate with the CSV's own column names, so errors point into the file
        yi = numeric_column(_column(frame, args.yi), args.yi, labels)
        spread = numeric_column(_column(frame, spread_col), spread_col, labels, positive=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            kwargs = {"vi": spread} if args.vi else {"sei": spread}
            fit = pool(yi, **kwargs, method=args.method, test=args.test, level=args.level, labels=labels)
    except (AlsmetaInputError, CliError) as exc:
        raise CliError(f"{args.file}: {exc}") from None
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    if args.json:
        sys.stdout.write(json.dumps(fit.to_dict(), indent=2, allow_nan=False) + "\n")
    else:
        print(fit.summary())
    return 0


def _cmd_reproduce(args: argparse.Namespace) -> int:
    root = Path(args.root).resolve()
    scripts = sorted(p for p in (root / "analyses").glob("*.py") if not p.name.startswith("_"))
    if not (root / "analyses").is_dir():
        raise CliError(f"{root}: no analyses/ directory (run from the alsmeta checkout or pass --root)")
    figures = root / "figures"
    figures.mkdir(exist_ok=True)
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0")
    for script in scripts:
        print(f"[alsmeta reproduce] {script.relative_to(root)}", flush=True)
        done = subprocess.run([sys.executable, str(script)], cwd=root, env=env)
        if done.returncode != 0:
            print(f"error: {script.name} failed with exit status {done.returncode}", file=sys.stderr)
            return done.returncode
    (figures / "results.json").write_text(dumps(collect_numbers(figures)), encoding="utf-8")
    print(f"[alsmeta reproduce] {len(scripts)} analyses; numbers in {figures / 'results.json'}")
    _update_readme(root)
    return 0


README_TEMPLATE = Path("analyses") / "readme_results.template.md"
"""The README's results block, with every number a placeholder into figures/results.json."""


def _update_readme(root: Path) -> None:
    """Regenerate the README's results block from figures/results.json (if the checkout has both)."""
    from alsmeta.evidence.headlines import HeadlineError, update_readme

    readme, template = root / "README.md", root / README_TEMPLATE
    if not (readme.is_file() and template.is_file()):
        return
    try:
        changed = update_readme(readme, template, root / "figures" / "results.json", root=root)
    except HeadlineError as exc:
        raise CliError(f"README results block: {exc}") from None
    print(f"[alsmeta reproduce] README results block {'rewritten' if changed else 'unchanged'}")


def _cmd_validate_data(args: argparse.Namespace) -> int:
    from alsmeta.evidence import validate_data

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alsmeta", description="Meta-analysis reproduction toolkit.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("pool", help="pool study effects from a CSV file")
    p.add_argument("file", help="CSV file with one row per study")
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
    r.set_defaults(func=_cmd_reproduce)

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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
