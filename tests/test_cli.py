"""The command-line interface: same numbers as the library, clean errors (data errors exit 1, usage errors 2)."""

from __future__ import annotations

import contextlib
import io
import json
import string
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

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
def test_data_mistakes_exit_1_without_traceback(tmp_path, capsys, csv, args, message):
    path = _write_csv(tmp_path, csv)
    code = main(["pool", str(path), "--yi", "y", "--vi", "v", *args])
    err = capsys.readouterr().err
    assert code == 1
    assert message in err
    assert "Traceback" not in err


def test_missing_file_and_column(tmp_path, capsys):
    assert main(["pool", str(tmp_path / "none.csv"), "--yi", "y", "--vi", "v"]) == 1
    assert "no such file" in capsys.readouterr().err
    path = _write_csv(tmp_path, "y,v\n0.1,0.01\n")
    assert main(["pool", str(path), "--yi", "effect", "--vi", "v"]) == 1
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
    with pytest.raises(SystemExit) as exit_info:  # a bad option value is a usage error, reported by argparse
        main(["pool", str(bcg_csv), "--yi", "logrr", "--vi", "var", "--method", "bogus"])
    assert exit_info.value.code == 2
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
    assert main(["pool", str(path), "--yi", "y", "--vi", "v", "--labels", "name"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: {path}: ") and message in err


def test_directory_is_named_as_such(tmp_path, capsys):
    assert main(["pool", str(tmp_path), "--yi", "y", "--vi", "v"]) == 1
    assert capsys.readouterr().err == f"error: {tmp_path}: is a directory, expected a CSV file\n"


def test_empty_and_duplicate_labels_name_the_rows(tmp_path, capsys):
    path = _write_csv(tmp_path, "name,y,v\nA,0.1,0.01\nB,0.2,0.02\nA,0.3,0.03\n")
    assert main(["pool", str(path), "--yi", "y", "--vi", "v", "--labels", "name"]) == 1
    assert "column 'name': duplicate study label 'A' (rows 1 and 3)" in capsys.readouterr().err
    path = _write_csv(tmp_path, "name,y,v\nA,0.1,0.01\n  ,0.2,0.02\n")
    assert main(["pool", str(path), "--yi", "y", "--vi", "v", "--labels", "name"]) == 1
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


# ---------------------------------------------------------------- --version, es, pool defaults, plot
BCG_TABLE = (
    "trial,tpos,tneg,cpos,cneg\n"
    'Aronson,4,119,11,128\nFerguson,6,300,29,274\n"Rosenthal, 1960",3,228,11,209\nHart,62,13536,248,12619\n'
)
BCG_COUNTS = {
    "tpos": [4, 6, 3, 62],
    "tneg": [119, 300, 228, 13536],
    "cpos": [11, 29, 11, 248],
    "cneg": [128, 274, 209, 12619],
}
BCG_TRIALS = ["Aronson", "Ferguson", "Rosenthal, 1960", "Hart"]


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"alsmeta {am.__version__}"


@pytest.mark.parametrize("measure", ["OR", "RR", "RD", "PETO"])
def test_es_csv_equals_the_library_to_the_last_bit(tmp_path, capsys, measure):
    path = _write_csv(tmp_path, BCG_TABLE)
    args = [
        "es",
        measure.lower(),
        str(path),
        "--ai",
        "tpos",
        "--bi",
        "tneg",
        "--ci",
        "cpos",
        "--di",
        "cneg",
        "--labels",
        "trial",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    expected = am.effect_sizes(
        measure,
        ai=BCG_COUNTS["tpos"],
        bi=BCG_COUNTS["tneg"],
        ci=BCG_COUNTS["cpos"],
        di=BCG_COUNTS["cneg"],
        labels=BCG_TRIALS,
    )
    import pandas as pd

    table = pd.read_csv(io.StringIO(out))
    assert list(table.columns) == ["label", "yi", "vi"]
    assert table["label"].tolist() == BCG_TRIALS
    np.testing.assert_array_equal(table["yi"].to_numpy(), expected.yi)  # repr() round-trips exactly
    np.testing.assert_array_equal(table["vi"].to_numpy(), expected.vi)


def test_es_json_output_file_and_notes(tmp_path, capsys):
    path = _write_csv(tmp_path, "x,n\n0,15\n3,10\n")
    out = tmp_path / "es.json"
    assert main(["es", "PLO", str(path), "--xi", "x", "--ni", "n", "--json", "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "note: 0.5 added to every count" in captured.err and "row 1" in captured.err
    record = json.loads(out.read_text())
    expected = am.effect_sizes("PLO", xi=[0, 3], ni=[15, 10], labels=["row 1", "row 2"])
    assert record["measure"] == "PLO" and record["labels"] == ["row 1", "row 2"]
    assert record["yi"] == expected.yi.tolist() and record["vi"] == expected.vi.tolist()


def test_es_output_pools_from_standard_input_with_default_columns(tmp_path):
    path = _write_csv(tmp_path, BCG_TABLE)
    cells = ["--ai", "tpos", "--bi", "tneg", "--ci", "cpos", "--di", "cneg", "--labels", "trial"]
    es = subprocess.run(
        [sys.executable, "-m", "alsmeta.cli", "es", "RR", str(path), *cells],
        capture_output=True,
        text=True,
        check=False,
    )
    assert es.returncode == 0, es.stderr
    pooled = subprocess.run(
        [sys.executable, "-m", "alsmeta.cli", "pool", "-", "--labels", "label", "--json"],
        input=es.stdout,
        capture_output=True,
        text=True,
        check=False,
    )
    assert pooled.returncode == 0, pooled.stderr
    result = json.loads(pooled.stdout)
    rr = am.effect_sizes(
        "RR", ai=BCG_COUNTS["tpos"], bi=BCG_COUNTS["tneg"], ci=BCG_COUNTS["cpos"], di=BCG_COUNTS["cneg"]
    )
    assert result["estimate"] == pytest.approx(am.pool(rr.yi, rr.vi).estimate, rel=1e-12)
    assert result["labels"] == BCG_TRIALS


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["es", "XYZ", "f.csv", "--ai", "a"], "unknown measure 'XYZ'"),
        (["es", "OR", "f.csv", "--ai", "a", "--ci", "c", "--di", "d"], "measure OR needs --bi or --n1i COLUMN"),
        (["es", "PR", "f.csv", "--xi", "a", "--ni", "n", "--ai", "a"], "--ai: not used by measure PR"),
        (
            ["es", "MN", "f.csv", "--mi", "a", "--sdi", "s", "--ni", "n", "--add", "0.5"],
            "--add: not an option of measure MN",
        ),
        (["es", "OR", "f.csv", "--ai", "a", "--bi", "b", "--ci", "c", "--di", "d", "--add", "-1"], "add: must be >= 0"),
        (["plot", "forest", "f.csv", "-o", "plot.jpg"], "-o: give a file ending in .png, .svg or .pdf"),
        (["pool", "f.csv", "--vi", "v", "--sei", "s"], "not allowed with argument"),
    ],
)
def test_usage_mistakes_exit_2(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    _write_csv(tmp_path, "a,b,c,d,n,s,v\n1,2,3,4,5,1,1\n").rename(tmp_path / "f.csv")
    try:
        code = main(args)
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("table", "args", "message"),
    [
        (
            "x,n\n3,10\n12,11\n",
            ["es", "PR", "--xi", "x", "--ni", "n"],
            "study 'row 2', column 'xi': 12 events but ni = 11 (xi = data column 'x')",
        ),
        ("x,n\n3,10\n,11\n", ["es", "PR", "--xi", "x", "--ni", "n"], "study 'row 2', column 'xi': value is missing"),
        ("x,n\n3,10\n2,11\n", ["es", "PR", "--xi", "x", "--ni", "total"], "no column 'total' (columns: x, n)"),
        (
            "r,n\n0.2,10\n0.3,3\n",
            ["es", "ZCOR", "--ri", "r", "--ni", "n"],
            "study 'row 2', column 'ni': sample size 3 is below 4",
        ),
    ],
)
def test_es_data_mistakes_exit_1_naming_file_study_and_column(tmp_path, capsys, table, args, message):
    path = _write_csv(tmp_path, table)
    assert main([args[0], args[1], str(path), *args[2:]]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: {path}: ") and message in err


@pytest.mark.parametrize(("kind", "suffix"), [("forest", "png"), ("funnel", "svg")])
def test_plot_writes_the_figure(tmp_path, bcg_csv, capsys, kind, suffix):
    out = tmp_path / f"figure.{suffix}"
    code = main(
        [
            "plot",
            kind,
            str(bcg_csv),
            "--yi",
            "logrr",
            "--vi",
            "var",
            "--labels",
            "trial",
            "--method",
            "DL",
            "-o",
            str(out),
        ]
    )
    assert code == 0
    assert capsys.readouterr().out.strip() == str(out)
    head = out.read_bytes()[:64]
    assert head.startswith(b"\x89PNG") if suffix == "png" else b"<svg" in out.read_bytes()[:2000]


def test_plot_data_error_exits_1(tmp_path, capsys):
    path = _write_csv(tmp_path, "yi,vi\n0.1,0.01\n0.2,-1\n")
    assert main(["plot", "forest", str(path), "-o", str(tmp_path / "f.png")]) == 1
    assert "study 'row 2', column 'vi': value -1.0 must be > 0" in capsys.readouterr().err
    assert not (tmp_path / "f.png").exists()


def test_cli_imports_matplotlib_only_to_plot(tmp_path):
    path = _write_csv(tmp_path, "x,n\n3,10\n4,12\n")
    code = (
        "import sys; from alsmeta.cli import main; "
        f"main(['es', 'PR', {str(path)!r}, '--xi', 'x', '--ni', 'n']); "
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


LABEL_TEXT = st.text(alphabet=string.ascii_letters + " ,;'\"-", min_size=1, max_size=12).filter(str.strip)


@given(
    st.lists(
        st.tuples(LABEL_TEXT, st.integers(0, 30), st.integers(0, 30)),
        min_size=1,
        max_size=8,
        unique_by=lambda row: row[0].strip(),
    )
)
def test_es_round_trips_labels_and_values(rows):
    import pandas as pd

    frame = pd.DataFrame(
        {"study": [r[0] for r in rows], "x": [r[1] for r in rows], "n": [r[1] + r[2] + 1 for r in rows]}
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.csv"
        frame.to_csv(path, index=False)
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(io.StringIO()):
            assert main(["es", "PLO", str(path), "--xi", "x", "--ni", "n", "--labels", "study"]) == 0
    table = pd.read_csv(io.StringIO(buffer.getvalue()), keep_default_na=False, dtype={"label": str})
    expected = am.effect_sizes("PLO", xi=frame.x.to_numpy(), ni=frame.n.to_numpy(), labels=frame.study.tolist())
    assert table["label"].tolist() == expected.labels
    np.testing.assert_array_equal(table["yi"].to_numpy(dtype=float), expected.yi)
    np.testing.assert_array_equal(table["vi"].to_numpy(dtype=float), expected.vi)
