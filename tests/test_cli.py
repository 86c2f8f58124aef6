"""The command-line interface: same numbers as the library, clean errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import alsmeta as am
from alsmeta.cli import main


def _write_csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "studies.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture()
def bcg_csv(tmp_path, bcg):
    yi, vi = bcg
    lines = ["trial,logrr,var"] + [
        f"T{i + 1},{float(y)!r},{float(v)!r}" for i, (y, v) in enumerate(zip(yi, vi, strict=True))
    ]
    return _write_csv(tmp_path, "\n".join(lines) + "\n")


@pytest.mark.parametrize(("method", "test"), [("REML", "z"), ("DL", "knha"), ("PM", "adhoc"), ("CE", "t")])
def test_json_equals_library_result(bcg_csv, bcg, capsys, method, test):
    yi, vi = bcg
    code = main(
        [
            "pool",
            str(bcg_csv),
            "--yi",
            "logrr",
            "--vi",
            "var",
            "--labels",
            "trial",
            "--method",
            method,
            "--test",
            test,
            "--json",
        ]
    )
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    expected = am.pool(yi, vi, method=method, test=test, labels=[f"T{i + 1}" for i in range(13)]).to_dict()
    assert printed == json.loads(json.dumps(expected))
    assert set(printed) >= {
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "pvalue",
        "tau2",
        "tau2_ci_low",
        "i2",
        "h2",
        "q",
        "pi_low",
        "pi_high",
    }


def test_sei_column_and_level(bcg_csv, bcg, capsys, tmp_path):
    yi, vi = bcg
    text = "y,se\n" + "\n".join(f"{float(y)!r},{float(np.sqrt(v))!r}" for y, v in zip(yi, vi, strict=True)) + "\n"
    path = _write_csv(tmp_path, text)
    assert main(["pool", str(path), "--yi", "y", "--sei", "se", "--level", "90", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["level"] == 0.9
    assert printed["ci_low"] == pytest.approx(am.pool(yi, vi, level=0.9).ci_low, rel=1e-12)


def test_text_summary(bcg_csv, capsys):
    assert main(["pool", str(bcg_csv), "--yi", "logrr", "--vi", "var"]) == 0
    assert "Random-effects model (k = 13" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("csv", "args", "message"),
    [
        ("name,y,v\nA,0.1,0.01\nB,abc,0.02\n", ["--labels", "name"], "study 'B', column 'y': 'abc' is not a number"),
        ("name,y,v\nA,0.1,0.01\nB,0.2,-1\n", ["--labels", "name"], "study 'B', column 'v': value -1.0 must be > 0"),
        ("name,y,v\nA,0.1,0.01\nB,,0.02\n", ["--labels", "name"], "study 'B', column 'y': value is missing"),
        ("y,v\n0.1,0.01\n0.2,0\n", [], "study 'row 2', column 'v': value 0.0 must be > 0"),
        ("y,v\n0.1,0.01\n", ["--labels", "nope"], "no column 'nope'"),
    ],
)
def test_user_mistakes_exit_2_without_traceback(tmp_path, capsys, csv, args, message):
    path = _write_csv(tmp_path, csv)
    code = main(["pool", str(path), "--yi", "y", "--vi", "v", *args])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_missing_file_and_column(tmp_path, capsys):
    assert main(["pool", str(tmp_path / "none.csv"), "--yi", "y", "--vi", "v"]) == 2
    assert "no such file" in capsys.readouterr().err
    path = _write_csv(tmp_path, "y,v\n0.1,0.01\n")
    assert main(["pool", str(path), "--yi", "effect", "--vi", "v"]) == 2
    assert "no column 'effect' (columns: y, v)" in capsys.readouterr().err


def test_console_script_runs_as_a_process(bcg_csv):
    done = subprocess.run(
        [sys.executable, "-m", "alsmeta.cli", "pool", str(bcg_csv), "--yi", "logrr", "--vi", "var", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["k"] == 13


def test_reproduce_runs_scripts_and_collects_numbers(tmp_path):
    (tmp_path / "analyses").mkdir()
    (tmp_path / "analyses" / "b_second.py").write_text(
        "from alsmeta.io.reporting import write_numbers\n"
        "write_numbers('figures/b_second', {'x': 2.5, 'nan': float('nan')})\n"
    )
    (tmp_path / "analyses" / "a_first.py").write_text(
        "from alsmeta.io.reporting import write_numbers\nwrite_numbers('figures/a_first', {'k': 0})\n"
    )
    (tmp_path / "analyses" / "_helper.py").write_text("raise SystemExit('helpers are not analyses')\n")
    assert main(["reproduce", "--root", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "figures" / "results.json").read_text())
    assert results == {"a_first": {"k": 0}, "b_second": {"nan": None, "x": 2.5}}


def test_reproduce_stops_on_a_failing_analysis(tmp_path, capsys):
    (tmp_path / "analyses").mkdir()
    (tmp_path / "analyses" / "broken.py").write_text("raise SystemExit(3)\n")
    assert main(["reproduce", "--root", str(tmp_path)]) == 3
    assert "broken.py failed" in capsys.readouterr().err


def test_method_and_test_are_case_insensitive_and_checked(bcg_csv, capsys):
    assert (
        main(["pool", str(bcg_csv), "--yi", "logrr", "--vi", "var", "--method", "reml", "--test", "HKSJ", "--json"])
        == 0
    )
    printed = json.loads(capsys.readouterr().out)
    assert printed["method"] == "REML" and printed["test"] == "knha"
    assert main(["pool", str(bcg_csv), "--yi", "logrr", "--vi", "var", "--method", "bogus"]) == 2
    err = capsys.readouterr().err
    assert "unknown tau2 estimator 'bogus'" in err and "REML" in err and "Traceback" not in err


def test_semicolon_and_decimal_comma_give_the_same_result(tmp_path, capsys):
    dot = _write_csv(tmp_path, "name,y,v\nA,0.1,0.01\nB,0.4,0.05\nC,-0.2,0.02\n")
    assert main(["pool", str(dot), "--yi", "y", "--vi", "v", "--labels", "name", "--json"]) == 0
    expected = json.loads(capsys.readouterr().out)
    comma = tmp_path / "excel.csv"
    comma.write_text("name;y;v\nA;0,1;0,01\nB;0,4;0,05\nC;-0,2;0,02\n", encoding="utf-8")
    assert main(["pool", str(comma), "--yi", "y", "--vi", "v", "--labels", "name", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == expected


@pytest.mark.parametrize(
    ("csv", "message"),
    [
        ("name,y,v\nA,0,1,0,01\n", "line 2 has 5 fields but the header has 3"),
        ("name,y,v,y\nA,0.1,0.01,0.3\n", "duplicated column header 'y' (columns 2, 4)"),
        ("name;y;v\nA;0,1;0,01\nB;0.2;0,02\n", "column 'y' mixes decimal points"),
    ],
)
def test_csv_format_mistakes_are_one_line(tmp_path, capsys, csv, message):
    path = _write_csv(tmp_path, csv)
    assert main(["pool", str(path), "--yi", "y", "--vi", "v", "--labels", "name"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: {path}: ") and message in err


def test_directory_is_named_as_such(tmp_path, capsys):
    assert main(["pool", str(tmp_path), "--yi", "y", "--vi", "v"]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path}: is a directory, expected a CSV file\n"


def test_empty_and_duplicate_labels_name_the_rows(tmp_path, capsys):
    path = _write_csv(tmp_path, "name,y,v\nA,0.1,0.01\nB,0.2,0.02\nA,0.3,0.03\n")
    assert main(["pool", str(path), "--yi", "y", "--vi", "v", "--labels", "name"]) == 2
    assert "column 'name': duplicate study label 'A' (rows 1 and 3)" in capsys.readouterr().err
    path = _write_csv(tmp_path, "name,y,v\nA,0.1,0.01\n  ,0.2,0.02\n")
    assert main(["pool", str(path), "--yi", "y", "--vi", "v", "--labels", "name"]) == 2
    assert "column 'name': row 2 has an empty study label" in capsys.readouterr().err


@pytest.mark.parametrize("chunk", [1, 2, 65536])
def test_json_is_streamed_byte_for_byte_as_json_dumps(bcg_csv, bcg, capsys, monkeypatch, chunk):
    import alsmeta.cli as cli

    monkeypatch.setattr(cli, "JSON_CHUNK", chunk)
    assert (
        main(["pool", str(bcg_csv), "--yi", "logrr", "--vi", "var", "--labels", "trial", "--test", "knha", "--json"])
        == 0
    )
    yi, vi = bcg
    fit = am.pool(yi, vi, test="knha", labels=[f"T{i + 1}" for i in range(13)])
    assert capsys.readouterr().out == json.dumps(fit.to_dict(), indent=2, allow_nan=False) + "\n"


def test_standard_input_is_read_with_a_dash(bcg):
    yi, vi = bcg
    text = "y;v\n" + "".join(f"{float(y)!r};{float(v)!r}\n".replace(".", ",") for y, v in zip(yi, vi, strict=True))
    done = subprocess.run(
        [sys.executable, "-m", "alsmeta.cli", "pool", "-", "--yi", "y", "--vi", "v", "--json"],
        input=text,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["estimate"] == pytest.approx(am.pool(yi, vi).estimate, rel=1e-12)
