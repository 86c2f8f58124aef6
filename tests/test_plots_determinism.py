"""Saved figures depend on the figure alone: not on the interpreter, the hash seed or earlier draws.

Constrained layout starts each solve from where the previous draw left the
axes, so a figure drawn once more before saving (a print check, a notebook,
another format first) used to come out a few hundredths of a point different,
with different SVG clip-path ids. save_figure now solves the layout once from
the figure as built (alsmeta.plots.frozen_layout).
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
from matplotlib.layout_engine import ConstrainedLayoutEngine

import alsmeta as am
from alsmeta.plots import funnel_plot, gosh_plot, influence_plot, save_figure
from alsmeta.plots.frozen_layout import freeze_layout
from alsmeta.plots.style import style_context

# a small figure with constrained layout (the case that drifted): drawn `draws` times at 72 dpi, then saved
_SCRIPT = textwrap.dedent(
    """
    import io, sys
    import alsmeta as am
    from alsmeta.plots import funnel_plot, save_figure
    from alsmeta.plots.style import style_context

    out, draws = sys.argv[1], int(sys.argv[2])
    fit = am.pool([0.1, 0.4, -0.2, 0.3, 0.05], [0.04, 0.05, 0.02, 0.08, 0.03])
    fig = funnel_plot(fit)
    with style_context():
        for _ in range(draws):
            fig.savefig(io.BytesIO(), format="png", dpi=72)
    save_figure(fig, out, formats=("png", "svg"))
    """
)


def _digests(stem: Path) -> dict[str, str]:
    return {suffix: hashlib.sha256(stem.with_suffix(suffix).read_bytes()).hexdigest() for suffix in (".png", ".svg")}


def _save_in_fresh_interpreter(stem: Path, draws: int, hash_seed: str) -> dict[str, str]:
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED=hash_seed)
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(stem), str(draws)], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return _digests(stem)


def test_two_fresh_interpreters_write_the_same_bytes_whatever_was_drawn_before(tmp_path):
    plain = _save_in_fresh_interpreter(tmp_path / "plain", draws=0, hash_seed="0")
    redrawn = _save_in_fresh_interpreter(tmp_path / "redrawn", draws=2, hash_seed="4242")
    assert plain == redrawn


def _svg_after_draws(make, draws: int, dpi: float, tmp_path: Path) -> bytes:
    fig = make()
    with style_context():
        for _ in range(draws):
            fig.savefig(io.BytesIO(), format="png", dpi=dpi)
    (svg,) = save_figure(fig, tmp_path / f"fig-{draws}-{dpi}", formats=("svg",))
    return svg.read_bytes()


def test_earlier_draws_at_any_dpi_do_not_change_the_saved_svg(tmp_path, bcg):
    yi, vi = bcg
    fit = am.pool(yi, vi, method="REML")
    makers = {
        "funnel": lambda: funnel_plot(fit),
        "influence (2 x 4 panels)": lambda: influence_plot(am.influence(fit), fit),
        # 8191 subsets: hexagonal bins with a colour bar
        "gosh": lambda: gosh_plot(am.gosh(fit), fit),
    }
    for name, make in makers.items():
        fresh = _svg_after_draws(make, 0, 72, tmp_path)
        for draws, dpi in ((1, 300), (3, 72)):
            assert _svg_after_draws(make, draws, dpi, tmp_path) == fresh, f"{name}: {draws} draws at {dpi} dpi"


def test_save_figure_restores_the_layout_engine_and_keeps_axes_in_the_layout(tmp_path):
    fig = funnel_plot(am.pool([0.1, 0.4, -0.2], [0.04, 0.05, 0.02]))
    save_figure(fig, tmp_path / "funnel", formats=("svg",))
    assert isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine)
    assert all(ax.get_in_layout() for ax in fig.get_axes())


def test_freeze_layout_rounds_positions_and_switches_the_engine_off():
    fig = funnel_plot(am.pool([0.1, 0.4, -0.2], [0.04, 0.05, 0.02]))
    freeze_layout(fig, decimals=6)
    assert not isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine)
    for ax in fig.get_axes():
        bounds = np.array(ax.get_position(original=True).bounds)
        np.testing.assert_array_equal(bounds, np.round(bounds, 6))
