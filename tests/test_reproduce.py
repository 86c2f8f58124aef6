"""`alsmeta reproduce`: outputs staged and moved into place, Ctrl-C safe, byte-reproducible."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from alsmeta.cli import main
from alsmeta.io.reporting import dumps, round_significant, write_numbers

ROOT = Path(__file__).resolve().parents[1]

# a fake analysis without the alsmeta import (fast): writes where ALSMETA_FIGURES says, as figures_dir() does
WRITER = """import os, pathlib
OUT = pathlib.Path(os.environ.get("ALSMETA_FIGURES") or "figures") / {name!r}
OUT.mkdir(parents=True, exist_ok=True)
(OUT / "table.csv").write_text("x\\n{value}\\n")
(OUT / "numbers.json").write_text('{{"value": {value}}}')
"""


def _fake_root(tmp_path: Path, scripts: dict[str, str]) -> Path:
    root = tmp_path / "repo"
    (root / "analyses").mkdir(parents=True)
    for name, text in scripts.items():
        (root / "analyses" / name).write_text(text, encoding="utf-8")
    return root


def _previous_outputs(root: Path) -> dict[str, str]:
    figures = root / "figures"
    for name in ("a_first", "b_slow"):
        write_numbers(figures / name, {"value": "old"})
        (figures / name / "table.csv").write_text("x\nold\n")
    (figures / "results.json").write_text('{"old": true}\n')
    return _snapshot(root)


def _snapshot(root: Path) -> dict[str, str]:
    base = root / "figures"
    return {str(p.relative_to(base)): p.read_text() for p in sorted(base.rglob("*")) if p.is_file()}


def test_floats_are_stored_to_ten_significant_digits():
    # the msc2021 Bayesian mu_mean differed in the last digit between two runs of make reproduce
    assert (
        dumps({"mu_mean": 1.0799999999999998}) == dumps({"mu_mean": 1.0800000000000003}) == '{\n  "mu_mean": 1.08\n}\n'
    )
    assert round_significant(0.123456789012345) == 0.123456789
    assert round_significant(-0.0) == 0.0 and str(round_significant(-0.0)) == "0.0"
    assert round_significant(123456789012345.0) == 123456789012345.0  # whole numbers are exact, kept
    assert round_significant(1.7976931348623157e308) == 1.7976931348623157e308
    assert dumps({"x": float("nan"), "y": float("inf")}) == '{\n  "x": null,\n  "y": null\n}\n'


def test_outputs_move_into_place_when_the_script_succeeds(tmp_path):
    root = _fake_root(
        tmp_path,
        {"a_first.py": WRITER.format(name="a_first", value=1.5), "b_slow.py": WRITER.format(name="b_slow", value=2.5)},
    )
    _previous_outputs(root)
    assert main(["reproduce", "--root", str(root)]) == 0
    assert json.loads((root / "figures" / "results.json").read_text()) == {
        "a_first": {"value": 1.5},
        "b_slow": {"value": 2.5},
    }
    assert (root / "figures" / "b_slow" / "table.csv").read_text() == "x\n2.5\n"
    assert sorted(p.name for p in root.iterdir()) == ["analyses", "figures"]  # the staging folder is gone


def test_outputs_an_analysis_no_longer_makes_are_removed(tmp_path):
    # a figure an analysis stopped producing (e.g. the twelve single-row pub3 forests) must not survive reproduce
    root = _fake_root(
        tmp_path,
        {"a_first.py": WRITER.format(name="a_first", value=1.5), "b_slow.py": WRITER.format(name="b_slow", value=2.5)},
    )
    _previous_outputs(root)
    (root / "figures" / "a_first" / "old_forest.png").write_bytes(b"stale")
    (root / "figures" / "unrelated.txt").write_text("kept")  # outside any analysis folder
    assert main(["reproduce", "--root", str(root)]) == 0
    assert not (root / "figures" / "a_first" / "old_forest.png").exists()
    assert sorted(p.name for p in (root / "figures" / "a_first").iterdir()) == ["numbers.json", "table.csv"]
    assert (root / "figures" / "unrelated.txt").read_text() == "kept"


def test_a_failing_analysis_keeps_its_previous_outputs(tmp_path, capsys):
    broken = WRITER.format(name="b_slow", value=9.9) + "raise SystemExit(3)\n"  # writes, then fails
    root = _fake_root(tmp_path, {"a_first.py": WRITER.format(name="a_first", value=1.5), "b_slow.py": broken})
    before = _previous_outputs(root)
    assert main(["reproduce", "--root", str(root)]) == 3
    assert "b_slow.py failed with exit status 3; its previous outputs are kept" in capsys.readouterr().err
    after = _snapshot(root)
    assert after["b_slow/numbers.json"] == before["b_slow/numbers.json"]
    assert after["b_slow/table.csv"] == "x\nold\n"
    assert json.loads(after["a_first/numbers.json"]) == {"value": 1.5}  # the analysis that succeeded is updated
    assert json.loads(after["results.json"]) == {"a_first": {"value": 1.5}, "b_slow": {"value": "old"}}


@pytest.mark.parametrize("target", ["process", "group"])  # kill -INT pid, or Ctrl-C in a terminal (whole group)
def test_ctrl_c_exits_130_with_one_line_and_leaves_previous_outputs(tmp_path, target):
    marker = tmp_path / "b_started"
    slow = WRITER.format(name="b_slow", value=2.5).replace(
        '(OUT / "numbers.json")',
        f'import time\npathlib.Path({str(marker)!r}).touch()\ntime.sleep(60)\n(OUT / "numbers.json")',
    )
    root = _fake_root(tmp_path, {"a_first.py": WRITER.format(name="a_first", value=1.5), "b_slow.py": slow})
    before = _previous_outputs(root)
    proc = subprocess.Popen(
        [sys.executable, "-m", "alsmeta.cli", "reproduce", "--root", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not marker.exists():  # the second analysis is running and has written part of its outputs
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    if target == "group":
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err == "interrupted; previous outputs left as they were\n"
    assert "analyses/b_slow.py" in out
    assert _snapshot(root) == before  # a_first finished, but nothing moves unless the whole run does
    assert sorted(p.name for p in root.iterdir()) == ["analyses", "figures"]


FAST = ["cochrane_2016_pub2.py", "definitive_trial_power.py"]


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_two_reproduce_runs_give_identical_bytes(tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "data", root / "data")
    (root / "analyses").mkdir()
    for script in FAST:
        shutil.copy(ROOT / "analyses" / script, root / "analyses" / script)
    env = dict(os.environ, MPLBACKEND="Agg")
    digests = []
    for run in ("first", "second"):
        done = subprocess.run(
            [sys.executable, "-m", "alsmeta.cli", "reproduce", "--root", str(root), "--figures", str(tmp_path / run)],
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        digests.append(_digest(tmp_path / run))
    assert {"results.json", "cochrane_pub2/numbers.json", "definitive_trial/power_curves.png"} <= set(digests[0])
    assert digests[0] == digests[1]
    assert not (root / "figures").exists()  # --figures is honoured: nothing written into the checkout


def test_a_figure_without_an_index_entry_is_a_one_line_error(tmp_path, capsys):
    undocumented = WRITER.format(name="a_first", value=1.5) + '(OUT / "plot.png").write_bytes(b"png")\n'
    root = _fake_root(tmp_path, {"a_first.py": undocumented})
    assert main(["reproduce", "--root", str(root)]) == 1
    err = capsys.readouterr().err
    assert "figure index" in err and "a_first/plot.png" in err and "Traceback" not in err
