"""Every alsmeta plot is print-ready by default: column width, text >= 7 pt, readable in greyscale, SVG text as text.

The figure standard of README.md ("Figures"), measured on the figures themselves
(:mod:`alsmeta.plots.print_check`): each plot type is rendered with its
defaults on dat.bcg and on a hard case (many studies with long labels), and
must print at 89 or 183 mm with every text at least 7 pt and inside the
canvas, and keep every colour distinction readable in greyscale.
"""

from __future__ import annotations

import io
import itertools
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

import alsmeta as am
from alsmeta import AlsmetaInputError
from alsmeta.als.schema import ROB2_DOMAINS
from alsmeta.diagnostics.bias import trim_and_fill
from alsmeta.diagnostics.sensitivity import cumulative, gosh, influence, leave_one_out
from alsmeta.planning.sequential import trial_sequential_analysis
from alsmeta.plots import (
    PrismaCounts,
    availability_map,
    baujat_plot,
    cumulative_forest,
    drapery_plot,
    forest_plot,
    funnel_plot,
    gosh_plot,
    influence_plot,
    leave_one_out_forest,
    prisma_flow,
    risk_of_bias_figure,
    risk_of_bias_summary_plot,
    save_figure,
    traffic_light_plot,
    trial_sequential_plot,
)
from alsmeta.plots.forest_multi import OutcomeBlock, multi_outcome_forest
from alsmeta.plots.print_check import MIN_GREY_DELTA, grayscale_problems, grey_level, print_problems
from alsmeta.plots.style import (
    BLUE,
    INK,
    ORANGE,
    PALE_BLUE,
    VERMILLION,
    column_width,
    style_context,
)

MM = 1 / 25.4
ALLOC = ["random"] * 4 + ["alternate"] * 2 + ["random"] * 3 + ["systematic"] * 4
YEARS = [1948, 1949, 1960, 1977, 1973, 1953, 1973, 1980, 1968, 1961, 1974, 1969, 1976]


def _fits(bcg, case: str) -> tuple[am.PooledResult, list[str]]:
    """dat.bcg as it is, or a hard case: 40 studies with long labels (about 50 characters)."""
    yi, vi = bcg
    if case == "bcg":
        labels = [f"Trial {c} {y}" for c, y in zip("ABCDEFGHIJKLM", YEARS, strict=True)]
        return am.pool(yi, vi, labels=labels), ALLOC
    rng = np.random.default_rng(13)
    k = 40
    yi = np.resize(yi, k) + rng.normal(0, 0.1, k)
    vi = np.resize(vi, k)
    labels = [f"Multicentre cohort {i + 1}, bone-marrow MSC, intrathecal {2000 + i % 25}" for i in range(k)]
    groups = [
        ("Intrathecal mesenchymal stromal cells", "Intramuscular", "Intravenous mononuclear cells")[i % 3]
        for i in range(k)
    ]
    return am.pool(yi, vi, labels=labels), groups


def _forest(fit, groups):
    return forest_plot(
        fit,
        log_scale=True,
        effect_label="Risk ratio",
        common=True,
        favours=("Favours vaccine", "Favours control"),
        notes=["Data: dat.bcg (Colditz et al. 1994)."],
        title="BCG vaccine and tuberculosis",
    )


def _forest_subgroups(fit, groups):
    return forest_plot(fit, subgroups=groups, log_scale=True, effect_label="Risk ratio")


def _leave_one_out(fit, groups):
    return leave_one_out_forest(leave_one_out(fit), fit, log_scale=True, effect_label="Risk ratio")


def _cumulative(fit, groups):
    return cumulative_forest(cumulative(fit), fit, log_scale=True, effect_label="Risk ratio")


def _funnel(fit, groups):
    return funnel_plot(fit, log_scale=True, effect_label="Risk ratio")


def _funnel_contour_trimfill(fit, groups):
    tf = trim_and_fill(fit)
    return funnel_plot(
        fit,
        contours=True,
        filled_yi=tf.filled["yi"].to_numpy(),
        filled_vi=tf.filled["vi"].to_numpy(),
        filled_fit=tf.fit if tf.k0 else None,
        side=tf.side or None,
        log_scale=True,
        effect_label="Risk ratio",
    )


def _baujat(fit, groups):
    return baujat_plot(fit)


def _drapery(fit, groups):
    return drapery_plot(fit, common=True, log_scale=True, effect_label="Risk ratio")


def _gosh(fit, groups):
    return gosh_plot(gosh(fit, max_subsets=3000, seed=1), fit, log_scale=True)


def _influence(fit, groups):
    return influence_plot(influence(fit), fit)


def _prisma(fit, groups):
    counts = PrismaCounts(identified={"Databases": 670, "Registers": None}, included_studies=fit.k)
    return prisma_flow(
        counts, caption="Search counts not reported by the source are shown as not reported.", check=False
    )


def _sequential(fit, groups):
    n = [200 + 15 * i for i in range(fit.k)]
    result = trial_sequential_analysis(fit, n, list(range(2000, 2000 + fit.k)), delta=0.2, sd=1.0)
    return trial_sequential_plot(result)


