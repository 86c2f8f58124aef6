"""Study availability map, checked through its artists."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from alsmeta import AlsmetaInputError
from alsmeta.plots.artists import find, texts
from alsmeta.plots.availability import DOUBLE_COLUMN, SINGLE_COLUMN, STATUSES, availability_map
from alsmeta.plots.print_check import print_problems

TABLE = pd.DataFrame(
    {
        "study": ["Oh 2018", "Oh 2018", "Petrou 2016", "Petrou 2016", "Kim 2009"],
        "outcome": ["ALSFRS-R", "FVC", "ALSFRS-R", "FVC", "ALSFRS-R"],
        "timepoint": ["6 mo", "4 mo", "6 mo", "6 mo", "3 mo"],
        "status": ["verified", "verified", "secondary", "not_found", "derived"],
    }
)


def _cells(fig):
    return {c.get_gid().split(":", 2)[2]: c for c in find(fig, "availability:cell")}


def test_each_cell_has_its_status_colour_symbol_and_hatch():
    fig = availability_map(TABLE)
    cells = _cells(fig)
    assert set(cells) == {
        "Oh 2018|ALSFRS-R|6 mo:verified",
        "Oh 2018|FVC|4 mo:verified",
        "Petrou 2016|ALSFRS-R|6 mo:secondary",
        "Petrou 2016|FVC|6 mo:not_retrievable",
        "Kim 2009|ALSFRS-R|3 mo:derived",
    }
    for key, patch in cells.items():
        status = key.rsplit(":", 1)[1]
        assert to_hex(patch.get_facecolor()) == to_hex(STATUSES[status]["colour"])
        assert (patch.get_hatch() or "") == STATUSES[status]["hatch"]
    symbols = {s.get_gid().rsplit(":", 1)[1]: s.get_marker() for s in find(fig, "availability:symbol")}
    assert symbols["not_retrievable"] == STATUSES["not_retrievable"]["symbol"]
    assert len({STATUSES[s]["symbol"] for s in STATUSES}) == len(STATUSES)  # no two statuses share a symbol


def test_not_found_is_read_as_not_retrievable_and_blank_cells_stay_blank():
    fig = availability_map(TABLE)
    assert len(find(fig, "availability:cell")) == len(TABLE)  # 3 studies x 4 columns = 12, only 5 drawn
    legend = find(fig, "availability:legend")[0]
    labels = [t.get_text() for t in legend.get_texts()]
    assert "Not retrievable" in labels and "Blank: not a candidate outcome" in labels
    assert "Inferred (not stated)" not in labels  # only statuses that occur are explained


def test_rows_columns_and_outcome_headers_follow_the_table():
    fig = availability_map(TABLE)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Oh 2018", "Petrou 2016", "Kim 2009"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["6 mo", "4 mo", "6 mo", "3 mo"]
    # ALSFRS-R appears twice: columns are grouped only where adjacent, never reordered
    assert texts(fig, "availability:outcome:ALSFRS-R") == ["ALSFRS-R", "ALSFRS-R"]
    assert texts(fig, "availability:outcome:FVC") == ["FVC"]
    x = {c.get_gid(): c.get_x() for c in find(fig, "availability:cell")}
    assert x["availability:cell:Kim 2009|ALSFRS-R|3 mo:derived"] == pytest.approx(3.06)


@pytest.mark.parametrize("width, inches", [("double", DOUBLE_COLUMN), ("single", SINGLE_COLUMN)])
def test_print_width_and_text_size(width, inches):
    fig = availability_map(TABLE, width=width, caption="Status of each number in data/.")
    assert fig.get_figwidth() == pytest.approx(inches)
    sizes = [
        t.get_fontsize()
        for t in fig.findobj(lambda a: hasattr(a, "get_fontsize") and hasattr(a, "get_text"))
        if t.get_text()
    ]
    assert min(sizes) >= 7.0
    assert texts(fig, "availability:caption") == ["Status of each number in data/."]


def test_outcomes_without_time_points():
    table = TABLE.drop(columns="timepoint").drop_duplicates(["study", "outcome"])
    fig = availability_map(table, timepoint=None)
    assert len(find(fig, "availability:cell")) == len(table)
    assert fig.axes[0].get_xticklabels() == []


@pytest.mark.parametrize(
    "table, kwargs, message",
    [
        (
            TABLE.assign(status=["verified", "verified", "secondary", "maybe", "derived"]),
            {},
            "study 'Petrou 2016', column 'status': 'maybe'",
        ),
        (pd.concat([TABLE, TABLE.iloc[:1].assign(status="secondary")]), {}, "two statuses"),
        (TABLE.drop(columns="outcome"), {}, "outcome: column 'outcome' is not in the table"),
        (TABLE.iloc[:0], {}, "no rows"),
        (TABLE, {"width": "a4"}, "width"),
        (
            pd.DataFrame(
                {
                    "study": ["A"] * 60,
                    "outcome": [f"o{i}" for i in range(60)],
                    "timepoint": ["1"] * 60,
                    "status": ["verified"] * 60,
                }
            ),
            {},
            "split the table",
        ),
    ],
)
def test_bad_input_raises_naming_the_problem(table, kwargs, message):
    with pytest.raises(AlsmetaInputError, match=message):
        availability_map(table, **kwargs)


def test_not_a_dataframe():
    with pytest.raises(AlsmetaInputError, match="table"):
        availability_map(np.zeros(3))


GROUPED = pd.DataFrame(
    {
        "study": ["Kim 2009", "Kim 2009", "Glass 2012", "Oh 2018", "Glass 2012"],
        "outcome": ["ALSFRS-R", "FVC", "ALSFRS-R", "ALSFRS-R", "FVC"],
        "timepoint": ["4 months", "4 months", "4 months", "4 months", "4 months"],
        "status": ["verified", "none", "secondary", "not_found", "none"],
        "kind": ["MSC", "MSC", "NSC", "MSC", "NSC"],
        "what": ["numbers", "", "words only", "", ""],
    }
)


def test_groups_are_heading_rows_with_their_studies_below():
    fig = availability_map(GROUPED, group="kind", text="what")
    assert texts(fig, "availability:group") == ["MSC", "NSC"]
    ax = fig.axes[0]
    # Oh 2018 moves up to its group, under the MSC heading (row 0); Glass 2012 follows the NSC heading (row 3)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Kim 2009", "Oh 2018", "Glass 2012"]
    assert [t for t in ax.get_yticks()] == [1.5, 2.5, 4.5]
    y = {c.get_gid().split(":")[2].split("|")[0]: c.get_y() for c in find(fig, "availability:cell")}
    assert y["Glass 2012"] == pytest.approx(4.08)


def test_cell_text_is_printed_and_cells_widen_to_the_figure():
    fig = availability_map(GROUPED, group="kind", text="what")
    assert sorted(texts(fig, "availability:text")) == ["numbers", "words only"]
    verified = find(fig, "availability:text:Kim 2009|ALSFRS-R|4 months:verified")[0]
    assert to_hex(verified.get_color()) == to_hex(STATUSES["verified"]["ink"])  # legible on its fill
    ax = fig.axes[0]
    grid_inches = ax.get_position().width * fig.get_figwidth()
    assert grid_inches > 2 * 0.32  # two columns wider than the symbol-only cap
    assert fig.get_figwidth() == pytest.approx(DOUBLE_COLUMN)


def test_nothing_retrieved_has_its_own_status_and_blank_label_is_the_callers():
    fig = availability_map(GROUPED.iloc[:4], group="kind", text="what", blank_label="Blank: no row in the table")
    cells = _cells(fig)
    assert "Kim 2009|FVC|4 months:none" in cells
    assert to_hex(cells["Kim 2009|FVC|4 months:none"].get_facecolor()) == "#ffffff"
    labels = [t.get_text() for t in find(fig, "availability:legend")[0].get_texts()]
    assert "Nothing retrieved" in labels and "Blank: no row in the table" in labels
    assert "Blank: not a candidate outcome" not in labels


def test_title_and_long_caption_wrap_inside_the_width_at_7pt_or_more():
    caption = "A caption that says what each status means and where the windows come from. " * 6
    fig = availability_map(GROUPED, group="kind", text="what", title="What data/ holds " * 12, caption=caption)
    assert print_problems(fig) == []
    assert texts(fig, "availability:caption")[0].count("\n") >= 2
    assert texts(fig, "availability:title")[0].count("\n") >= 1


def test_time_labels_are_horizontal_when_they_fit_and_vertical_otherwise():
    ax = availability_map(TABLE).axes[0]
    assert {t.get_rotation() for t in ax.get_xticklabels()} == {0.0}
    long = TABLE.assign(timepoint=["after the end of the open-label extension"] * len(TABLE))
    long = long.drop_duplicates(["study", "outcome"])
    ax = availability_map(long).axes[0]
    assert {t.get_rotation() for t in ax.get_xticklabels()} == {90.0}


def test_a_study_in_two_groups_is_refused():
    bad = GROUPED.assign(kind=["MSC", "NSC", "NSC", "MSC", "NSC"])
    with pytest.raises(AlsmetaInputError, match="study 'Kim 2009', column 'kind': in more than one group"):
        availability_map(bad, group="kind")
    with pytest.raises(AlsmetaInputError, match="text: column 'nope'"):
        availability_map(GROUPED, text="nope")


def test_cell_text_that_would_spill_out_of_its_cell_is_refused():
    wide = pd.DataFrame(
        {
            "study": ["Kim 2009"] * 6,
            "outcome": [f"outcome {i}" for i in range(6)],
            "timepoint": ["4 mo"] * 6,
            "status": ["verified"] * 6,
            "what": ["numbers, p-values and a long explanation"] + [""] * 5,
        }
    )
    with pytest.raises(AlsmetaInputError, match="text: 'numbers, p-values and a long explanation' does not fit"):
        availability_map(wide, text="what")
    availability_map(GROUPED, text="what", width="single")  # short texts fit 89 mm with two columns
