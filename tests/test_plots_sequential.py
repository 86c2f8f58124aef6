"""Trial sequential analysis figure, checked through its artists."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import alsmeta as am
from alsmeta import AlsmetaInputError
from alsmeta.planning.sequential import trial_sequential_analysis
from alsmeta.plots.artists import find, texts
from alsmeta.plots.sequential import DOUBLE_COLUMN, SINGLE_COLUMN, trial_sequential_plot

YI = np.array([3.38, 0.36, 2.1, -0.5])
VI = np.array([1.104**2, 1.2**2, 0.9**2, 1.5**2])
LABELS = ["Oh 2018", "Cudkowicz 2022", "Demo 2019", "Demo 2025"]


def _result(delta=2.0, n=(56, 189, 40, 115)):
    fit = am.pool(YI, VI, method="DL", test="z", labels=LABELS)
    return trial_sequential_analysis(fit, list(n), [2018, 2022, 2019, 2025], delta=delta, sd=6.0)


def _line(fig, gid):
    (line,) = find(fig, gid)
    return np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)


def test_z_curve_is_the_result_from_the_origin():
    res = _result()
    fig = trial_sequential_plot(res)
    x, y = _line(fig, "tsa:z")
    np.testing.assert_allclose(x, np.concatenate(([0], res.cumulative_participants)))
    np.testing.assert_allclose(y, np.concatenate(([0], res.z)))


def test_boundaries_are_drawn_at_the_looks_and_mirrored():
    res = _result()
    fig = trial_sequential_plot(res)
    ux, uy = _line(fig, "tsa:boundary-look:upper")
    lx, ly = _line(fig, "tsa:boundary-look:lower")
    np.testing.assert_allclose(ux, res.boundaries.fraction * res.ris)
    np.testing.assert_allclose(uy, res.boundaries.z)
    np.testing.assert_allclose(ly, -uy)
    np.testing.assert_allclose(lx, ux)
    assert ux[-1] == pytest.approx(res.ris)


def test_boundary_path_is_the_results_path_through_every_look():
    res = _result()
    fig = trial_sequential_plot(res)
    px, pz = _line(fig, "tsa:boundary:upper")
    np.testing.assert_allclose(px, res.path_fraction * res.ris)
    finite = np.isfinite(res.path_z)
    np.testing.assert_allclose(pz[finite], res.path_z[finite])
    assert np.isnan(pz[~finite]).all()  # no alpha left to spend: nothing is drawn, no made-up value
    for x, z in zip(res.boundaries.fraction * res.ris, res.boundaries.z, strict=True):
        assert pz[np.argmin(np.abs(px - x))] == pytest.approx(z)
    np.testing.assert_allclose(_line(fig, "tsa:boundary:lower")[1], -pz)


def test_conventional_lines_and_ris_marker():
    res = _result()
    fig = trial_sequential_plot(res)
    z = stats.norm.isf(0.025)
    assert _line(fig, "tsa:conventional:upper")[1][0] == pytest.approx(z)
    assert _line(fig, "tsa:conventional:lower")[1][0] == pytest.approx(-z)
    assert _line(fig, "tsa:ris")[0][0] == pytest.approx(res.ris)
    assert texts(fig, "tsa:ris-label") == [f"RIS = {res.ris:,.0f}"]
    assert f"RIS = {res.ris:,.0f} participants" in texts(fig, "tsa:assumptions")[0]
    assert "D\u00b2 = " in texts(fig, "tsa:assumptions")[0]


def test_every_study_is_named_at_its_cumulative_participants():
    res = _result()
    fig = trial_sequential_plot(res)
    for label in res.labels:
        assert texts(fig, f"tsa:label:{label}") == [label]
    assert list(res.labels) == ["Oh 2018", "Demo 2019", "Cudkowicz 2022", "Demo 2025"]


def test_boundary_extends_flat_to_looks_beyond_the_ris():
    res = _result(delta=4.0)  # small RIS: the last looks lie beyond it
    assert res.cumulative_participants[-1] > res.ris
    fig = trial_sequential_plot(res)
    ux, uy = _line(fig, "tsa:boundary:upper")
    assert ux[-1] == pytest.approx(res.cumulative_participants[-1])
    assert ux[-2] == pytest.approx(res.ris)
    assert uy[-1] == pytest.approx(uy[-2]) == pytest.approx(res.boundary[-1])


def test_series_differ_by_line_style_or_marker_not_only_colour():
    fig = trial_sequential_plot(_result())
    styles = set()
    for gid in ("tsa:z", "tsa:boundary:upper", "tsa:conventional:upper", "tsa:ris"):
        (line,) = find(fig, gid)
        styles.add((str(line.get_linestyle()), str(line.get_marker())))
    assert len(styles) == 4


@pytest.mark.parametrize("width, inches", [("double", DOUBLE_COLUMN), ("single", SINGLE_COLUMN)])
def test_print_width_and_text_size(width, inches):
    fig = trial_sequential_plot(_result(), width=width)
    assert fig.get_figwidth() == pytest.approx(inches)
    sizes = [
        t.get_fontsize()
        for t in fig.findobj(lambda a: hasattr(a, "get_fontsize") and hasattr(a, "get_text"))
        if t.get_text()
    ]
    assert min(sizes) >= 7.0


def test_bad_input():
    with pytest.raises(AlsmetaInputError, match="result"):
        trial_sequential_plot(am.pool(YI, VI))
    with pytest.raises(AlsmetaInputError, match="width"):
        trial_sequential_plot(_result(), width="wide")


def test_title_and_notes_are_printed_under_their_gids_and_notes_must_be_strings():
    fig = trial_sequential_plot(_result(), title="One look: not yet firm", notes=["Not entered: Trial X (no SE)."])
    assert texts(fig, "tsa:title") == ["One look: not yet firm"]
    (note,) = texts(fig, "tsa:assumptions")
    assert note.startswith("RIS = ") and note.endswith("Not entered: Trial X (no SE).")
    plain = trial_sequential_plot(_result())
    assert not texts(plain, "tsa:title") and "Not entered" not in texts(plain, "tsa:assumptions")[0]
    with pytest.raises(AlsmetaInputError, match="notes"):
        trial_sequential_plot(_result(), notes="a bare string")