def _rob_table(fit) -> pd.DataFrame:
    judgements = ("low", "some_concerns", "high")
    trials = list(fit.labels)[:8]
    return pd.DataFrame(
        {
            "trial": [t for t in trials for _ in ROB2_DOMAINS],
            "domain": list(ROB2_DOMAINS) * len(trials),
            "judgement": [judgements[(i * 7 + j) % 3] for i in range(len(trials)) for j in range(len(ROB2_DOMAINS))],
        }
    )


def _traffic_light(fit, groups):
    return traffic_light_plot(_rob_table(fit))


def _rob_summary(fit, groups):
    return risk_of_bias_summary_plot(_rob_table(fit))


def _rob_figure(fit, groups):
    return risk_of_bias_figure(_rob_table(fit))


def _availability(fit, groups):
    statuses = ("verified", "secondary", "derived", "not_found")
    studies = list(fit.labels)[:12]
    rows = [
        (s, o, t, statuses[(i + j) % 4])
        for i, s in enumerate(studies)
        for j, (o, t) in enumerate([("ALSFRS-R", "6 mo"), ("ALSFRS-R", "12 mo"), ("FVC", "6 mo")])
    ]
    return availability_map(pd.DataFrame(rows, columns=["study", "outcome", "timepoint", "status"]))


def _multi_outcome(fit, groups):
    k = min(fit.k, 6)
    sub = am.pool(fit.yi[:k], fit.vi[:k], labels=list(fit.labels)[:k])
    arms = pd.DataFrame(
        {
            "mean1": np.linspace(-3, -1, k),
            "sd1": [3.5] * k,
            "n1": [30] * k,
            "mean2": np.linspace(-6, -4, k),
            "sd2": [4.5] * k,
            "n2": [28] * k,
        }
    )
    blocks = [
        OutcomeBlock("ALSFRS-R change, 0 to 6 months (points)", sub, arms),
        OutcomeBlock("ALSFRS-R change, 0 to 12 months (points)", sub, arms),
    ]
    return multi_outcome_forest(
        blocks,
        measure="MD",
        arm_names=("MSC + riluzole", "Riluzole alone"),
        favours=("Favours control", "Favours cells"),
    )


PLOTS = {
    f.__name__[1:]: f
    for f in (
        _forest,
        _forest_subgroups,
        _leave_one_out,
        _cumulative,
        _funnel,
        _funnel_contour_trimfill,
        _baujat,
        _drapery,
        _gosh,
        _influence,
        _prisma,
        _sequential,
        _traffic_light,
        _rob_summary,
        _rob_figure,
        _availability,
        _multi_outcome,
    )
}


def _render(bcg, case: str, name: str) -> Figure:
    fit, groups = _fits(bcg, case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return PLOTS[name](fit, groups)


@pytest.mark.parametrize("case", ["bcg", "many_long_labels"])
@pytest.mark.parametrize("name", sorted(PLOTS))
def test_every_plot_is_print_ready_by_default(bcg, name, case):
    """89 or 183 mm wide, every drawn text >= 7 pt, inside the canvas, over no other text (README, Figures)."""
    fig = _render(bcg, case, name)
    assert print_problems(fig) == []


@pytest.mark.parametrize("name", sorted(PLOTS))
def test_every_plot_reads_in_greyscale(bcg, name):
    """Series that differ in colour also differ in marker, line style or hatch, or in grey level."""
    assert grayscale_problems(_render(bcg, "bcg", name)) == []


@pytest.mark.parametrize("name", ["funnel", "baujat", "drapery", "gosh", "influence"])
def test_the_other_column_width_is_print_ready_too(bcg, name):
    fit, _ = _fits(bcg, "bcg")
    fn = {
        "funnel": funnel_plot,
        "baujat": baujat_plot,
        "drapery": drapery_plot,
        "gosh": lambda f, width: gosh_plot(gosh(f), f, width=width),
        "influence": lambda f, width: influence_plot(influence(f), f, width=width),
    }[name]
    other = fn(fit, width="single" if name == "influence" else "double")
    assert print_problems(other) == []


def test_column_width_names_the_argument():
    assert column_width("single") == pytest.approx(89 * MM)
    assert column_width("double") == pytest.approx(183 * MM)
    with pytest.raises(AlsmetaInputError, match="width: expected 'single'"):
        column_width("wide")
    with pytest.raises(AlsmetaInputError, match="width"):
        funnel_plot(am.pool([0.1, 0.2], [0.01, 0.02]), width=7.2)


# --- greyscale ------------------------------------------------------------------------------------

# two Okabe-Ito hues of nearly the same Pillow grey level (0.62, 0.59): sky blue and reddish purple
SAME_GREY = ("#56B4E9", "#CC79A7")


def _two_series(marker_b: str = "o", ls_b: str = "-", colours: tuple[str, str] = SAME_GREY) -> Figure:
    fig = Figure(figsize=(89 * MM, 60 * MM))
    ax = fig.add_subplot()
    x = np.arange(5)
    ax.plot(x, x, color=colours[0], marker="o", ls="-", label="Cells")
    ax.plot(x, x + 1, color=colours[1], marker=marker_b, ls=ls_b, label="Placebo")
    ax.legend()
    return fig


def _rendered_grey(fig: Figure, colour_hex: str) -> int:
    """The grey level, in the greyscale PNG, of the pixels drawn in ``colour_hex``."""
    buf = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buf)
    rgb = Image.open(buf).convert("RGB")
    grey = rgb.convert("L")
    target = tuple(int(colour_hex[i : i + 2], 16) for i in (1, 3, 5))
    a, g = np.asarray(rgb), np.asarray(grey)
    hit = np.all(a == target, axis=-1)
    assert hit.any()
    return int(np.median(g[hit]))


