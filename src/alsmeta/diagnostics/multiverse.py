r"""Multiverse analyses: specification curves fitted in one batch.

A *specification* is one complete set of analysis choices - which study
values enter (each study *slot* names one effect, or none), the tau^2
estimator, the confidence-interval method, frequentist or Bayesian - and a
*specification curve* (Simonsohn, Simmons & Nelson 2020, Nat Hum Behav
4:1208-1214; Steegen et al. 2016, Perspect Psychol Sci 11:702-712) shows the
pooled estimate and interval of every specification, sorted, with the choices
marked below. The share of specifications in which a claim holds says how
much the claim depends on choices the analyst could defensibly have made
otherwise.

Specifications are a tidy :class:`pandas.DataFrame`, one row per
specification and one column per choice (:func:`expand_grid` builds the full
factorial). :func:`fit_specifications` turns the slot columns into ``(B, k)``
arrays and fits every frequentist row with :func:`alsmeta.pool_many`, one
batched call per (estimator, test) pair; Bayesian rows (``method="bayes"``)
are fitted with :func:`alsmeta.bayes_meta`, once per distinct data set and
prior.

>>> import alsmeta.diagnostics.multiverse as mv
>>> effects = {"a": (0.4, 0.2), "b": (0.9, 0.3), "b_alt": (0.3, 0.3)}   # key: (yi, se)
>>> specs = mv.expand_grid(study_a=["a"], study_b=["b", "b_alt", None], method=["DL", "REML"], test=["z", "knha"])
>>> res = mv.fit_specifications(specs, effects, slots=["study_a", "study_b"])
>>> res.share("positive")          # share of choice combinations whose interval excludes 0 upwards
0.6666666666666666
>>> res.share("positive", distinct=True)   # the same over distinct analyses (duplicated fits counted once)
0.6

Many combinations of choices give the same fit (one study: every estimator
agrees; tau^2 = 0: DL, REML, PM... agree), so every share and count is
available both over *choice combinations* and over *distinct analyses*
(:func:`distinct_analyses`, :meth:`MultiverseResult.distinct`); a headline
share should use distinct analyses and give the number of combinations
beside it.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from alsmeta.campaign import campaign_options
from alsmeta.engine.batch import pool_many
from alsmeta.engine.estimators import METHODS
from alsmeta.models.bayes import bayes_meta
from alsmeta.results import ResultMixin
from alsmeta.validation import AlsmetaInputError, AlsmetaWarning, finite_number, probability_level

BAYES = "bayes"
"""Value of the method column that selects the Bayesian model (:func:`alsmeta.bayes_meta`)."""
TESTS = ("z", "t", "knha", "adhoc")
DIRECTIONS = ("positive", "negative")
RESULT_COLUMNS = ("k", "estimate", "se", "ci_low", "ci_high", "pvalue", "tau2", "i2", "converged", "prob_positive")
"""Columns :func:`fit_specifications` adds to the specifications (``prob_positive``: Bayesian rows only)."""

FloatArray = npt.NDArray[np.float64]
EffectTable = Mapping[Hashable, tuple[float, float]] | pd.DataFrame


@dataclass(frozen=True)
class MultiverseResult(ResultMixin):
    """Every specification (choice combination) with its pooled result.

    Counts and shares are available over choice combinations and over
    distinct analyses (:meth:`distinct`, ``share(..., distinct=True)``,
    :meth:`count`).

    Attributes
    ----------
    specifications : pandas.DataFrame
        One row per specification: the choice columns as given, then
        :data:`RESULT_COLUMNS` (``k`` studies used; ``estimate``, ``se``,
        ``ci_low``, ``ci_high`` - for Bayesian rows the posterior mean, SD
        and equal-tailed credible interval of mu; ``pvalue`` NaN for them;
        ``prob_positive`` = P(mu > 0 | data), NaN for frequentist rows;
        ``tau2`` for them is the squared posterior median of tau, ``i2`` NaN).
    choices : tuple of str
        Names of the choice columns (every input column).
    slots : tuple of str
        The choice columns that name study effects.
    level : float
        Confidence / credible level of the intervals.
    """

    specifications: pd.DataFrame
    choices: tuple[str, ...]
    slots: tuple[str, ...]
    level: float

    def __len__(self) -> int:
        return len(self.specifications)

    def to_frame(self) -> pd.DataFrame:
        """The specification table (a copy of :attr:`specifications`)."""
        return self.specifications.copy()

    def summary(self, digits: int = 4) -> str:
        """Text block: how many specifications and distinct analyses, and how many hold in each direction."""
        n = len(self)
        est = self.specifications["estimate"].to_numpy(dtype=float) if n else np.zeros(0)
        finite = est[np.isfinite(est)]
        lines = [
            f"Multiverse: {n} specifications, {self.count() if n else 0} distinct analyses "
            f"({len(self.choices)} choices; {100 * self.level:g}% intervals)",
        ]
        if finite.size:
            lines.append(
                f"Estimates from {finite.min():.{digits}f} to {finite.max():.{digits}f} "
                f"(median {np.median(finite):.{digits}f})"
            )
            pos, neg = int(self.holds("positive").sum()), int(self.holds("negative").sum())
            lines.append(f"Interval above 0: {pos} specifications; below 0: {neg}")
        return "\n".join(lines)

    @property
    def distinct_columns(self) -> tuple[str, ...]:
        """The result columns that identify a distinct analysis: :data:`DISTINCT_COLUMNS` plus ``prob_positive``.

        ``prob_positive`` is NaN for every frequentist row and a posterior
        probability for every Bayesian row, so a Bayesian analysis is never
        merged with a frequentist one, and Bayesian analyses with different
        priors are distinct whenever their posteriors differ.
        """
        return (*DISTINCT_COLUMNS, "prob_positive")

    def holds(self, direction: str = "positive", threshold: float = 0.0) -> pd.Series:
        """Whether each specification's interval excludes ``threshold`` in ``direction``.

        ``"positive"``: ``ci_low > threshold``; ``"negative"``: ``ci_high < threshold``.
        Specifications without a result (k = 0) do not hold.
        """
        return _holds(self.specifications, direction, threshold)

    def uses(self, slot: str) -> pd.Series:
        """Whether each specification includes the study of ``slot`` (its slot names an effect)."""
        if slot not in self.slots:
            raise AlsmetaInputError(f"slot: {slot!r} is not a study slot; slots are {', '.join(self.slots)}")
        return self.specifications[slot].map(lambda v: not _empty_slot(v)).astype(bool).rename(slot)

    def distinct(self, rows: pd.Series | npt.ArrayLike | None = None) -> pd.DataFrame:
        """The distinct analyses: choice combinations that give the same fitted result collapsed into one row.

        Parameters
        ----------
        rows : boolean mask over :attr:`specifications`, optional
            Collapse only these choice combinations (e.g. those without one
            study); default all.

        Returns
        -------
        pandas.DataFrame
            :func:`distinct_analyses` of the (selected) specifications keyed
            by :attr:`distinct_columns`: one row per distinct analysis with
            the first combination's choices, ``n_combinations`` and
            ``combinations`` (labels of :attr:`specifications` rows).
        """
        return distinct_analyses(self._select(rows), columns=self.distinct_columns)

    def count(self, rows: pd.Series | npt.ArrayLike | None = None, distinct: bool = True) -> int:
        """How many distinct analyses (``distinct=True``) or choice combinations the (selected) specifications hold."""
        mask = self._mask(rows)
        return int(np.unique(self.analysis_ids[mask]).size) if distinct else int(mask.sum())

    @cached_property
    def analysis_ids(self) -> npt.NDArray[np.int64]:
        """For each specification, the number of its distinct analysis (0, 1, ... in order of first appearance).

        Two specifications share a number exactly when :meth:`distinct` merges
        them; restricting to a subset of specifications keeps the grouping.
        """
        return _analysis_ids(self.specifications, self.distinct_columns, DISTINCT_DIGITS)

    def share(
        self,
        direction: str = "positive",
        threshold: float = 0.0,
        by: str | None = None,
        *,
        distinct: bool = False,
        rows: pd.Series | npt.ArrayLike | None = None,
    ) -> float | pd.Series:
        """Share of specifications in which the claim holds (overall, or per level of choice ``by``).

        Parameters
        ----------
        direction, threshold
            As in :meth:`holds`.
        by : str, optional
            A choice column: one share per level.
        distinct : bool
            ``False`` (default): the share of *choice combinations*.
            ``True``: the share of *distinct analyses* (:meth:`distinct`), so
            a result that many non-operative choices reproduce counts once.
            With ``by``, the distinct analyses are counted among the
            combinations with each level (a result reachable with several
            levels counts once for each of them).
        rows : boolean mask over :attr:`specifications`, optional
            Restrict to these combinations first (e.g. "without Kim 2009").

        Returns
        -------
        float or pandas.Series
            NaN when no specification is selected.
        """
        hit = self.holds(direction, threshold).to_numpy()
        mask = self._mask(rows)
        if by is None:
            return self._share_of(hit, mask, distinct)
        if by not in self.specifications.columns:
            raise AlsmetaInputError(f"by: no column {by!r}; choices are {', '.join(self.choices)}")
        key = self.specifications[by].map(choice_text).to_numpy()
        out = {lev: self._share_of(hit, mask & (key == lev), distinct) for lev in dict.fromkeys(key[mask])}
        return pd.Series(out, name="share", dtype=float)

    def curve(self, distinct: bool = False) -> pd.DataFrame:
        """The specifications (or, with ``distinct=True``, the distinct analyses) sorted for a specification curve.

        The order is fully determined and insensitive to last-bit floating
        noise: by ``estimate``, ``ci_low``, ``ci_high`` (each rounded to
        :data:`DISTINCT_DIGITS` significant digits, NaN last), then by the
        choice columns as text, then by position. A ``rank`` column from 0 is
        inserted first and ``spec`` holds the row label in
        :attr:`specifications` (for distinct analyses: of the first
        combination that gives it).
        """
        frame = self.distinct() if distinct else self.specifications
        return _sorted_curve(frame, self.choices)

    def _mask(self, rows: pd.Series | npt.ArrayLike | None) -> npt.NDArray[np.bool_]:
        n = len(self.specifications)
        if rows is None:
            return np.ones(n, bool)
        mask = np.asarray(rows)
        if mask.dtype != bool or mask.shape != (n,):
            raise AlsmetaInputError(f"rows: expected a boolean mask of length {n} (one per specification)")
        return mask

    def _select(self, rows: pd.Series | npt.ArrayLike | None) -> pd.DataFrame:
        return self.specifications.loc[self._mask(rows)]

    def _share_of(self, hit: npt.NDArray[np.bool_], mask: npt.NDArray[np.bool_], distinct: bool) -> float:
        if not mask.any():
            return math.nan
        if not distinct:
            return float(hit[mask].mean())
        first = np.unique(self.analysis_ids[mask], return_index=True)[1]  # merged rows share the verdict
        return float(hit[mask][first].mean())


def _holds(frame: pd.DataFrame, direction: str, threshold: float) -> pd.Series:
    direction = _direction(direction)
    t = finite_number(threshold, "threshold")
    hit = frame["ci_low"] > t if direction == "positive" else frame["ci_high"] < t
    return hit.fillna(False).astype(bool).rename("holds")


def choice_text(value: Any) -> str:
    """A choice level as text: ``""`` for an empty slot (None, NaN, ""), else ``str(value)``."""
    return "" if _empty_slot(value) else str(value)


def _sorted_curve(frame: pd.DataFrame, choices: Sequence[str]) -> pd.DataFrame:
    """``frame`` sorted by rounded estimate and interval, then choices as text, then position;
    ``rank`` and ``spec`` added."""
    keys = pd.DataFrame(index=frame.index)
    for c in ("estimate", "ci_low", "ci_high"):
        values = frame[c].to_numpy(dtype=float)
        keys[f"_nan_{c}"] = np.isnan(values)
        keys[f"_key_{c}"] = [0.0 if math.isnan(v) else _round_key(v, DISTINCT_DIGITS) for v in values]
    for j, c in enumerate(choices):
        keys[f"_choice_{j}"] = frame[c].map(choice_text).to_numpy()
    keys["_position"] = np.arange(len(frame))
    order = keys.sort_values(list(keys.columns), kind="mergesort").index
    out = frame.loc[order].reset_index(drop=False).rename(columns={"index": "spec"})
    out.insert(0, "rank", np.arange(len(out)))
    return out


DISTINCT_COLUMNS = ("k", "estimate", "ci_low", "ci_high")
"""Result columns that identify an analysis in :func:`distinct_analyses` by default."""
DISTINCT_DIGITS = 10
"""Significant digits to which results must agree to be one analysis (and to which the curve sorts)."""


def distinct_analyses(
    table: pd.DataFrame,
    columns: Sequence[str] = DISTINCT_COLUMNS,
    significant: int = DISTINCT_DIGITS,
) -> pd.DataFrame:
    """Collapse choice combinations that produce the same fitted result.

    Different analysis choices are often not operative on a given data set:
    with one study, or when every estimator puts tau^2 at 0, the estimators
    all give the same fit; a t-based interval with one study falls back to
    z. Counting each combination as its own analysis then multiplies those
    analyses, so shares of "specifications in which a claim holds" must be
    computed over *distinct analyses* (Simonsohn, Simmons & Nelson 2020,
    Nat Hum Behav 4:1208-1214, count specifications, not duplicated paths to
    the same one). Two rows are the same analysis when every column in
    ``columns`` agrees to ``significant`` significant digits (NaN equals
    NaN).

    What counts as distinct (decisions, by design):

    * **The result, not the path.** Two combinations are one analysis when
      they fit the same numbers, whatever the choices are called: the same
      study values reached through different data choices (say "6 months"
      and "longest follow-up" when both select the same values) are one data
      set. ``k`` is part of the default key, so a fit of one study is never
      merged with a fit of several; two *different* data sets agreeing in
      ``k``, estimate and both interval bounds to 10 digits would be merged,
      which in practice happens only when they hold the same values.
    * **Frequentist and Bayesian fits** are merged only if a column of the
      key tells them apart; :meth:`MultiverseResult.distinct` adds
      ``prob_positive`` (NaN for frequentist rows), so the two frameworks
      are never merged, and Bayesian fits with different priors are
      distinct analyses whenever their posteriors differ (they coincide only
      if the prior is not operative, and then they are one analysis).
    * **Merged rows share every verdict** that depends only on the key
      columns (an interval excluding 0 rounds identically), so a share over
      distinct analyses is well defined.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per choice combination, with the result columns.
    columns : sequence of str
        Result columns that identify an analysis (default ``k``, ``estimate``,
        ``ci_low``, ``ci_high``: the same data, estimate and interval).
    significant : int
        Significant digits compared (default 10, far above the printed
        precision and far below the solvers' agreement of about 1e-12).

    Returns
    -------
    pandas.DataFrame
        One row per distinct analysis in order of first appearance: the first
        combination's values, plus ``n_combinations`` (how many choice
        combinations give this analysis) and ``combinations`` (their row
        labels in ``table``).

    Raises
    ------
    AlsmetaInputError
        If ``table`` is not a DataFrame, a key column is missing, or
        ``significant`` is not a whole number from 1 to 17.
    """
    if not isinstance(table, pd.DataFrame):
        raise AlsmetaInputError(f"table: expected a pandas DataFrame, got {type(table).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise AlsmetaInputError(f"columns: {', '.join(map(repr, missing))} not in the table")
    if isinstance(significant, bool) or not isinstance(significant, int) or not 1 <= significant <= 17:
        raise AlsmetaInputError(f"significant: expected a whole number from 1 to 17, got {significant!r}")
    group = _analysis_ids(table, columns, significant)
    first = np.unique(group, return_index=True)[1]
    out = table.iloc[first].copy()
    out["n_combinations"] = np.bincount(group, minlength=len(first))
    out["combinations"] = [tuple(table.index[group == g]) for g in range(len(first))]
    return out


def _analysis_ids(table: pd.DataFrame, columns: Sequence[str], significant: int) -> npt.NDArray[np.int64]:
    """Group number of each row: equal keys (``columns`` rounded to ``significant`` digits) share it,
    in order of first appearance."""
    if len(table) == 0:
        return np.zeros(0, np.int64)
    keys = pd.DataFrame(
        {c: [_round_key(v, significant) for v in table[c].to_numpy()] for c in columns}, index=table.index
    )
    # ngroup(sort=False) numbers the groups in order of first appearance
    return keys.groupby(list(columns), sort=False, dropna=False).ngroup().to_numpy().astype(np.int64)


def _round_key(value: Any, significant: int) -> Any:
    """A hashable key equal for values that agree to ``significant`` digits."""
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return "nan"
        return float(f"{float(value):.{significant - 1}e}")
    return value


def expand_grid(**choices: Sequence[Any]) -> pd.DataFrame:
    """Full factorial of the choices: one row per combination, one column per choice.

    >>> expand_grid(method=["DL", "REML"], test=["z", "knha"]).shape
    (4, 2)
    """
    if not choices:
        raise AlsmetaInputError("choices: at least one choice is needed")
    levels = {}
    for name, values in choices.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            raise AlsmetaInputError(
                f"{name}: the levels of a choice must be a list or tuple, got {type(values).__name__}"
            )
        if len(values) == 0:
            raise AlsmetaInputError(f"{name}: a choice needs at least one level")
        levels[name] = list(values)
    rows = list(itertools.product(*levels.values()))
    columns = {}
    for j, name in enumerate(levels):
        col = np.empty(len(rows), dtype=object)
        col[:] = [r[j] for r in rows]
        columns[name] = pd.Series(col, dtype=object)
    return pd.DataFrame(columns)  # object columns keep None as None (no silent NaN)


def _direction(direction: str) -> str:
    if direction not in DIRECTIONS:
        raise AlsmetaInputError(f"direction: must be one of {DIRECTIONS}, got {direction!r}")
    return direction


def _empty_slot(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v == ""


def _effect_table(effects: EffectTable) -> dict[Hashable, tuple[float, float]]:
    if isinstance(effects, pd.DataFrame):
        missing = [c for c in ("yi", "se") if c not in effects.columns]
        if missing:
            raise AlsmetaInputError(
                f"effects: the table needs columns 'yi' and 'se' (missing {missing}), indexed by effect key"
            )
        if effects.index.has_duplicates:
            dup = effects.index[effects.index.duplicated()][0]
            raise AlsmetaInputError(f"effects: duplicate effect key {dup!r}")
        pairs = {k: (r.yi, r.se) for k, r in zip(effects.index, effects.itertuples(index=False), strict=True)}
    elif isinstance(effects, Mapping):
        pairs = dict(effects)
    else:
        raise AlsmetaInputError(
            f"effects: expected a mapping key -> (yi, se) or a DataFrame, got {type(effects).__name__}"
        )
    if not pairs:
        raise AlsmetaInputError("effects: no effects given")
    out = {}
    for key, pair in pairs.items():
        try:
            yi, se = pair
        except (TypeError, ValueError):
            raise AlsmetaInputError(f"effects: {key!r} must be a (yi, se) pair, got {pair!r}") from None
        yi, se = finite_number(yi, f"effects[{key!r}] yi"), finite_number(se, f"effects[{key!r}] se")
        if se <= 0:
            raise AlsmetaInputError(f"effects: {key!r} has se = {se!r}; standard errors must be > 0")
        out[key] = (yi, se)
    return out


def specification_data(
    specs: pd.DataFrame,
    effects: EffectTable,
    slots: Sequence[str],
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """The ``(B, k)`` effects, variances and mask of the specifications (``k = len(slots)``).

    Each slot column holds an effect key of ``effects`` or ``None`` (also
    NaN or ``""``) for "this study is not included".
    """
    table = _effect_table(effects)
    slots = _slots(specs, slots)
    b, k = len(specs), len(slots)
    y, v, m = np.zeros((b, k)), np.ones((b, k)), np.zeros((b, k), bool)
    for j, col in enumerate(slots):
        for i, key in enumerate(specs[col].tolist()):
            if _empty_slot(key):
                continue
            if key not in table:
                raise AlsmetaInputError(f"{col}: specification row {i} names effect {key!r}, which is not in effects")
            yi, se = table[key]
            y[i, j], v[i, j], m[i, j] = yi, se * se, True
    return y, v, m


def _slots(specs: pd.DataFrame, slots: Sequence[str]) -> tuple[str, ...]:
    if isinstance(slots, str):
        slots = [slots]
    slots = tuple(slots)
    if not slots:
        raise AlsmetaInputError("slots: at least one study slot column is needed")
    if len(set(slots)) != len(slots):
        raise AlsmetaInputError(f"slots: duplicate slot columns in {list(slots)}")
    missing = [s for s in slots if s not in specs.columns]
    if missing:
        raise AlsmetaInputError(f"slots: columns {missing} are not in the specifications")
    return slots


def _check_specs(specs: Any) -> pd.DataFrame:
    if not isinstance(specs, pd.DataFrame):
        raise AlsmetaInputError(f"specs: expected a pandas DataFrame, got {type(specs).__name__}")
    if len(specs) == 0:
        raise AlsmetaInputError("specs: no specifications (0 rows)")
    clash = [c for c in RESULT_COLUMNS if c in specs.columns]
    if clash:
        raise AlsmetaInputError(f"specs: columns {clash} are reserved for results; rename them")
    return specs.reset_index(drop=True)


def _check_models(specs: pd.DataFrame, method_col: str, test_col: str, tau_scale_col: str) -> npt.NDArray[np.bool_]:
    """Validate the model columns of ``specs``; True where a row is Bayesian."""
    if method_col not in specs.columns:
        raise AlsmetaInputError(f"{method_col}: the specifications need a method column")
    methods = specs[method_col].astype(str)
    known = {m.upper() for m in METHODS} | {"EE", "FE", BAYES.upper()}
    bad = sorted({m for m in methods if m.upper() not in known})
    if bad:
        raise AlsmetaInputError(f"{method_col}: unknown method(s) {bad}; use one of {sorted(METHODS)} or {BAYES!r}")
    is_bayes = (methods.str.lower() == BAYES).to_numpy()
    if (~is_bayes).any():
        if test_col not in specs.columns:
            raise AlsmetaInputError(f"{test_col}: frequentist specifications need a test column")
        tests = specs.loc[~is_bayes, test_col].astype(str)
        bad = sorted(set(tests) - set(TESTS))
        if bad:
            raise AlsmetaInputError(f"{test_col}: unknown test(s) {bad}; use one of {TESTS}")
    if is_bayes.any():
        if tau_scale_col not in specs.columns:
            raise AlsmetaInputError(f"{tau_scale_col}: Bayesian specifications need a tau-scale column")
        for i in np.flatnonzero(is_bayes):
            s = finite_number(specs.at[i, tau_scale_col], f"{tau_scale_col} (row {i})")
            if s <= 0:
                raise AlsmetaInputError(f"{tau_scale_col}: row {i} has scale {s!r}; it must be > 0")
    return is_bayes


def _fit_frequentist_rows(
    out: dict[str, np.ndarray],
    y: FloatArray,
    v: FloatArray,
    m: npt.NDArray[np.bool_],
    rows: npt.NDArray[np.intp],
    methods: npt.NDArray[Any],
    tests: npt.NDArray[Any],
    level: float,
    campaign: Mapping[str, Any],
    folder: str | Path | None,
) -> None:
    """Fill ``out`` at ``rows`` with one :func:`alsmeta.pool_many` batch per (method, test) pair.

    ``campaign`` holds pool_many's chunk_size, executor, workers and scheduler; with ``folder``
    each pair's chunks are written to (and resumed from) ``folder/<method>-<test>``.
    """
    pairs = pd.DataFrame({"m": methods, "t": tests, "row": rows})
    for (method, test), grp in pairs.groupby(["m", "t"], sort=True):
        group_rows = grp["row"].to_numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AlsmetaWarning)  # k = 1 with t-based tests falls back to z (as metafor)
            fit = pool_many(
                y[group_rows],
                v[group_rows],
                m[group_rows],
                method=str(method),
                test=str(test),
                level=level,
                confint=False,
                on_interrupt="raise",
                out=None if folder is None else Path(folder) / f"{method}-{test}",
                **campaign,
            )  # shares over a partial set of specifications would mislead
        for c in ("estimate", "se", "ci_low", "ci_high", "pvalue", "tau2", "i2"):
            out[c][group_rows] = getattr(fit, c)
        out["converged"][group_rows] = fit.converged


def _fit_bayesian_rows(
    out: dict[str, np.ndarray],
    y: FloatArray,
    v: FloatArray,
    m: npt.NDArray[np.bool_],
    rows: npt.NDArray[np.intp],
    tau_scales: FloatArray,
    level: float,
) -> None:
    """Fill ``out`` at ``rows`` with :func:`alsmeta.bayes_meta`, fitting each distinct (studies, prior) once."""
    cache: dict[tuple[Any, ...], tuple[float, ...]] = {}
    for i, scale in zip(rows, tau_scales, strict=True):
        use = m[i]
        if not use.any():
            continue
        key = (tuple(y[i, use]), tuple(v[i, use]), float(scale))
        if key not in cache:
            r = bayes_meta(y[i, use], v[i, use], tau_scale=float(scale), level=level)
            cache[key] = (r.mu_mean, r.mu_sd, r.mu_ci_low, r.mu_ci_high, r.tau_median**2, r.prob_above(0.0))
        est, sd, lo, hi, tau2, p_pos = cache[key]
        out["estimate"][i], out["se"][i], out["ci_low"][i], out["ci_high"][i] = est, sd, lo, hi
        out["tau2"][i], out["prob_positive"][i], out["converged"][i] = tau2, p_pos, True


def fit_specifications(
    specs: pd.DataFrame,
    effects: EffectTable,
    slots: Sequence[str],
    *,
    method_col: str = "method",
    test_col: str = "test",
    tau_scale_col: str = "tau_scale",
    level: float = 0.95,
    chunk_size: int = 65536,
    executor: str = "serial",
    workers: int | None = None,
    scheduler: str | None = None,
    out: str | Path | None = None,
) -> MultiverseResult:
    """Fit every specification: frequentist rows in batches, Bayesian rows one by one.

    Frequentist rows are fitted by :func:`alsmeta.pool_many`, one batch per
    (method, test) pair; Bayesian rows by :func:`alsmeta.bayes_meta`.

    Parameters
    ----------
    specs : pandas.DataFrame
        One row per specification. Needs the ``slots`` columns (effect key or
        None), ``method_col`` (an estimator of :func:`alsmeta.pool` or
        ``"bayes"``) and, for frequentist rows, ``test_col`` (``"z"``,
        ``"t"``, ``"knha"``, ``"adhoc"``); Bayesian rows need a positive
        ``tau_scale_col`` (the half-normal prior scale on tau; flat prior on
        mu). Other columns are carried along as descriptive choices.
    effects : mapping or pandas.DataFrame
        Effect key -> ``(yi, se)``, or a table with columns ``yi`` and ``se``
        indexed by key.
    slots : sequence of str
        The columns of ``specs`` that name study effects.
    method_col, test_col, tau_scale_col : str
        Names of the model columns.
    level : float
        Confidence / credible level (0.95 or 95).
    chunk_size, executor, workers, scheduler : optional
        Where the frequentist rows are fitted (see :func:`alsmeta.pool_many`);
        the result is the same bytes whatever the executor and chunk size.
        Bayesian rows are fitted here, one by one.
    out : str or Path, optional
        Stream the frequentist fits to ``out/<method>-<test>/`` (one
        campaign per model, see :mod:`alsmeta.campaign`); a stopped run
        resumes from the chunks already written.

    Returns
    -------
    MultiverseResult

    Raises
    ------
    AlsmetaInputError
        Naming the column (and row or effect key) of any bad input.

    Notes
    -----
    Each frequentist row is bit for bit :func:`alsmeta.pool` on its studies
    (the guarantee of :func:`alsmeta.pool_many`), with ``confint=False``
    (no Q-profile intervals are needed for the curve). A row whose t-based
    test has one study falls back to z, as in metafor.
    """
    specs = _check_specs(specs)
    slots = _slots(specs, slots)
    campaign_options(executor, workers, scheduler, out)  # checked before any fitting
    level = probability_level(level)
    is_bayes = _check_models(specs, method_col, test_col, tau_scale_col)
    y, v, m = specification_data(specs, effects, slots)
    b = len(specs)
    results: dict[str, np.ndarray] = {c: np.full(b, np.nan) for c in RESULT_COLUMNS}
    results["k"] = m.sum(axis=1).astype(np.int64)
    results["converged"] = np.zeros(b, bool)
    freq = np.flatnonzero(~is_bayes)
    if freq.size:
        models = specs.loc[freq, [method_col, test_col]].astype(str)
        campaign = {"chunk_size": chunk_size, "executor": executor, "workers": workers, "scheduler": scheduler}
        methods, tests = models[method_col].to_numpy(), models[test_col].to_numpy()
        _fit_frequentist_rows(results, y, v, m, freq, methods, tests, level, campaign, out)
    bayes = np.flatnonzero(is_bayes)
    if bayes.size:
        _fit_bayesian_rows(results, y, v, m, bayes, specs.loc[bayes, tau_scale_col].to_numpy(dtype=float), level)

    frame = specs.copy()
    for c in RESULT_COLUMNS:
        frame[c] = results[c]
    return MultiverseResult(
        specifications=frame, choices=tuple(str(c) for c in specs.columns), slots=slots, level=level
    )


__all__ = [
    "BAYES",
    "DISTINCT_COLUMNS",
    "DISTINCT_DIGITS",
    "MultiverseResult",
    "RESULT_COLUMNS",
    "choice_text",
    "distinct_analyses",
    "expand_grid",
    "fit_specifications",
    "specification_data",
]
