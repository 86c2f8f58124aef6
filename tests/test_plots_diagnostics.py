"""Diagnostic plots: Baujat (against metafor), leave-one-out and cumulative forests, GOSH,
influence panel and drapery plot - all checked through their artists."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy import stats

import alsmeta as am
from alsmeta import AlsmetaInputError
from alsmeta.diagnostics.baujat import baujat_coordinates
from alsmeta.diagnostics.common_effect import common_effect
from alsmeta.diagnostics.pvalue_function import p_value_function, prediction_p_value_function
from alsmeta.plots import (
    baujat_plot,
    cumulative_forest,
    drapery_plot,
    gosh_plot,
    influence_plot,
    influential_flags,
    leave_one_out_forest,
)
from alsmeta.plots.artists import find, texts

# metafor 3.8-1: baujat(rma(yi, vi, data=dat.bcg-as-escalc(RR), method=..., test=...))[, c("x", "y")]
BAUJAT_REML_Z = (
    [
        0.0478183405467927,
        1.4934114075928551,
        0.5508753366657925,
        1.5860500734646961,
        0.6777110311298381,
        0.0160055560011056,
        1.5319030625855072,
        1.6638459497329090,
        0.1625233292089766,
        1.1168477625427731,
        0.4322210972249771,
        1.5922385451031982,
        1.2637881718026482,
    ],
    [
        0.001537500918463179,
        0.112107073414489000,
        0.024349046895046654,
        0.237773641745260750,
        0.066985834997827787,
        0.000333272180158999,
        0.107909485433818009,
        0.198964671902796014,
        0.018381621780552009,
        0.111389615903809289,
        0.048970640673485728,
        0.061834563955091973,
        0.115312876242490189,
    ],
)
BAUJAT_DL_KNHA_Y = [
    0.002162523770708979,
    0.107755687993254107,
    0.024144190463506240,
    0.281733902968023142,
    0.067656186036900767,
    0.000048257459250954,
    0.104224049124611778,
    0.177996450161183484,
    0.016378520926516090,
    0.108772128113835603,
    0.056357194012331337,
    0.065810264026733706,
    0.121604244740860429,
]
BAUJAT_CE_X = [
    0.6471587360256624,
    6.8571096271726848,
    2.0279242863941866,
    51.1073136255054195,
    0.8837578017083663,
    18.3351122200536416,
    6.3562772563152361,
    49.3676862704564741,
    0.0271351610358987,
    12.1272954277502212,
    0.6660857178974546,
    1.4417192428417580,
    2.3884327092162456,
]

# metafor 3.8-1: influence(rma(yi, vi, data=dat.bcg-as-escalc(RR))) (4 decimals as printed)
INFLUENCE = np.array(
    [
        [-0.2181, -0.0407, 0.0017, 1.1164, 0.3362, 151.5826, 0.0506, 5.0595],
        [-1.2918, -0.3436, 0.1132, 1.0102, 0.2926, 145.3176, 0.0636, 6.3647],
        [-0.7547, -0.1604, 0.0260, 1.0670, 0.3207, 150.1970, 0.0444, 4.4360],
        [-1.4512, -0.5201, 0.2295, 0.9651, 0.2628, 96.5626, 0.0970, 9.6987],
        [0.8477, 0.2707, 0.0762, 1.1380, 0.3278, 151.3200, 0.0887, 8.8685],
        [-0.1180, -0.0190, 0.0004, 1.2407, 0.3596, 128.1867, 0.1010, 10.0957],
        [-1.3037, -0.3362, 0.1087, 1.0077, 0.2930, 145.8296, 0.0603, 6.0272],
        [1.4501, 0.4775, 0.1992, 1.0011, 0.2732, 67.9858, 0.1019, 10.1894],
        [0.4076, 0.1415, 0.0220, 1.1968, 0.3495, 152.2051, 0.0874, 8.7431],
        [-1.1277, -0.3487, 0.1170, 1.0505, 0.2987, 139.8271, 0.0837, 8.3676],
        [0.6691, 0.2315, 0.0581, 1.1860, 0.3405, 151.4655, 0.0993, 9.9250],
        [1.2898, 0.2526, 0.0634, 1.0259, 0.3082, 150.7868, 0.0382, 3.8216],
        [1.1879, 0.3549, 0.1228, 1.0650, 0.3037, 149.7884, 0.0840, 8.4029],
    ]
)
INFL_COLUMNS = ["rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "q_del", "hat", "weight"]
LABELS = [f"S{i}" for i in range(1, 14)]


@pytest.fixture(scope="module")
def fit(bcg):
    return am.pool(*bcg, labels=LABELS)


def _masked(fit, mask):
    b = am.pool_many(np.tile(fit.yi, (len(mask), 1)), np.tile(fit.vi, (len(mask), 1)), mask, confint=False)
    return pd.DataFrame(
        {
            "estimate": b.estimate,
            "se": b.se,
            "ci_low": b.ci_low,
            "ci_high": b.ci_high,
            "tau2": b.tau2,
            "i2": b.i2,
            "q": b.q,
            "k": b.k,
        }
    )


# --------------------------------------------------------------------- Baujat
@pytest.mark.parametrize(
    ("method", "test", "column", "expected"),
    [
        ("REML", "z", "x", BAUJAT_REML_Z[0]),
        ("REML", "z", "y", BAUJAT_REML_Z[1]),
        ("DL", "knha", "y", BAUJAT_DL_KNHA_Y),
        ("CE", "z", "x", BAUJAT_CE_X),
    ],
)
def test_baujat_coordinates_match_metafor(bcg, method, test, column, expected):
    coords = baujat_coordinates(am.pool(*bcg, method=method, test=test))
    assert coords[column].to_numpy() == pytest.approx(expected, rel=1e-6)


def test_baujat_plot_draws_every_study_with_its_label(fit):
    fig = baujat_plot(fit)
    (points,) = find(fig, "baujat-points")
    assert np.allclose(points.get_xdata(), BAUJAT_REML_Z[0], rtol=1e-6)
    assert sorted(texts(fig, "baujat-label")) == sorted(LABELS)
    assert fig.axes[0].get_ylabel() == "Influence on overall result"


def test_baujat_labels_do_not_overlap(fit):
    fig = baujat_plot(fit)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in find(fig, "baujat-label")]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not (min(a.x1, b.x1) - max(a.x0, b.x0) > 1 and min(a.y1, b.y1) - max(a.y0, b.y0) > 1)


def test_baujat_needs_two_studies(bcg):
    with pytest.raises(AlsmetaInputError, match="at least two studies"):
        baujat_coordinates(am.pool(bcg[0][:1], bcg[1][:1]))
    with pytest.raises(AlsmetaInputError, match="missing column"):
        baujat_plot(pd.DataFrame({"x": [1.0]}))


# -------------------------------------------------------- leave-one-out forest
def test_leave_one_out_forest_rows_and_full_estimate(fit):
    loo = _masked(fit, ~np.eye(fit.k, dtype=bool))
    fig = leave_one_out_forest(loo, fit)
    points = find(fig, "point")
    assert len(points) == fit.k
    assert np.allclose([p.get_xdata()[0] for p in points], loo["estimate"])
    assert texts(fig, "label:point")[0] == "Omitting S1"
    (marker,) = find(fig, "marker-line")
    assert marker.get_xdata()[0] == pytest.approx(fit.estimate)
    (diamond,) = find(fig, "diamond:random")
    assert diamond.get_xy()[:, 0].min() == pytest.approx(fit.ci_low)
    assert texts(fig, "header") == ["Study omitted", "\u03c4\u00b2", "I\u00b2", "Estimate [95% CI]"]


def test_leave_one_out_forest_takes_labels_from_a_label_column_and_checks_columns(fit):
    loo = _masked(fit, ~np.eye(fit.k, dtype=bool)).assign(label=[f"T{i}" for i in range(fit.k)])
    assert texts(leave_one_out_forest(loo), "label:point")[-1] == "Omitting T12"
    with pytest.raises(AlsmetaInputError, match="missing column.*ci_high"):
        leave_one_out_forest(loo.drop(columns="ci_high"))


def test_cumulative_forest_last_row_equals_the_full_model(fit):
    cum = _masked(fit, np.tril(np.ones((fit.k, fit.k), dtype=bool)))
    fig = cumulative_forest(cum, fit, order_note="as in the data")
    points = find(fig, "point")
    assert points[-1].get_xdata()[0] == pytest.approx(fit.estimate)
    k_cells = texts(fig, "cell:point")[::4]
    assert k_cells == [str(i) for i in range(1, fit.k + 1)]
    assert "ordered as in the data" in texts(fig, "footer")[0]


# ----------------------------------------------------------------------- GOSH
@pytest.fixture(scope="module")
def gosh_table(fit):
    k = fit.k
    mask = ((np.arange(1, 2**k)[:, None] >> np.arange(k)) & 1).astype(bool)
    return _masked(fit, mask)


def test_gosh_uses_a_density_for_many_subsets(fit, gosh_table):
    fig = gosh_plot(gosh_table, fit)
    (density,) = find(fig, "gosh-density")
    assert density.get_array().sum() == len(gosh_table) == 2**13 - 1
    (full,) = find(fig, "gosh-full")
    assert full.get_xdata()[0] == pytest.approx(fit.estimate) and full.get_ydata()[0] == pytest.approx(fit.i2)
    assert len(fig.axes) >= 3  # main panel + marginal histograms (+ colour bar)


def test_gosh_scatter_for_few_subsets_and_given_axes(fit, gosh_table):
    fig = Figure()
    ax = fig.add_subplot()
    small = gosh_table.iloc[:300]
    gosh_plot(small, fit, ax=ax)
    (points,) = find(fig, "gosh-points")
    assert np.allclose(points.get_offsets(), small[["estimate", "i2"]].to_numpy())
    assert ax.get_ylabel() == "I\u00b2 (%)"


def test_gosh_checks_its_input(gosh_table):
    with pytest.raises(AlsmetaInputError, match="missing column 'i2'"):
        gosh_plot(gosh_table.drop(columns="i2"))


# ------------------------------------------------------------------ influence
def test_influence_panel_draws_eight_diagnostics_with_metafor_reference_lines(fit):
    infl = pd.DataFrame(INFLUENCE, columns=INFL_COLUMNS)
    fig = influence_plot(infl, fit)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible][:2] == ["Studentized residual", "DFFITS"]
    (points,) = find(fig, "points:cook_d")
    assert np.allclose(points.get_ydata(), INFLUENCE[:, 2])
    refs = {a.get_gid(): [] for a in find(fig, "reference")}
    for a in find(fig, "reference"):
        refs[a.get_gid()].append(a.get_ydata()[0])
    assert sorted(refs["reference:dffits"]) == pytest.approx([-3 * np.sqrt(1 / 12), 0, 3 * np.sqrt(1 / 12)])
    assert refs["reference:cook_d"] == pytest.approx([stats.chi2.ppf(0.5, 1)])
    assert refs["reference:tau2_del"] == pytest.approx([fit.tau2])
    assert refs["reference:weight"] == pytest.approx([100 / 13])
    assert find(fig, "influential") == []  # metafor flags no study in dat.bcg
    assert "13 S13" in texts(fig, "influence-key")[0]


def test_influential_studies_are_highlighted():
    infl = pd.DataFrame(INFLUENCE, columns=INFL_COLUMNS)
    infl.loc[3, "dffits"] = 1.2  # beyond 3 * sqrt(1/12) = 0.866
    assert influential_flags(infl).tolist() == [i == 3 for i in range(13)]
    fig = influence_plot(infl)
    (tri,) = find(fig, "influential:rstudent")
    assert tri.get_xdata().tolist() == [4] and tri.get_marker() == "^"


def test_influence_checks_columns():
    with pytest.raises(AlsmetaInputError, match="missing column.*hat"):
        influence_plot(pd.DataFrame(INFLUENCE[:, :6], columns=INFL_COLUMNS[:6]))


# -------------------------------------------------------------------- drapery
def _crossings(line, level):
    return _crossings_xy(line.get_xdata(), line.get_ydata(), level)


def _crossings_xy(x, y, level):
    y = np.asarray(y) - level
    idx = np.nonzero(np.diff(np.sign(y)))[0]
    return [x[i] - y[i] * (x[i + 1] - x[i]) / (y[i + 1] - y[i]) for i in idx]


@pytest.mark.parametrize("test", ["z", "knha"])
def test_drapery_pooled_curve_crosses_alpha_at_the_ci_and_peaks_at_the_estimate(bcg, test):
    fit = am.pool(*bcg, test=test)
    fig = drapery_plot(fit)
    (curve,) = find(fig, "drapery:random")
    assert _crossings(curve, 0.05) == pytest.approx([fit.ci_low, fit.ci_high], abs=2e-3)
    assert curve.get_xdata()[np.argmax(curve.get_ydata())] == pytest.approx(fit.estimate)
    assert curve.get_ydata().max() == pytest.approx(1.0)
    assert len(find(fig, "drapery:study")) == fit.k
    (region,) = find(fig, "drapery:prediction")
    vertices = region.get_paths()[0].vertices
    upper = vertices[vertices[:, 1] > 0]  # the upper edge, in path order
    assert sorted(_crossings_xy(upper[:, 0], upper[:, 1], 0.05)) == pytest.approx([fit.pi_low, fit.pi_high], abs=2e-3)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-2, 2), st.floats(0.01, 1)), min_size=3, max_size=10),
    st.sampled_from(["z", "knha"]),
    st.floats(0.5, 0.99),
)
def test_p_value_functions_cross_alpha_at_the_ci_and_the_prediction_interval(rows, test, level):
    yi, vi = (list(col) for col in zip(*rows, strict=True))
    fit = am.pool(yi, vi, method="DL", test=test, level=level)
    if fit.se > 0:
        p = p_value_function([fit.ci_low, fit.estimate, fit.ci_high], fit.estimate, fit.se, fit.df)
        assert p == pytest.approx([1 - level, 1.0, 1 - level], rel=1e-9)
        p_pred = prediction_p_value_function([fit.pi_low, fit.pi_high], fit)
        assert p_pred == pytest.approx([1 - level, 1 - level], rel=1e-9)


def test_common_effect_is_the_inverse_variance_fit_of_the_same_studies(fit):
    ce = common_effect(fit)
    ref = am.pool(fit.yi, fit.vi, method="CE", level=fit.level, labels=fit.labels)
    assert (ce.method, ce.estimate, ce.se, ce.tau2, ce.labels) == ("CE", ref.estimate, ref.se, 0.0, fit.labels)
    with pytest.raises(AlsmetaInputError, match="PooledResult"):
        common_effect(fit.to_frame())


def test_drapery_study_curves_peak_at_one(fit):
    fig = drapery_plot(fit, common=True)
    for i, line in enumerate(find(fig, "drapery:study")):
        assert line.get_ydata().max() == pytest.approx(1.0)
        assert line.get_xdata()[np.argmax(line.get_ydata())] == pytest.approx(fit.yi[i])
    (ce_curve,) = find(fig, "drapery:common")
    assert ce_curve.get_ydata().max() == pytest.approx(1.0)