def test_two_series_differing_only_in_an_equal_grey_hue_are_reported():
    assert abs(grey_level(SAME_GREY[0]) - grey_level(SAME_GREY[1])) < 0.03
    fig = _two_series()
    # the merge is real: in the greyscale PNG both lines have (nearly) the same grey
    assert abs(_rendered_grey(fig, SAME_GREY[0]) - _rendered_grey(fig, SAME_GREY[1])) < 0.03 * 255
    problems = grayscale_problems(fig)
    assert len(problems) == 1
    assert "'Cells' and 'Placebo' differ only in colour" in problems[0]


@pytest.mark.parametrize("change", [{"marker_b": "s"}, {"ls_b": "--"}, {"colours": (INK, ORANGE)}])
def test_a_second_encoding_or_a_grey_difference_keeps_series_apart(change):
    assert grayscale_problems(_two_series(**change)) == []


def test_hatch_keeps_bars_apart_and_its_absence_is_reported():
    fig = Figure(figsize=(89 * MM, 60 * MM))
    ax = fig.add_subplot()
    ax.bar([0], [1], color=SAME_GREY[0], label="Verified")
    bars = ax.bar([1], [2], color=SAME_GREY[1], label="Secondary")
    ax.legend()
    assert len(grayscale_problems(fig)) == 1
    bars.patches[0].set_hatch("///")
    ax.legend()  # rebuild the legend handles from the hatched bar
    assert grayscale_problems(fig) == []


def test_a_colour_map_that_is_not_monotonic_in_grey_is_reported():
    fig = Figure(figsize=(89 * MM, 80 * MM))
    ax = fig.add_subplot()
    data = np.arange(100.0).reshape(10, 10)
    ax.imshow(data, cmap="jet")  # dark blue -> bright yellow-green -> dark red
    assert any("colour map 'jet'" in p for p in grayscale_problems(fig))
    ax.images[0].set_cmap("viridis")
    assert grayscale_problems(fig) == []


def test_house_roles_shown_together_differ_in_grey():
    """Study ink, random-effects blue, prediction vermillion, common-effect orange, subgroup pale blue:
    dark to light."""
    greys = [grey_level(c) for c in (INK, BLUE, VERMILLION, ORANGE, PALE_BLUE)]
    assert all(b - a >= MIN_GREY_DELTA for a, b in itertools.pairwise(greys)), greys


def test_grayscale_problems_needs_a_figure():
    with pytest.raises(AlsmetaInputError, match="fig"):
        grayscale_problems("figure.png")


# --- SVG text as text, deterministic --------------------------------------------------------------


def test_svg_keeps_text_as_text_in_the_house_font(bcg, tmp_path):
    fit, _ = _fits(bcg, "bcg")
    fig = forest_plot(fit, title="BCG $5 vs_10")
    svg = save_figure(fig, tmp_path / "forest", formats=("svg",))[0].read_text(encoding="utf-8")
    texts = re.findall(r"<text\b[^>]*>(.*?)</text>", svg, flags=re.S)
    assert "Trial A 1948" in texts
    assert "BCG $5 vs_10" in texts  # literal, not mathtext
    assert "DejaVu Sans" in svg
    assert '<use xlink:href="#DejaVuSans' not in svg  # no glyph outlines


def test_two_saves_give_identical_bytes(bcg, tmp_path):
    for name in ("forest", "funnel_contour_trimfill", "prisma"):
        first = save_figure(_render(bcg, "bcg", name), tmp_path / "a" / name)
        second = save_figure(_render(bcg, "bcg", name), tmp_path / "b" / name)
        for p, q in zip(first, second, strict=True):
            assert p.read_bytes() == q.read_bytes(), p.name


def test_text_size_floor_is_shared_by_the_style():
    from alsmeta.plots.print_check import MIN_TEXT_PT
    from alsmeta.plots.style import FOOTNOTE_SIZE, MIN_TEXT_SIZE, RC_PARAMS

    assert FOOTNOTE_SIZE >= MIN_TEXT_SIZE == MIN_TEXT_PT
    with style_context():
        assert RC_PARAMS["svg.fonttype"] == "none"
