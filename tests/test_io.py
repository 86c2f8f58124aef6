"""alsmeta.io: the CSV reader (formats found or named), atomic writers, the output folder."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alsmeta.io import CsvInputError, atomic_write, figures_dir, read_effects_csv, write_csv, write_text


def _csv(tmp_path: Path, text: str, name: str = "effects.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_semicolon_and_decimal_comma_as_european_excel_writes(tmp_path):
    path = _csv(tmp_path, "study;yi;vi\nA;0,1;0,01\nB;-1,25e-1;0,02\nC;3;0,5\n")
    table = read_effects_csv(path, ["yi", "vi"], labels="study")
    assert (table.format.delimiter, table.format.decimal) == (";", ",")
    assert table.values["yi"].tolist() == [0.1, -0.125, 3.0]
    assert table.values["vi"].tolist() == [0.01, 0.02, 0.5]
    assert table.labels.tolist() == ["A", "B", "C"]


@pytest.mark.parametrize(("sep", "dec"), [(",", "."), (";", "."), ("\t", "."), ("\t", ",")])
def test_every_delimiter_gives_the_same_numbers(tmp_path, sep, dec):
    rows = [("Smith, 2001", "0.1", "0.01"), ("Doe", "-0.3", "0.04")]
    lines = [sep.join(["study", "yi", "vi"])] + [
        sep.join([f'"{s}"' if sep in s else s, y.replace(".", dec), v.replace(".", dec)]) for s, y, v in rows
    ]
    table = read_effects_csv(_csv(tmp_path, "\n".join(lines) + "\n"), ["yi", "vi"], labels="study")
    assert table.values["yi"].tolist() == [0.1, -0.3] and table.values["vi"].tolist() == [0.01, 0.04]
    assert table.labels.tolist() == ["Smith, 2001", "Doe"]


def test_full_precision_is_kept(tmp_path):
    x = np.random.default_rng(1).random(2000) * np.exp(np.random.default_rng(2).normal(0, 20, 2000))
    text = "yi,vi\n" + "".join(f"{float(a)!r},1\n" for a in x)
    assert np.array_equal(read_effects_csv(_csv(tmp_path, text), ["yi", "vi"]).values["yi"], x)


def test_decimal_comma_in_a_comma_separated_file_is_named(tmp_path):
    path = _csv(tmp_path, "study,yi,vi\nA,0,1,0,01\n")
    with pytest.raises(CsvInputError, match=r"effects\.csv: line 2 has 5 fields but the header has 3 .*decimal comma"):
        read_effects_csv(path, ["yi", "vi"], labels="study")


def test_rows_with_more_fields_than_the_header_are_not_shifted(tmp_path):
    # pandas alone would silently use the first field as an index and shift every column
    path = _csv(tmp_path, "yi,vi\nA,0.1,0.01\nB,0.2,0.02\n")
    with pytest.raises(CsvInputError, match="line 2 has 3 fields but the header has 2"):
        read_effects_csv(path, ["yi", "vi"])


def test_duplicated_header_is_an_error_naming_it(tmp_path):
    path = _csv(tmp_path, "study,yi,vi,yi\nA,0.1,0.01,9\n")
    with pytest.raises(CsvInputError, match=r"duplicated column header 'yi' \(columns 2, 4\)"):
        read_effects_csv(path, ["yi", "vi"])


def test_directory_and_missing_file(tmp_path):
    with pytest.raises(CsvInputError, match="is a directory"):
        read_effects_csv(tmp_path, ["yi"])
    with pytest.raises(CsvInputError, match="none.csv: no such file"):
        read_effects_csv(tmp_path / "none.csv", ["yi"])


def test_mixed_decimal_marks_are_refused(tmp_path):
    path = _csv(tmp_path, "yi;vi\n0,1;0,01\n0.2;0,02\n")
    with pytest.raises(
        CsvInputError, match=r"column 'yi' mixes decimal points \(line 3: '0.2'\) and decimal commas \(line 2: '0,1'\)"
    ):
        read_effects_csv(path, ["yi", "vi"])


def test_other_decimal_mark_after_the_sniffed_lines_names_study_and_column(tmp_path):
    rows = [f"S{i};0,{i};0,01" for i in range(1, 400)] + ["S400;0.5;0,01"]
    path = _csv(tmp_path, "study;yi;vi\n" + "\n".join(rows) + "\n")
    with pytest.raises(
        CsvInputError, match=r"study 'S400', column 'yi': '0.5' is not a number \(this file uses decimal commas"
    ):
        read_effects_csv(path, ["yi", "vi"], labels="study")


def test_bad_cell_names_study_and_column(tmp_path):
    path = _csv(tmp_path, "study\tyi\tvi\nA\t0.1\t0.01\nB\tabc\t0.02\n")
    with pytest.raises(CsvInputError, match=r"effects\.csv: study 'B', column 'yi': 'abc' is not a number$"):
        read_effects_csv(path, ["yi", "vi"], labels="study")
    with pytest.raises(CsvInputError, match=r"study 'row 2', column 'yi'"):
        read_effects_csv(path, ["yi", "vi"])


def test_only_the_needed_columns_are_read(tmp_path):
    path = _csv(tmp_path, "notes,yi,vi,n\nsee text,0.1,0.01,abc\nNA,0.2,0.02,\n")
    table = read_effects_csv(path, ["yi", "vi"])
    assert set(table.values) == {"yi", "vi"} and table.labels is None and table.n_rows == 2


def test_missing_cells_are_nan_and_labels_stay_text(tmp_path):
    path = _csv(tmp_path, "study,yi,vi\nNA,,0.01\nB,NA,0.02\n")
    table = read_effects_csv(path, ["yi", "vi"], labels="study")
    assert np.isnan(table.values["yi"]).all()
    assert table.labels.tolist() == ["NA", "B"]


def test_byte_order_mark_and_crlf(tmp_path):
    path = _csv(tmp_path, "\ufeffstudy;yi;vi\r\nA;0,5;0,1\r\n")
    table = read_effects_csv(path, ["yi", "vi"], labels="study")
    assert table.format.header == ("study", "yi", "vi") and table.values["yi"].tolist() == [0.5]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        ("yi vi\n0.1 0.01\n", "found a single column 'yi vi'; expected columns separated by ',', ';' or tab"),
        ("yi,vi\n0.1,0.01\n", "no column 'sei' (columns: yi, vi)"),
    ],
)
def test_unreadable_tables_say_what_was_found(tmp_path, text, message):
    with pytest.raises(CsvInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_effects_csv(_csv(tmp_path, text), ["yi", "sei"])


def test_not_utf8(tmp_path):
    path = _csv(tmp_path, "study;yi;vi\nMüller;0,1;0,01\n", encoding="latin-1")
    with pytest.raises(CsvInputError, match="is not UTF-8 text"):
        read_effects_csv(path, ["yi", "vi"], labels="study")


def test_standard_input(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"yi;vi\n0,1;0,01\n")))
    table = read_effects_csv("-", ["yi", "vi"])
    assert table.source == "<stdin>" and table.values["yi"].tolist() == [0.1]


def test_atomic_write_keeps_the_old_file_when_interrupted(tmp_path):
    path = write_text(tmp_path / "out.txt", "old\n")
    with pytest.raises(KeyboardInterrupt), atomic_write(path) as fh:
        fh.write("half of the new")
        raise KeyboardInterrupt
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]  # no temporary file left behind
    write_text(path, "new\n")
    assert path.read_text() == "new\n"
    mode = stat.S_IMODE(path.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask  # as an ordinary open() would create it, not mkstemp's 0600


def test_write_csv_hides_last_digit_noise(tmp_path):
    a = write_csv(pd.DataFrame({"x": [1.0799999999999998]}), tmp_path / "a.csv")
    b = write_csv(pd.DataFrame({"x": [1.0800000000000003]}), tmp_path / "b.csv")
    assert a.read_bytes() == b.read_bytes() == b"x\n1.08\n"


def test_figures_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("ALSMETA_FIGURES", raising=False)
    assert figures_dir() == Path("figures")
    monkeypatch.setenv("ALSMETA_FIGURES", str(tmp_path))
    assert figures_dir() == tmp_path


def test_quoted_labels_with_delimiters_and_newlines_and_blank_lines(tmp_path):
    path = _csv(tmp_path, 'study;yi;vi\n"Smith; 2001\nsecond line";0,1;0,01\n\n"Doe ""junior""";0,2;0,02\n')
    table = read_effects_csv(path, ["yi", "vi"], labels="study")
    assert table.labels.tolist() == ["Smith; 2001\nsecond line", 'Doe "junior"']
    assert table.values["yi"].tolist() == [0.1, 0.2]
    bad = _csv(tmp_path, "study,yi,vi\n\nA,0.1,0.01\n\nB,0,2,0.02\n", name="bad.csv")
    with pytest.raises(CsvInputError, match="line 5 has 4 fields"):  # physical line numbers, blank lines counted
        read_effects_csv(bad, ["yi", "vi"])


def test_header_with_spaces_is_named(tmp_path):
    with pytest.raises(CsvInputError, match="no column 'yi' .*the header ' yi' has spaces around the name"):
        read_effects_csv(_csv(tmp_path, "study, yi,vi\nA,0.1,0.01\n"), ["yi", "vi"])
