"""Risk-of-bias (RoB 2) figures in the style of robvis: traffic-light plot and summary bar plot.

Input is a tidy table with one row per trial and domain (columns ``trial``,
``domain``, ``judgement``; other names via arguments). Domains are the five
RoB 2 domains and ``overall`` (Sterne et al. 2019); judgements are ``low``,
``some_concerns`` and ``high``. Each judgement has a colour (Okabe-Ito green,
yellow, vermillion) *and* a symbol (+, -, x) in the traffic light and a hatch
in the bars, so the figures read in grey and for colour-blind readers
(McGuinness & Higgins 2021, robvis). The figures draw the judgements given;
they never make one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, cast

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.text import Annotation

from alsmeta.plots.forest_layout import wrap_text
from alsmeta.plots.frozen_layout import freeze_layout
from alsmeta.plots.style import INK, SMALL_SIZE, figure_and_axes, root_figure, style_context, two_subfigures
from alsmeta.validation import AlsmetaInputError

MM = 1.0 / 25.4
DOUBLE_COLUMN = 183.0 * MM
SINGLE_COLUMN = 89.0 * MM
LABEL_ROOM = 1.15
"""Widest trial label (inches) beside a single-column traffic light; longer names wrap at spaces."""
WIDE_LABEL_ROOM = 1.7
"""Widest trial label (inches) beside the traffic light of the double-column figure."""

DOMAINS: tuple[tuple[str, str, str], ...] = (
    ("randomisation_process", "D1", "Bias arising from the randomisation process"),
    ("deviations_from_intended_interventions", "D2", "Bias due to deviations from intended interventions"),
    ("missing_outcome_data", "D3", "Bias due to missing outcome data"),
    ("measurement_of_the_outcome", "D4", "Bias in measurement of the outcome"),
    ("selection_of_the_reported_result", "D5", "Bias in selection of the reported result"),
    ("overall", "Overall", "Overall risk of bias"),
)
"""RoB 2 domain keys, short column labels and full names (Sterne et al. 2019)."""

JUDGEMENTS: dict[str, dict[str, Any]] = {
    "low": {"label": "Low", "colour": "#009E73", "marker": "+", "hatch": ""},
    "some_concerns": {"label": "Some concerns", "colour": "#F0E442", "marker": "_", "hatch": "////"},
    "high": {"label": "High", "colour": "#D55E00", "marker": "x", "hatch": "xxxx"},
}
"""Colour (Okabe-Ito), symbol and hatch of each RoB 2 judgement."""

_DOMAIN_KEYS = tuple(d[0] for d in DOMAINS)


def _tidy(table: Any, trial: str, domain: str, judgement: str) -> pd.DataFrame:
    """Check the tidy table: the columns exist, values are known, one judgement per trial and domain."""
    if not isinstance(table, pd.DataFrame):
        raise AlsmetaInputError(f"table: expected a pandas DataFrame, got {type(table).__name__}")
    for arg, col in (("trial", trial), ("domain", domain), ("judgement", judgement)):
        if col not in table.columns:
            raise AlsmetaInputError(
                f"{arg}: column {col!r} is not in the table (columns: {', '.join(map(str, table.columns))})"
            )
    if len(table) == 0:
        raise AlsmetaInputError("table: no rows (no trial to show)")
    frame = table[[trial, domain, judgement]].astype(str)
    frame.columns = ["trial", "domain", "judgement"]
    for row in frame.itertuples():
        if row.domain not in _DOMAIN_KEYS:
            raise AlsmetaInputError(
                f"trial {row.trial!r}, column {domain!r}: {row.domain!r} is not one of {', '.join(_DOMAIN_KEYS)}"
            )
        if row.judgement not in JUDGEMENTS:
            raise AlsmetaInputError(
                f"trial {row.trial!r}, column {judgement!r}: {row.judgement!r} is not one of {', '.join(JUDGEMENTS)}"
            )
    dup = frame.duplicated(["trial", "domain"])
    if dup.any():
        first = frame[dup].iloc[0]
        raise AlsmetaInputError(f"trial {first.trial!r}, column {domain!r}: {first.domain!r} is judged twice")
    return frame


def _domains_present(frame: pd.DataFrame) -> list[tuple[str, str, str]]:
    present = set(frame["domain"])
    return [d for d in DOMAINS if d[0] in present]


def _judgement_handles(used: list[str]) -> tuple[list[Any], list[str]]:
    handles = []
    for key in used:
        style = JUDGEMENTS[key]
        circle = Line2D([], [], ls="none", marker="o", ms=9, mfc=style["colour"], mec=INK, mew=0.5)
        symbol = Line2D([], [], ls="none", marker=style["marker"], ms=5.5, mew=1.4, color=INK)
        handles.append((circle, symbol))
    return handles, [JUDGEMENTS[k]["label"] for k in used]


def _trial_labels(trials: list[str], room: float = LABEL_ROOM) -> list[str]:
    """Trial names wrapped at spaces to ``room`` inches (never shortened; a number stays with its unit, "6 mo")."""
    return ["\n".join(wrap_text(re.sub(r"(\d) (?=[A-Za-z])", "\\1\u00a0", str(t)), room, SMALL_SIZE)) for t in trials]


def _trial_row_height(frame: pd.DataFrame, room: float = LABEL_ROOM) -> float:
    """Height (inches) of one trial row: 0.3 in, or more when a wrapped name needs more lines."""
    lines = max(label.count("\n") + 1 for label in _trial_labels(list(dict.fromkeys(frame["trial"])), room))
    return max(0.3, lines * SMALL_SIZE * 1.25 / 72.0 + 0.06)


def _draw_traffic_light(ax: Axes, frame: pd.DataFrame, room: float = LABEL_ROOM) -> list[tuple[str, str, str]]:
    trials = list(dict.fromkeys(frame["trial"]))
    domains = _domains_present(frame)
    col = {d[0]: j for j, d in enumerate(domains)}
    row = {t: i for i, t in enumerate(trials)}
    for r in frame.itertuples():
        x, y = col[str(r.domain)], row[str(r.trial)]
        style = JUDGEMENTS[str(r.judgement)]
        ax.plot(
            [x],
            [y],
            ls="none",
            marker="o",
            ms=13,
            mfc=style["colour"],
            mec=INK,
            mew=0.6,
            zorder=2,
            gid=f"rob:cell:{r.trial}:{r.domain}:{r.judgement}",
        )
        ax.plot(
            [x],
            [y],
            ls="none",
            marker=style["marker"],
            ms=7,
            mew=1.6,
            color=INK,
            zorder=3,
            gid=f"rob:symbol:{r.trial}:{r.domain}:{r.judgement}",
        )
    if "overall" in col:  # set the overall column apart, as robvis does
        ax.axvline(col["overall"] - 0.5, color=INK, lw=0.6, zorder=1)
    ax.set_xlim(-0.6, len(domains) - 0.4)
    ax.set_ylim(len(trials) - 0.5, -0.5)
    ax.set_xticks(range(len(domains)), labels=[d[1] for d in domains], fontsize=SMALL_SIZE)
    ax.set_yticks(range(len(trials)), labels=_trial_labels(trials, room))
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xlabel("Risk-of-bias domain")
    ax.xaxis.set_label_position("top")
    return domains


def traffic_light_plot(
    table: pd.DataFrame,
    *,
    ax: Axes | None = None,
    trial: str = "trial",
    domain: str = "domain",
    judgement: str = "judgement",
    key: bool = True,
) -> Figure:
    """robvis-style traffic-light plot: trials (rows) by RoB 2 domain (columns).

    Parameters
    ----------
    table
        Tidy table, one row per trial and domain; trials appear in the order of
        their first row.
    ax
        Draw into this axes (default: a new figure 89 mm wide).
    trial, domain, judgement
        Column names.
    key
        Under the panel, list the domains' full names and the judgement legend.

    Returns
    -------
    matplotlib.figure.Figure
        Cells carry gids ``rob:cell:<trial>:<domain>:<judgement>`` (the
        coloured circle) and ``rob:symbol:...`` (the symbol on it).

    References
    ----------
    Sterne JAC, Savovic J, Page MJ, et al. (2019). RoB 2: a revised tool for
    assessing risk of bias in randomised trials. BMJ 366:l4898.
    McGuinness LA, Higgins JPT (2021). Risk-of-bias VISualization (robvis).
    Res Synth Methods 12:55-61.
    """
    frame = _tidy(table, trial, domain, judgement)
    n_trials = frame["trial"].nunique()
    used = [j for j in JUDGEMENTS if j in set(frame["judgement"])]
    key_area: SubFigure | None = None
    with style_context():
        if ax is None:
            panel_h = 0.75 + _trial_row_height(frame) * n_trials
            key_h = _KEY_HEIGHT if key else 0.0
            fig = Figure(figsize=(SINGLE_COLUMN, panel_h + key_h), layout="constrained")
            if key:
                top, key_area = two_subfigures(fig, [panel_h, key_h])
                ax = top.add_subplot()
            else:
                ax = fig.add_subplot()
        else:
            fig = root_figure(ax)
        domains = _draw_traffic_light(ax, frame)
        if key:
            if key_area is not None:
                _draw_key(key_area, domains, used, ncols=3)
            else:
                _draw_key(ax.figure, domains, used, ncols=3, anchor_ax=ax)
    return fig


_KEY_HEIGHT = 1.3  # inches: judgement legend (title + one row) and the five domain names


def _draw_key(
    container: Any, domains: list[tuple[str, str, str]], used: list[str], ncols: int, anchor_ax: Axes | None = None
) -> None:
    """Judgement legend (circle + symbol) and the domains' full names, at the top left of ``container``.

    ``container`` is a (sub)figure reserved for the key; with ``anchor_ax`` the
    key hangs below that axes instead (when drawing into a caller's axes).
    """
    handles, labels = _judgement_handles(used)
    where: dict[str, Any] = {
        "loc": "upper left",
        "bbox_to_anchor": (0.0, -0.02) if anchor_ax is not None else (0.01, 1.0),
    }
    target = anchor_ax if anchor_ax is not None else container
    legend = target.legend(
        handles,
        labels,
        handler_map={tuple: HandlerTuple(ndivide=1)},
        title="Judgement",
        ncols=ncols,
        fontsize=SMALL_SIZE,
        title_fontsize=SMALL_SIZE,
        alignment="left",
        borderaxespad=0.0,
        handletextpad=0.6,
        columnspacing=1.2,
        **where,
    )
    legend.set_gid("rob:legend")
    text = "\n".join(f"{d[1]}: {d[2]}" for d in domains if d[0] != "overall")
    ann = Annotation(
        text,
        (0.0, 0.0),
        xycoords=legend,
        xytext=(0, -4),
        textcoords="offset points",
        ha="left",
        va="top",
        fontsize=SMALL_SIZE - 0.5,
        color=INK,
        gid="rob:domain-key",
    )
    ann.set_in_layout(False)
    target.add_artist(ann)
    legend.set_in_layout(anchor_ax is None)


def _shares(frame: pd.DataFrame, weights: Mapping[str, float] | None) -> pd.DataFrame:
    """Share (percent) of trials, or of the weight, per domain and judgement."""
    if weights is None:
        w = pd.Series(1.0, index=frame.index)
    else:
        if not isinstance(weights, Mapping):
            raise AlsmetaInputError(f"weights: expected a mapping trial -> weight, got {type(weights).__name__}")
        values = []
        for t in frame["trial"]:
            if t not in weights:
                raise AlsmetaInputError(f"weights: trial {t!r} has no weight")
            v = weights[t]
            if isinstance(v, (bool, str)) or not np.isfinite(float(v)) or float(v) <= 0:
                raise AlsmetaInputError(f"weights: trial {t!r} has weight {v!r}; weights must be finite and > 0")
            values.append(float(v))
        w = pd.Series(values, index=frame.index)
    total = w.groupby(frame["domain"]).sum()
    share = w.groupby([frame["domain"], frame["judgement"]]).sum().unstack(fill_value=0.0)
    share = share.reindex(columns=list(JUDGEMENTS), fill_value=0.0)
    return 100.0 * share.div(total, axis=0)


def _draw_summary(ax: Axes, frame: pd.DataFrame, weights: Mapping[str, float] | None, weight_label: str) -> None:
    shares = _shares(frame, weights)
    domains = _domains_present(frame)
    for i, (key, _short, _name) in enumerate(domains):
        left = 0.0
        for judgement, style in JUDGEMENTS.items():
            width = float(cast("float", shares.loc[key, judgement]))
            ax.barh(
                i,
                width,
                left=left,
                height=0.62,
                color=style["colour"],
                edgecolor=INK,
                linewidth=0.5,
                hatch=style["hatch"],
                gid=f"rob:bar:{key}:{judgement}",
                label=style["label"] if i == 0 else None,
            )
            left += width
    ax.set_yticks(
        range(len(domains)), labels=[d[1] if d[0] == "overall" else f"{d[1]} {_short_name(d[2])}" for d in domains]
    )
    ax.set_ylim(len(domains) - 0.5, -0.5)
    ax.set_xlim(0, 100)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_xlabel(weight_label if weights is not None else "Share of trials (%)")
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)


def _short_name(full: str) -> str:
    return {
        "Bias arising from the randomisation process": "Randomisation",
        "Bias due to deviations from intended interventions": "Deviations",
        "Bias due to missing outcome data": "Missing data",
        "Bias in measurement of the outcome": "Measurement",
        "Bias in selection of the reported result": "Reported result",
    }.get(full, full)


def risk_of_bias_summary_plot(
    table: pd.DataFrame,
    *,
    weights: Mapping[str, float] | None = None,
    weight_label: str = "Share of participants (%)",
    ax: Axes | None = None,
    trial: str = "trial",
    domain: str = "domain",
    judgement: str = "judgement",
) -> Figure:
    """robvis-style summary: for each domain, the share of trials judged low / some concerns / high.

    Parameters
    ----------
    table
        Tidy table as for :func:`traffic_light_plot`.
    weights
        Optional weight per trial (e.g. participants or meta-analysis weight):
        the bars then show shares of the total weight, labelled ``weight_label``.
    ax
        Draw into this axes (default: a new figure 89 mm wide).

    Returns
    -------
    matplotlib.figure.Figure
        Bar segments carry gids ``rob:bar:<domain>:<judgement>`` (width =
        share in percent).
    """
    frame = _tidy(table, trial, domain, judgement)
    with style_context():
        fig, ax = figure_and_axes(ax, (SINGLE_COLUMN, 0.6 + 0.28 * len(_domains_present(frame)) + 0.5))
        _draw_summary(ax, frame, weights, weight_label)
        bars = ax.legend(
            loc="upper center",
            bbox_to_anchor=(0.5, -0.3),
            ncols=3,
            fontsize=SMALL_SIZE,
            handlelength=1.6,
            handleheight=1.2,
            columnspacing=1.0,
            borderaxespad=0.0,
        )
        bars.set_gid("rob:bar-legend")
    return fig


def risk_of_bias_figure(
    table: pd.DataFrame,
    *,
    weights: Mapping[str, float] | None = None,
    weight_label: str = "Share of participants (%)",
    trial: str = "trial",
    domain: str = "domain",
    judgement: str = "judgement",
    caption: str | None = None,
) -> Figure:
    """Traffic light (left) and summary bars (right) in one figure 183 mm wide.

    ``caption`` (e.g. "RoB 2 judgements are this project's own assessment")
    is printed under the panels.
    """
    frame = _tidy(table, trial, domain, judgement)
    n_trials = frame["trial"].nunique()
    used = [j for j in JUDGEMENTS if j in set(frame["judgement"])]
    panel_h = max(0.75 + _trial_row_height(frame, WIDE_LABEL_ROOM) * n_trials, 0.6 + 0.3 * len(_domains_present(frame)))
    key_h = _KEY_HEIGHT + (0.2 if caption else 0.0)
    with style_context():
        fig = Figure(figsize=(DOUBLE_COLUMN, panel_h + key_h), layout="constrained")
        top, bottom = two_subfigures(fig, [panel_h, key_h])
        left, right = top.subplots(1, 2, width_ratios=[1.3, 1.0])
        domains = _draw_traffic_light(left, frame, WIDE_LABEL_ROOM)
        _draw_summary(right, frame, weights, weight_label)
        right.set_title("Summary across trials", fontsize=SMALL_SIZE + 1, loc="left")
        key_left, key_right = two_subfigures(bottom, [1.3, 1.0], side_by_side=True)
        _draw_key(key_left, domains, used, ncols=3)
        bars = key_right.legend(
            *right.get_legend_handles_labels(),
            loc="upper left",
            bbox_to_anchor=(0.05, 1.0),
            ncols=1,
            fontsize=SMALL_SIZE,
            handlelength=2.4,
            handleheight=1.2,
            borderaxespad=0.0,
            title="Judgement (bars)",
            title_fontsize=SMALL_SIZE,
            alignment="left",
        )
        bars.set_gid("rob:bar-legend")
        if caption:
            bottom.text(
                0.01, 0.0, caption, ha="left", va="bottom", fontsize=SMALL_SIZE - 0.5, color=INK, gid="rob:caption"
            )
        freeze_layout(fig)
    return fig


__all__ = [
    "DOMAINS",
    "JUDGEMENTS",
    "risk_of_bias_figure",
    "risk_of_bias_summary_plot",
    "traffic_light_plot",
]
