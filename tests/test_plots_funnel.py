"""Funnel plots: point positions, inverted SE axis, pseudo-CI, contours, trim-and-fill studies."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib.figure import Figure

import alsmeta as am
from alsmeta import AlsmetaInputError
from alsmeta.plots import funnel_plot, trim_and_fill_parts
from alsmeta.plots.artists import find

Z = 1.959963984540054


@pytest.fixture(scope="module")
def fit(bcg):
    return am.pool(*bcg)


def test_studies_are_plotted_against_their_standard_errors_on_an_inverted_axis(fit):
    fig = funnel_plot(fit)
    (points,) = find(fig, "studies")
    assert np.allclose(points.get_xdata(), fit.yi)
    assert np.allclose(points.get_ydata(), np.sqrt(fit.vi))
    ax = fig.axes[0]
    top, bottom = ax.get_ylim()[1], ax.get_ylim()[0]
    assert top == 0 and bottom >= np.sqrt(fit.vi).max()  # SE = 0 at the top
    assert ax.get_ylabel() == "Standard error"


def test_pseudo_confidence_region_is_estimate_plus_minus_z_se(fit):
    fig = funnel_plot(fit)
    (low,) = find(fig, "pseudo-ci:low")
    (high,) = find(fig, "pseudo-ci:high")
    se = low.get_ydata()
    assert np.allclose(low.get_xdata(), fit.estimate - Z * se)
    assert np.allclose(high.get_xdata(), fit.estimate + Z * high.get_ydata())
    assert se.min() == 0 and se.max() == pytest.approx(fig.axes[0].get_ylim()[0])
    (line,) = find(fig, "estimate-line")
    assert line.get_xdata()[0] == pytest.approx(fit.estimate)


def test_contours_mark_p_010_005_001_around_the_null(fit):
    fig = funnel_plot(fit, contours=True)
    regions = {a.get_gid(): a for a in find(fig, "contour")}
    assert set(regions) == {"contour:background", "contour:0.1", "contour:0.05", "contour:0.01"}
    se_max = fig.axes[0].get_ylim()[0]
    for p, z in ((0.1, 1.6448536269514722), (0.05, Z), (0.01, 2.5758293035489004)):
        xy = regions[f"contour:{p:g}"].get_xy()
        at_max = xy[np.isclose(xy[:, 1], se_max)]
        assert sorted(at_max[:, 0]) == pytest.approx([-z * se_max, z * se_max])
    shades = [regions[f"contour:{p}"].get_facecolor()[0] for p in ("0.1", "0.05", "0.01")]
    assert shades[0] > shades[1] > shades[2]  # darker further out (greyscale-safe)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels[:4] == ["p > 0.10", "0.05 < p \u2264 0.10", "0.01 < p \u2264 0.05", "p \u2264 0.01"]


def test_trim_and_fill_studies_are_drawn_as_open_circles(fit):
    fyi, fvi = np.array([0.3, 0.5]), np.array([0.2, 0.4])
    full = am.pool(np.r_[fit.yi, fyi], np.r_[fit.vi, fvi])
    fig = funnel_plot(fit, filled_yi=fyi, filled_vi=fvi, filled_fit=full, side="right")
    (filled,) = find(fig, "filled-studies")
    (observed,) = find(fig, "studies")
    assert np.allclose(filled.get_xdata(), fyi) and np.allclose(filled.get_ydata(), np.sqrt(fvi))
    assert filled.get_markerfacecolor() == "white" and observed.get_markerfacecolor() != "white"
    (adjusted,) = find(fig, "filled-estimate-line")
    assert adjusted.get_xdata()[0] == pytest.approx(full.estimate)
    (low,) = find(fig, "pseudo-ci:low")  # the funnel is centred on the adjusted estimate
    assert low.get_xdata()[0] == pytest.approx(full.estimate)
    assert "Filled (k0 = 2, right side)" in " ".join(t.get_text() for t in fig.axes[0].get_legend().get_texts())


def test_trim_and_fill_parts_takes_the_filled_tail(fit):
    full = am.pool(np.r_[fit.yi, 0.3], np.r_[fit.vi, 0.2])
    parts = trim_and_fill_parts(SimpleNamespace(fit=full, k0=1, side="right"), fit)
    assert parts["filled_yi"] == pytest.approx([0.3]) and parts["side"] == "right"
    with pytest.raises(AlsmetaInputError, match="expected 13 observed"):
        trim_and_fill_parts(SimpleNamespace(fit=full, k0=2, side="right"), fit)


def test_precision_axis_is_not_inverted_and_contours_curve(fit):
    fig = funnel_plot(fit, yaxis="seinv", contours=(0.05,))
    ax = fig.axes[0]
    assert ax.get_ylim()[0] < ax.get_ylim()[1]
    (points,) = find(fig, "studies")
    assert np.allclose(points.get_ydata(), 1 / np.sqrt(fit.vi))
    xy = find(fig, "contour:0.05")[0].get_xy()
    assert np.allclose(np.abs(xy[:, 0]), Z / xy[:, 1])


def test_draws_into_a_given_axes(fit):
    fig = Figure()
    ax = fig.add_subplot()
    assert funnel_plot(fit, ax=ax, legend=False) is fig
    assert find(fig, "studies")


def test_log_scale_labels_ratios(fit):
    fig = funnel_plot(fit, log_scale=True, effect_label="Risk ratio")
    assert "1" in [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert fig.axes[0].get_xlabel() == "Risk ratio (log scale)"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"yaxis": "n"}, "yaxis"),
        ({"contours": (0.05, 1.5)}, "contours"),
        ({"filled_yi": [0.1]}, "both or neither"),
        ({"filled_yi": [0.1], "filled_vi": [-1.0]}, "must be > 0"),
        ({"side": "up"}, "side"),
    ],
)
def test_bad_options(fit, kwargs, match):
    with pytest.raises(AlsmetaInputError, match=match):
        funnel_plot(fit, **kwargs)


def test_empty_fit_is_refused_with_a_clear_message():
    with pytest.raises(AlsmetaInputError, match="k = 0"):
        funnel_plot(am.pool([], []))
