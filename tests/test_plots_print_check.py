"""print_problems: the width and text-size measurements behind the README's figure standard."""

from __future__ import annotations

import pytest
from matplotlib.figure import Figure

from alsmeta import AlsmetaInputError
from alsmeta.plots.print_check import drawn_texts, print_problems

MM = 1 / 25.4


def _figure(width_mm: float, size: float = 8.0, text: str = "Study label", x: float = 0.1) -> Figure:
    fig = Figure(figsize=(width_mm * MM, 40 * MM))
    fig.text(x, 0.5, text, fontsize=size)
    return fig


def test_a_column_wide_figure_with_7pt_text_has_no_problem():
    assert print_problems(_figure(183, 7.0)) == []
    assert print_problems(_figure(89, 9.0)) == []


def test_width_outside_the_column_widths_is_reported():
    problems = print_problems(_figure(200))
    assert problems == ["width 200.0 mm: not 89 or 183 mm"]
    assert print_problems(_figure(120), widths_mm=(120.0,)) == []


def test_small_text_is_reported_with_its_size():
    assert print_problems(_figure(183, 6.5)) == ["text 'Study label' is 6.5 pt (< 7 pt)"]


def test_text_leaving_the_canvas_is_reported():
    problems = print_problems(_figure(89, 8.0, text="a label far too long to fit this narrow figure at all", x=0.5))
    assert problems == [
        "text 'a label far too long to fit this narrow figure at all' lies partly outside the figure (cut off in print)"
    ]


def test_texts_drawn_over_each_other_are_reported():
    fig = _figure(183, 8.0, text="Subtotal (k = 2)")
    fig.text(0.12, 0.5, "0.74 [0.00, 1.47]", fontsize=8)
    assert print_problems(fig) == ["texts 'Subtotal (k = 2)' and '0.74 [0.00, 1.47]' overlap"]
    fig.texts[-1].set_position((0.6, 0.5))
    assert print_problems(fig) == []


def test_only_drawn_text_counts():
    fig = Figure(figsize=(183 * MM, 60 * MM))
    ax = fig.add_subplot()
    ax.set_xticks([0.5], labels=["tiny"], fontsize=5)
    ax.axis("off")  # hidden tick labels are not printed
    fig.text(0.1, 0.1, "", fontsize=4)  # nor are empty texts
    fig.text(0.1, 0.2, "shown", fontsize=7)
    assert [t.text for t in drawn_texts(fig)] == ["shown"]
    assert print_problems(fig) == []
    ax.axis("on")
    assert "text 'tiny' is 5 pt (< 7 pt)" in print_problems(fig)


def test_not_a_figure():
    with pytest.raises(AlsmetaInputError, match="fig"):
        print_problems("figure.png")
