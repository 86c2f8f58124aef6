"""House style and deterministic saving."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

import alsmeta as am
from alsmeta import AlsmetaInputError
from alsmeta.plots import forest_plot, save_figure
from alsmeta.plots._axis import effect_ticks, tick_label
from alsmeta.plots._format import cell, estimate_ci, pvalue, small
from alsmeta.plots.style import ROLE_COLOURS, colour, text_width


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_save_figure_is_byte_identical_across_runs(tmp_path):
    fit = am.pool([0.1, 0.4, -0.2], [0.04, 0.05, 0.02], labels=["A", "B", "C"])
    first = save_figure(forest_plot(fit), tmp_path / "a" / "forest", formats=("png", "svg", "pdf"))
    second = save_figure(forest_plot(fit), tmp_path / "b" / "forest", formats=("png", "svg", "pdf"))
    assert [p.suffix for p in first] == [".png", ".svg", ".pdf"]
    assert [_sha(p) for p in first] == [_sha(p) for p in second]
    svg = first[1].read_text()
    assert "<dc:date>" not in svg
    assert b"CreationDate" not in first[2].read_bytes()


def test_png_resolution_is_at_least_200_dpi(tmp_path):
    fig = Figure(figsize=(2, 1))
    (png,) = save_figure(fig, tmp_path / "x", formats=("png",))
    import matplotlib.image as mpimg

    assert mpimg.imread(png).shape[:2] == (300, 600)  # 300 dpi
    with pytest.raises(AlsmetaInputError, match="200 dpi"):
        save_figure(fig, tmp_path / "y", dpi=150)
    with pytest.raises(AlsmetaInputError, match="without extension"):
        save_figure(fig, tmp_path / "y.png")
    with pytest.raises(AlsmetaInputError, match="formats"):
        save_figure(fig, tmp_path / "y", formats=("jpg",))


def _grey(hex_colour):
    r, g, b = to_rgb(hex_colour)
    return 0.299 * r + 0.587 * g + 0.114 * b


def test_roles_that_appear_together_differ_in_greyscale():
    together = ["study", "random", "prediction", "common", "subgroup"]
    greys = sorted(_grey(ROLE_COLOURS[r]) for r in together)
    assert min(np.diff(greys)) > 0.08
    assert colour("random") == ROLE_COLOURS["random"]
    with pytest.raises(AlsmetaInputError, match="unknown plot role"):
        colour("purple")


def test_text_width_grows_with_text():
    assert text_width("") == 0.0
    assert 0 < text_width("Aronson 1948") < text_width("Aronson 1948 and friends")
    assert text_width("x\nlonger line") == text_width("longer line")


def test_number_formats():
    assert estimate_ci(-0.7145, -1.0669, -0.3622) == "\u22120.71 [\u22121.07, \u22120.36]"
    assert estimate_ci(math.log(0.41), math.log(0.13), math.log(1.26), log_scale=True) == "0.41 [0.13, 1.26]"
    assert estimate_ci(-0.001, -0.2, 0.2) == "0.00 [\u22120.20, 0.20]"  # no negative zero
    assert pvalue(0.0004) == "p < 0.001" and pvalue(0.0394) == "p = 0.039" and pvalue(float("nan")) == "p = NA"
    assert small(0.0) == "0" and small(0.0012) == "0.0012" and small(0.3132) == "0.31"
    assert cell(None) == "NR" and cell(float("nan")) == "NR" and cell(12.0) == "12" and cell("IT") == "IT"


def test_ratio_ticks_enclose_the_data_and_are_round_ratios():
    ticks = effect_ticks([math.log(0.07), math.log(6.5)], log_scale=True)
    assert [tick_label(t, True) for t in ticks] == ["0.05", "0.1", "0.2", "0.5", "1", "2", "5", "10"]
    narrow = effect_ticks([math.log(0.8), math.log(1.3)], log_scale=True)
    assert np.exp(narrow[0]) <= 0.8 and np.exp(narrow[-1]) >= 1.3
    linear = effect_ticks([-1.3, 0.4])
    assert linear[0] <= -1.3 and linear[-1] >= 0.4


# --- user text is printed literally ------------------------------------------------------------

import warnings  # noqa: E402

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402

from alsmeta import AlsmetaWarning  # noqa: E402
from alsmeta.plots import baujat_plot, funnel_plot, influence_plot, leave_one_out_forest, prisma_flow  # noqa: E402
from alsmeta.plots.artists import texts  # noqa: E402
from alsmeta.plots.prisma import PrismaCounts  # noqa: E402

MATHY = ["Smith $5 vs $10", "a_b $\\foo_{x}$ c", "O'Brien 50% & $", "Lee_2019"]
"""Labels matplotlib would read as mathtext (the second one does not even parse as math)."""


def _mathy_fit():
    return am.pool([0.1, 0.4, -0.2, 0.3], [0.04, 0.05, 0.02, 0.03], labels=MATHY)


def _drawn(fig):
    FigureCanvasAgg(fig).draw()  # mathtext parsing happens at draw time; '$\\foo$' raised here before
    return fig


def _literal(fig, strings):
    by_text = {t.get_text(): t for t in fig.findobj(lambda a: hasattr(a, "get_parse_math"))}
    for s in strings:
        assert s in by_text, s
        assert by_text[s].get_parse_math() is False, s
        assert by_text[s]._preprocess_math(s) == (s, False)  # what the renderer receives is the label itself


def test_study_labels_are_printed_literally_in_forest_plots():
    fig = _drawn(forest_plot(_mathy_fit(), title="Costs in $ and _subscripts_", xlabel="Mean difference ($)"))
    assert texts(fig, "label:study") == MATHY
    _literal(fig, [*MATHY, "Costs in $ and _subscripts_", "Mean difference ($)"])


def test_labels_are_literal_in_every_plot_that_draws_them():
    fit = _mathy_fit()
    _literal(_drawn(baujat_plot(fit)), MATHY)
    loo = am.leave_one_out(fit)
    _literal(_drawn(leave_one_out_forest(loo, fit)), [f"Omitting {s}" for s in MATHY])
    fig = _drawn(influence_plot(am.influence(fit), fit))
    assert all(s in texts(fig, "influence-key")[0] for s in MATHY)
    assert all(t.get_parse_math() is False for t in fig.texts)
    prisma = _drawn(
        prisma_flow(
            PrismaCounts(identified={"Registry $A$": 5, "a_b $\\foo$": 2}, included_studies=0),
            title="Search of $ registers",
        )
    )
    drawn = "\n".join(
        t.get_text() for t in prisma.findobj(lambda a: hasattr(a, "get_parse_math")) if t.get_parse_math() is not True
    )
    assert "Registry $A$" in drawn and "a_b $\\foo$" in drawn and "Search of $ registers" in drawn


def test_a_users_own_mathtext_on_their_axes_is_left_alone():
    fig = Figure()
    ax = fig.add_subplot()
    ax.set_title(r"$\alpha$ funnel")
    mine = ax.text(0.5, 0.5, r"$\beta$")
    _drawn(funnel_plot(_mathy_fit(), ax=ax))
    assert ax.title.get_parse_math() is True and mine.get_parse_math() is True
    assert ax.xaxis.label.get_parse_math() is False  # written by funnel_plot


def test_missing_glyph_warns_naming_the_label_and_the_character():
    fit = am.pool([0.1, 0.4], [0.04, 0.05], labels=["筋萎縮 trial", "Plain"])
    with pytest.warns(AlsmetaWarning, match=r"'筋萎縮 trial'.*'筋' \(U\+7B4B\).*not in the font DejaVu Sans"):
        forest_plot(fit)
    with warnings.catch_warnings():
        warnings.simplefilter("error", AlsmetaWarning)
        forest_plot(am.pool([0.1, 0.4], [0.04, 0.05], labels=["Müller–Łódź ±", "Ωmega"]))  # DejaVu has these


def test_an_interrupted_save_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    fig = Figure(figsize=(2, 1))
    (png,) = save_figure(fig, tmp_path / "plot", formats=("png",))
    before = png.read_bytes()

    def half_written(self, fh, **kwargs):
        fh.write(before[:100])  # a truncated PNG, as was seen after Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(Figure, "savefig", half_written)
    with pytest.raises(KeyboardInterrupt):
        save_figure(Figure(figsize=(3, 1)), tmp_path / "plot", formats=("png",))
    assert png.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["plot.png"]


def test_save_figure_refuses_unprintable_figures_when_checking_is_on(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    from alsmeta.plots.save import CHECK_FIGURES_ENV, save_figure
    from alsmeta.validation import AlsmetaInputError

    wide = Figure(figsize=(12, 3))  # 305 mm: wider than the 183 mm double column
    wide.add_subplot().set_title("too wide", fontsize=5)
    monkeypatch.delenv(CHECK_FIGURES_ENV, raising=False)
    assert len(save_figure(wide, tmp_path / "ok_unchecked")) == 2  # users are not forced
    monkeypatch.setenv(CHECK_FIGURES_ENV, "1")
    with pytest.raises(AlsmetaInputError, match="not print-ready"):
        save_figure(wide, tmp_path / "refused")
    assert not (tmp_path / "refused.png").exists()
