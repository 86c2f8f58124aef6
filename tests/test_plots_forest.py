"""Forest plots: content checked through the artists (rows, diamonds, PI, text, edge cases)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

import alsmeta as am
from alsmeta import AlsmetaInputError
from alsmeta.plots import ForestOptions, forest_plot
from alsmeta.plots._format import MINUS
from alsmeta.plots.artists import all_text, find, texts

LABELS = [f"Trial {c}" for c in "ABCDEFGHIJKLM"]
ALLOC = ["random"] * 4 + ["alternate"] * 2 + ["random"] * 3 + ["systematic"] * 4
Z = 1.959963984540054


@pytest.fixture(scope="module")
def fit(bcg):
    yi, vi = bcg
    return am.pool(yi, vi, labels=LABELS)


@pytest.fixture(scope="module")
def fig(fit):
    return forest_plot(fit, log_scale=True, effect_label="Risk ratio", favours=("Favours vaccine", "Favours control"))


def panel(fig):
    return next(ax for ax in fig.axes if ax.get_label() == "forest-panel")


def row_y(fig, gid):
    (artist,) = find(fig, gid)
    return artist.get_ydata()[0]


def test_one_row_per_study_with_labels_in_data_order(fit, fig):
    squares = [a for a in find(fig, "study")]
    assert [a.get_gid() for a in squares] == [f"study:{lab}" for lab in LABELS]
    assert texts(fig, "label:study") == LABELS
    ys = [a.get_ydata()[0] for a in squares]
    assert ys == sorted(ys) and np.allclose(np.diff(ys), 1.0)  # one row each, top to bottom
    assert np.allclose([a.get_xdata()[0] for a in squares], fit.yi)


def test_square_area_is_proportional_to_weight(fit, fig):
    sides = np.array([a.get_markersize() for a in find(fig, "study")])
    assert np.allclose(sides**2 / sides.max() ** 2, fit.weights / fit.weights.max())


def test_whiskers_span_the_study_confidence_intervals(fit, fig):
    sei = np.sqrt(fit.vi)
    for i, lab in enumerate(LABELS):
        (line,) = find(fig, f"ci:{lab}")
        assert line.get_xdata() == pytest.approx([fit.yi[i] - Z * sei[i], fit.yi[i] + Z * sei[i]])


def test_diamond_is_centred_on_the_estimate_and_spans_the_ci(fit, fig):
    (diamond,) = find(fig, "diamond:random")
    xy = diamond.get_xy()
    assert xy[:, 0].min() == pytest.approx(fit.ci_low)
    assert xy[:, 0].max() == pytest.approx(fit.ci_high)
    tips = xy[np.argsort(xy[:, 1])][[0, -1], 0]  # top and bottom vertices
    assert tips == pytest.approx([fit.estimate, fit.estimate])
    assert fit.estimate == pytest.approx(-0.714532342158140, rel=1e-6)  # metafor rma() on dat.bcg


def test_prediction_interval_bar_spans_the_pi(fit, fig):
    (bar,) = find(fig, "prediction")
    assert bar.get_x() == pytest.approx(fit.pi_low)
    assert bar.get_x() + bar.get_width() == pytest.approx(fit.pi_high)
    assert (fit.pi_low, fit.pi_high) == pytest.approx((-1.8667, 0.4376), abs=1e-4)  # metafor predict()
    assert "[0.15, 1.55]" in texts(fig, "cell:prediction")


def test_text_columns_are_back_transformed_on_the_log_scale(fit, fig):
    cells = texts(fig, "cell:study")
    assert "0.41 [0.13, 1.26]" in cells  # Aronson 1948 in metafor's forest(res, atransf=exp)
    assert "5.1%" in cells
    summary = texts(fig, "cell:summary")
    assert summary == ["100.0%", "0.49 [0.34, 0.70]"]
    assert [t.get_text() for t in panel(fig).get_xticklabels()] == ["0.05", "0.1", "0.2", "0.5", "1", "2", "5", "10"]
    assert panel(fig).get_xlabel() == "Risk ratio (log scale)"


def test_heterogeneity_and_test_lines(fig):
    footer = texts(fig, "footer")
    assert footer[0] == "Heterogeneity: \u03c4\u00b2 = 0.31; I\u00b2 = 92.2%; Q = 152.23 (df = 12), p < 0.001"
    assert footer[1] == f"Test for overall effect: z = {MINUS}3.97, p < 0.001"


def test_reference_line_and_favours_labels(fig):
    (ref,) = find(fig, "reference-line")
    assert ref.get_xdata()[0] == 0.0  # log(1)
    assert texts(fig, "favours") == ["Favours vaccine", "Favours control"]
    left, right = find(fig, "favours")
    assert left.get_ha() == "right" and right.get_ha() == "left"


def test_common_and_random_diamonds_with_two_weight_columns(fit):
    fig = forest_plot(fit, common=True)
    ce = am.pool(fit.yi, fit.vi, method="CE")
    (d_ce,) = find(fig, "diamond:common")
    (d_re,) = find(fig, "diamond:random")
    assert d_ce.get_xy()[:, 0].min() == pytest.approx(ce.ci_low)
    assert d_re.get_xy()[:, 0].max() == pytest.approx(fit.ci_high)
    assert texts(fig, "header")[1:3] == ["Weight\n(common)", "Weight\n(random)"]
    assert len(texts(fig, "footer")) == 3  # heterogeneity + two tests


def test_knha_fit_reports_t_with_df(bcg):
    fit = am.pool(*bcg, method="DL", test="knha")
    fig = forest_plot(fit)
    assert texts(fig, "label:summary") == ["Random-effects model (DL, HKSJ)"]
    assert texts(fig, "footer")[1].startswith("Test for overall effect: t = ")
    assert "(df = 12)" in texts(fig, "footer")[1]


def test_clipped_whiskers_end_in_arrows(fit):
    fig = forest_plot(fit, log_scale=True, xlim=(0.1, 2))
    arrows = {a.get_gid() for a in find(fig, "clip")}
    # RR CIs below 0.1: Ferguson (0.09), Rosenthal 1960 (0.07), Vandiviere (0.08); above 2: Comstock & Webster (6.53)
    assert arrows == {"clip:Trial B:low", "clip:Trial C:low", "clip:Trial G:low", "clip:Trial L:high"}
    lo, hi = panel(fig).get_xlim()
    assert (lo, hi) == pytest.approx((math.log(0.1), math.log(2)))
    (line,) = find(fig, "ci:Trial L")
    assert line.get_xdata()[1] == pytest.approx(math.log(2))
    # a diamond or prediction interval cut by the limits gets arrows too
    narrow = forest_plot(fit, log_scale=True, xlim=(0.4, 0.6))
    gids = {a.get_gid() for a in find(narrow, "clip")}
    assert {
        "clip:Random-effects model (REML):low",
        "clip:Random-effects model (REML):high",
        "clip:Prediction interval:low",
        "clip:Prediction interval:high",
    } <= gids


def test_subgroups_blocks_subtotals_and_test_for_differences(fit):
    fig = forest_plot(fit, subgroups=ALLOC, log_scale=True)
    assert texts(fig, "label:heading") == ["random", "alternate", "systematic"]
    diamonds = find(fig, "diamond:subgroup")
    assert len(diamonds) == 3
    # metafor: rma(yi, vi, subset=alloc==...) with REML
    expected = [-0.970964704263089, -0.540792961849346, -0.424207391510872]
    centres = [d.get_xy()[np.argmin(d.get_xy()[:, 1]), 0] for d in diamonds]
    assert centres == pytest.approx(expected, rel=1e-6)
    assert texts(fig, "label:summary") == [
        "Subtotal (k = 7)",
        "Subtotal (k = 2)",
        "Subtotal (k = 4)",
        "Random-effects model (REML)",
    ]
    footer = texts(fig, "footer")
    # metafor: rma(estimates, sei=ses, method="FE")$QE = 1.861444946154636, p = 0.394268758885585
    assert "Test for subgroup differences: Q = 1.86 (df = 2), p = 0.394" in footer
    notes = texts(fig, "label:note")
    assert notes[0] == "Heterogeneity: \u03c4\u00b2 = 0.39, I\u00b2 = 90%, p < 0.001"
    # studies stay in their block: the first block holds the seven randomised trials
    ys = {a.get_gid()[6:]: a.get_ydata()[0] for a in find(fig, "study")}
    first_block = [lab for lab, g in zip(LABELS, ALLOC, strict=True) if g == "random"]
    assert max(ys[lab] for lab in first_block) < min(
        ys[lab] for lab, g in zip(LABELS, ALLOC, strict=True) if g != "random"
    )


def test_subgroup_test_can_be_left_out(fit):
    """subgroup_test=False drops only the test for subgroup differences; the blocks and subtotals stay."""
    fig = forest_plot(fit, subgroups=ALLOC, log_scale=True, subgroup_test=False)
    assert not any("subgroup differences" in t for t in texts(fig, "footer"))
    assert len(find(fig, "diamond:subgroup")) == 3
    assert texts(fig, "label:heading") == ["random", "alternate", "systematic"]


def test_subgroup_analysis_of_matches_metafor(fit):
    sub = am.subgroup_analysis_of(fit, ALLOC)
    assert sub.q_between == pytest.approx(1.861444946154636, rel=1e-6)
    assert sub.q_between_pvalue == pytest.approx(0.394268758885585, rel=1e-6)
    assert sub.q_between_df == 2 and sub.names == ("random", "alternate", "systematic")
    assert [f.tau2 for f in sub.fits] == pytest.approx(
        [0.392528006900774, 0.132577039878093, 0.400345880175118], rel=1e-5
    )


def test_a_subgroup_result_draws_as_the_per_study_groups(fit):
    given = forest_plot(fit, subgroups=am.subgroup_analysis_of(fit, ALLOC), log_scale=True)
    labels = forest_plot(fit, subgroups=ALLOC, log_scale=True)
    assert all_text(given) == all_text(labels)
    diamonds = [d.get_xy().tolist() for d in find(given, "diamond")]
    assert diamonds == [d.get_xy().tolist() for d in find(labels, "diamond")] and len(diamonds) == 4
    other = am.pool(fit.yi[:12], fit.vi[:12], labels=LABELS[:12])
    with pytest.raises(AlsmetaInputError, match="not an analysis of this fit"):
        forest_plot(fit, subgroups=am.subgroup_analysis_of(other, ALLOC[:12]))
    with pytest.raises(AlsmetaInputError, match="subgroup_order"):
        forest_plot(fit, subgroups=am.subgroup_analysis_of(fit, ALLOC), subgroup_order=["random"])


def test_options_object_and_keyword_shortcuts_draw_the_same_figure(fit):
    options = ForestOptions(log_scale=True, favours=("Favours vaccine", "Favours control"), common=True)
    by_object = forest_plot(fit, options, title="BCG")
    by_keywords = forest_plot(
        fit, log_scale=True, favours=("Favours vaccine", "Favours control"), common=True, title="BCG"
    )
    assert all_text(by_object) == all_text(by_keywords) and "BCG" in all_text(by_object)
    assert len(find(by_object, "diamond")) == 2
    with pytest.raises(TypeError, match="log_scal"):
        forest_plot(fit, log_scal=True)
    with pytest.raises(AlsmetaInputError, match="ForestOptions"):
        forest_plot(fit, {"log_scale": True})


def test_single_study_subgroup_has_no_subtotal(fit):
    groups = ["a"] * 12 + ["b"]
    fig = forest_plot(fit, subgroups=groups)
    assert len(find(fig, "diamond:subgroup")) == 1
    assert "Single study: no subtotal" in texts(fig, "label:note")


def test_sorting_by_estimate(fit):
    fig = forest_plot(fit, sort_by="estimate")
    xs = [a.get_xdata()[0] for a in find(fig, "study")]
    assert xs == sorted(xs)
    fig = forest_plot(fit, sort_by="weight", descending=True)
    labels = [a.get_gid()[6:] for a in find(fig, "study")]
    assert labels == [LABELS[i] for i in np.argsort(-fit.weights, kind="stable")]


def test_extra_columns_and_not_reported(fit):
    n = [123, 306, None, 13598, 5069, 1541, 2545, 88391, 7499, 1716, 50634, 2498, float("nan")]
    fig = forest_plot(fit, columns={"n": n, "Route": ["IT"] * 13})
    assert texts(fig, "header")[:3] == ["Study", "n", "Route"]
    cells = texts(fig, "cell:study")
    assert cells.count("NR") == 2 and "13598" in cells
    assert "NR = not reported in the source." in texts(fig, "footer")


def test_k0_draws_the_frame_and_the_statement(recwarn):
    fig = forest_plot(am.pool([], []), favours=("Favours cells", "Favours control"))
    assert find(fig, "study") == [] and find(fig, "diamond") == [] and find(fig, "prediction") == []
    assert texts(fig, "label:note") == ["No study met the inclusion criteria for this analysis (k = 0)."]
    assert find(fig, "reference-line") and texts(fig, "favours") == ["Favours cells", "Favours control"]
    assert "Heterogeneity" not in all_text(fig)


def test_k1_draws_the_study_without_a_summary(bcg):
    fit = am.pool(bcg[0][:1], bcg[1][:1], labels=["Aronson 1948"])
    fig = forest_plot(fit)
    assert len(find(fig, "study")) == 1
    assert find(fig, "diamond") == [] and find(fig, "prediction") == []
    assert "no pooled estimate" in texts(fig, "footer")[0]


def test_figure_height_grows_with_k_at_constant_row_height():
    rng = np.random.default_rng(1)
    heights = []
    for k in (5, 50):
        fit = am.pool(rng.normal(size=k), rng.uniform(0.05, 0.2, size=k))
        heights.append(forest_plot(fit).get_figheight())
    assert heights[1] - heights[0] == pytest.approx(45 * 0.2)


def test_text_does_not_overlap_or_leave_the_figure(fit):
    fig = forest_plot(
        fit,
        subgroups=ALLOC,
        common=True,
        log_scale=True,
        favours=("Favours vaccine", "Favours control"),
        columns={"Allocation": ALLOC},
        title="BCG vaccine",
    )
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    frame = fig.bbox
    boxes = []
    for t in fig.findobj(lambda a: hasattr(a, "get_window_extent") and hasattr(a, "get_text") and a.get_text()):
        if not t.get_visible():
            continue
        bb = t.get_window_extent(renderer)
        assert frame.x0 - 0.5 <= bb.x0 and bb.x1 <= frame.x1 + 0.5, t.get_text()
        assert frame.y0 - 0.5 <= bb.y0 and bb.y1 <= frame.y1 + 0.5, t.get_text()
        boxes.append((t.get_text(), bb))
    for i, (ta, a) in enumerate(boxes):
        for tb, b in boxes[i + 1 :]:
            overlap_w = min(a.x1, b.x1) - max(a.x0, b.x0)
            overlap_h = min(a.y1, b.y1) - max(a.y0, b.y0)
            assert not (overlap_w > 1 and overlap_h > 1), (ta, tb)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sort_by": "year"}, "sort_by"),
        ({"columns": {"n": [1, 2]}}, "column 'n' has 2 values for 13 studies"),
        ({"subgroups": ["a"] * 12}, "12 values given for 13 studies"),
        ({"subgroups": ["a"] * 12 + [None]}, "study 'Trial M', column 'groups'"),
        ({"subgroups": ["a"] * 12 + [" "]}, "study 'Trial M', column 'groups'"),
        ({"log_scale": True, "xlim": (0, 2)}, "xlim"),
        ({"xlim": (2, 1)}, "xlim"),
        ({"subgroups": ALLOC, "subgroup_order": ["random", "alternate"]}, "must list each subgroup once"),
        ({"digits": 7}, "digits"),
    ],
)
def test_bad_options_raise_clear_errors(fit, kwargs, match):
    with pytest.raises(AlsmetaInputError, match=match):
        forest_plot(fit, **kwargs)


def test_rejects_something_that_is_not_a_fit():
    with pytest.raises(AlsmetaInputError, match="PooledResult"):
        forest_plot({"estimate": 1.0})


def test_symmetric_xlim_centres_no_effect_and_contains_every_interval():
    import numpy as np

    import alsmeta as am
    from alsmeta.plots.forest import symmetric_xlim

    fit = am.pool([0.5, 2.2], [0.04, 0.09])
    low, high = symmetric_xlim(fit)
    assert low == -high and high >= 2.2 + 1.96 * 0.3
    ratio = am.pool(np.log([2.81]), [0.15])
    lo, hi = symmetric_xlim(ratio, log_scale=True)
    assert lo * hi == 1.0 and hi >= np.exp(np.log(2.81) + 1.96 * np.sqrt(0.15))


# --- print size, wrapping and tiny ratios (issue 13) -------------------------------------------


def _font_sizes(fig):
    return [
        t.get_fontsize()
        for t in fig.findobj(lambda a: hasattr(a, "get_fontsize") and hasattr(a, "get_text") and a.get_text())
    ]


def test_long_footer_is_wrapped_inside_the_print_width(fit):
    from alsmeta.plots.forest_layout import PRINT_WIDTH

    long_note = "A long footnote that explains an assumption in detail, " * 6
    fig = forest_plot(fit, notes=[long_note], title="A title " * 20)
    assert fig.get_figwidth() <= PRINT_WIDTH + 1e-9
    footer = texts(fig, "footer")
    assert len(footer) > 3 and " ".join(footer[2:]).split() == long_note.split()
    assert " ".join(texts(fig, "title")).split() == ("A title " * 20).split()
    assert min(_font_sizes(fig)) >= 7.0


def test_layout_refuses_text_below_seven_points():
    from alsmeta.plots.forest_layout import ForestLayout, ForestRow, draw_forest

    with pytest.raises(AlsmetaInputError, match="font_size"):
        draw_forest(ForestLayout(rows=(ForestRow("study", "A", 0.0, -1.0, 1.0, weight=1.0),), font_size=6.0))


def test_tiny_ratio_bounds_are_never_printed_as_zero():
    fit = am.pool([math.log(5.83), math.log(1.33)], [0.345, 0.142], labels=["A", "B"], test="knha")
    assert math.exp(fit.ci_low) < 0.005  # the HKSJ bound with one df is tiny
    fig = forest_plot(fit, log_scale=True, digits=2)
    summary = texts(fig, "cell:summary")[-1]
    assert "[<0.01, " in summary
    import re

    assert not re.search(r"(?<![\d.])0\.0+(?![0-9])", all_text(fig))  # no "0.00" or "0.000" anywhere


# --- RevMan-style multi-outcome forest ---------------------------------------------------------


def _continuous_blocks(bcg):
    import pandas as pd

    from alsmeta.plots.forest_multi import OutcomeBlock

    one = am.pool([3.38], [1.104**2], labels=["Oh 2018"], method="REML")
    arms1 = pd.DataFrame({"mean1": [-3.10], "sd1": [3.51], "n1": [31], "mean2": [-6.48], "sd2": [4.53], "n2": [25]})
    three = am.pool(bcg[0][:3], bcg[1][:3], labels=["A", "B", "C"], method="REML")
    arms3 = pd.DataFrame(
        {
            "mean1": [1.0, 2.0, None],
            "sd1": [1.5, 1.5, 1.5],
            "n1": [10, 20, 30],
            "mean2": [0.5, 0.5, 0.5],
            "sd2": [1.0, 1.0, 1.0],
            "n2": [11, 21, 31],
        }
    )
    return (
        [
            OutcomeBlock("ALSFRS-R change, 0 to 6 months (points)", one, arms1),
            OutcomeBlock("Second outcome (units)", three, arms3, notes=("a block note",)),
        ],
        one,
        three,
    )


def test_multi_outcome_forest_draws_one_block_per_outcome(bcg):
    from alsmeta.plots.forest_layout import PRINT_WIDTH
    from alsmeta.plots.forest_multi import multi_outcome_forest

    blocks, one, three = _continuous_blocks(bcg)
    fig = multi_outcome_forest(
        blocks,
        measure="MD",
        arm_names=("MSC + riluzole", "Riluzole alone"),
        favours=("Favours control", "Favours cells"),
        title="Comparison",
    )
    assert texts(fig, "label:heading") == [b.title for b in blocks]
    assert texts(fig, "header-group") == ["MSC + riluzole", "Riluzole alone"]
    assert texts(fig, "header") == [
        "Study or subgroup",
        "Mean",
        "SD",
        "Total",
        "Mean",
        "SD",
        "Total",
        "Weight",
        "MD [95% CI]",
    ]
    # one subtotal diamond per outcome, spanning that outcome's own CI
    diamonds = find(fig, "diamond")
    assert len(diamonds) == 2
    for d, f in zip(diamonds, (one, three), strict=True):
        assert (d.get_xy()[:, 0].min(), d.get_xy()[:, 0].max()) == pytest.approx((f.ci_low, f.ci_high))
    notes = texts(fig, "label:note")
    assert notes[0] == "Heterogeneity: not applicable"
    assert notes[1] == f"Test for overall effect: Z = {one.statistic:.2f} (P = {one.pvalue:.3f})"
    assert (
        notes[2].startswith("Heterogeneity: Tau\u00b2 = ")
        and f"df = {three.q_df}" in notes[2]
        and "I\u00b2 = " in notes[2]
    )
    assert notes[4] == "a block note"
    cells = texts(fig, "cell:study")
    assert cells[:8] == [f"{MINUS}3.10", "3.51", "31", f"{MINUS}6.48", "4.53", "25", "100.0%", "3.38 [1.22, 5.54]"]
    assert "NR" in cells and "NR = not reported in the source." in texts(fig, "footer")
    assert [t for t in texts(fig, "cell:summary") if t][:3] == [
        "31",
        "25",
        "100.0%",
    ]  # subtotal: total participants per arm
    assert [a.get_gid() for a in find(fig, "study")] == ["study:Oh 2018", "study:A", "study:B", "study:C"]
    assert fig.get_figwidth() <= PRINT_WIDTH + 1e-9 and min(_font_sizes(fig)) >= 7.0


def test_multi_outcome_forest_dichotomous_odds_ratios():
    import pandas as pd

    from alsmeta.effects.measures import log_odds_ratio
    from alsmeta.plots.forest_multi import OutcomeBlock, multi_outcome_forest

    es = log_odds_ratio([20], [32], [6], [27], labels=["Oh 2018"])
    fit = am.pool(es.yi, es.vi, labels=es.labels)
    arms = pd.DataFrame({"events1": [20], "n1": [32], "events2": [6], "n2": [27]})
    fig = multi_outcome_forest([OutcomeBlock("Responders, 6 months", fit, arms)], measure="OR", xlim=(0.1, 100))
    assert texts(fig, "header")[1:] == ["Events", "Total", "Events", "Total", "Weight", "OR [95% CI]"]
    assert texts(fig, "cell:study") == ["20", "32", "6", "27", "100.0%", "5.83 [1.84, 18.53]"]  # (20*21)/(12*6)
    assert "Total events" in texts(fig, "label:note")
    assert panel(fig).get_xlabel() == "Odds ratio (log scale)"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("drop", "blocks\\['Second outcome \\(units\\)'\\].arms: missing column\\(s\\) sd2"),
        ("rows", "3 rows for 1 studies|rows for"),
        ("measure", "measure: 'HR'"),
    ],
)
def test_multi_outcome_forest_bad_input_names_block_and_column(bcg, change, message):
    from alsmeta.plots.forest_multi import OutcomeBlock, multi_outcome_forest

    blocks, one, three = _continuous_blocks(bcg)
    measure = "MD"
    if change == "drop":
        blocks[1] = OutcomeBlock(blocks[1].title, three, blocks[1].arms.drop(columns=["sd2"]))
    elif change == "rows":
        blocks[0] = OutcomeBlock(blocks[0].title, one, blocks[1].arms)
    else:
        measure = "HR"
    with pytest.raises(AlsmetaInputError, match=message):
        multi_outcome_forest(blocks, measure=measure)


def test_a_table_too_wide_for_print_is_set_smaller_but_never_below_7_pt(fit):
    from alsmeta.plots.forest_layout import PRINT_WIDTH

    columns = {
        "BCG\n(TB / n)": [f"{i} / 88391" for i in range(13)],
        "Control\n(TB / n)": [f"{i} / 12867" for i in range(13)],
    }
    fig = forest_plot(fit, columns=columns, common=True, log_scale=True, title="A long title " * 3)
    assert fig.get_figwidth() <= PRINT_WIDTH + 1e-9
    sizes = _font_sizes(fig)
    assert min(sizes) >= 7.0 and max(t.get_fontsize() for t in find(fig, "label:study")) < 9.0
    narrow = forest_plot(am.pool(fit.yi[:3], fit.vi[:3], labels=LABELS[:3]))
    assert {t.get_fontsize() for t in find(narrow, "label:study")} == {9.0}  # a table that fits keeps the house size


def test_multi_outcome_footer_names_the_model_or_says_one_study(bcg):
    from alsmeta.plots.forest_multi import multi_outcome_forest

    blocks, one, three = _continuous_blocks(bcg)
    assert "Random-effects model (REML)" in texts(multi_outcome_forest(blocks), "footer")[0]
    only_one = texts(multi_outcome_forest(blocks[:1]), "footer")[0]
    assert "one study per outcome" in only_one and "Random-effects" not in only_one


def test_subtotals_can_name_the_test_behind_their_diamond(bcg):
    """With subtotal_test, each subtotal row names the analysis of its diamond and interval (HKSJ, t, k - 1 df)."""
    from alsmeta.plots.forest import analysis_label

    yi, vi = bcg
    hksj = am.pool(yi, vi, labels=LABELS, test="knha")
    fig = forest_plot(hksj, subgroups=ALLOC, subtotal_test=True)
    labels = texts(fig, "label:summary")
    assert "Subtotal, REML + HKSJ (t, 6 df)" in labels  # 7 'random' trials
    assert "Subtotal, REML + HKSJ (t, 3 df)" in labels  # 4 'systematic' trials
    assert not any(label.startswith("Subtotal (k =") for label in labels)
    assert "Subtotal (k = 7)" in texts(forest_plot(hksj, subgroups=ALLOC), "label:summary")  # default unchanged
    assert analysis_label(am.pool(yi, vi, method="DL")) == "DL (z)"
    assert analysis_label(am.pool(yi, vi, method="CE")) == "Common effect (z)"
    assert analysis_label(am.pool(yi, vi, test="adhoc")) == "REML + HKSJ ad hoc (t, 12 df)"


def test_forest_width_snaps_to_a_journal_column(fit):
    """A forest narrower than a column is widened to 89 or 183 mm (the panel takes the room), never left in between."""
    from alsmeta.plots.forest_layout import PRINT_WIDTHS

    narrow = forest_plot(fit, weights=False, panel_width=1.0, effect_label="RR")
    wide = forest_plot(fit, columns={"Allocation": ALLOC}, notes=["A footnote of moderate length. " * 5])
    for fig in (narrow, wide):
        assert min(abs(fig.get_figwidth() - w) for w in PRINT_WIDTHS) < 1e-9
    panel_inches = panel(narrow).get_position().width * narrow.get_figwidth()
    assert panel_inches > 2.0  # the 1 in panel grew into the room up to the column width
