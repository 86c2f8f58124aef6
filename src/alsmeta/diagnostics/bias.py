"""Small-study effects and publication bias.

* :func:`egger_test` - regression test for funnel-plot asymmetry (Egger et al.
  1997) as metafor's ``regtest()``: ``model="rma"`` (default, as metafor:
  meta-regression on the standard error with the fit's model) or ``model="lm"``
  (the classic weighted regression with a multiplicative dispersion).
* :func:`begg_test` - Begg & Mazumdar's (1994) rank correlation test as
  ``ranktest()``, with the exact Kendall p-value when there are no ties.
* :func:`trim_and_fill` - Duval & Tweedie (2000) as ``trimfill()`` (L0, R0, Q0).
* :func:`pet_peese` - PET, PEESE and the conditional PET-PEESE estimator
  (Stanley & Doucouliagos 2014).
* :func:`fail_safe_n` - Rosenthal, Orwin and Rosenberg fail-safe numbers as ``fsn()``.

The selection model lives in :mod:`alsmeta.models.selection`.

Every result carries ``meaningful`` (False when the method should not be
interpreted, e.g. with fewer than 10 studies) and ``notes`` saying why; the
numbers are still computed whenever they are defined.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from alsmeta.engine.batch import pool_many
from alsmeta.engine.heterogeneity import NO_SPREAD_NOTE, effects_without_spread
from alsmeta.engine.regression import fit_regression_many
from alsmeta.models._fitted import few_studies_note, fixed_tau2, quiet, require_fit
from alsmeta.models.pooling import PooledResult, pool
from alsmeta.results import ResultMixin, Transform, fmt_number, fmt_pvalue, p_phrase, text_table
from alsmeta.validation import (
    AlsmetaInputError,
    align_on_index,
    default_labels,
    finite_number,
    flag,
    missing_labels,
    missing_studies,
    na_action_arg,
    numeric_column,
    one_spread,
    probability_level,
    study_labels,
    variances_from_se,
    whole_number,
)

Array = npt.NDArray[np.float64]


# ============================================================== regression test (Egger)
@dataclass(frozen=True)
class EggerResult(ResultMixin):
    """Regression test for funnel-plot asymmetry (metafor's ``regtest()``).

    Attributes
    ----------
    statistic, pvalue, df
        Test of the slope on the predictor (t with ``k - 2`` df for
        ``model="lm"``; z, or t with ``k - 2`` df for t-based tests, for
        ``model="rma"``). Asymmetry shows as a slope different from 0.
    intercept, intercept_se, intercept_ci_low, intercept_ci_high
        The intercept: the "limit estimate" of the effect in a study with
        standard error (or variance) 0 - metafor's ``est``.
    slope, slope_se
        The coefficient of the predictor.
    model, predictor, method, k, tau2
        Specification; ``tau2`` is the residual heterogeneity of the
        ``"rma"`` model (0 for ``"lm"``).
    meaningful, notes
        False / explanations when k < 10 or the test cannot be computed.
    """

    model: str
    predictor: str
    method: str
    k: int
    statistic: float
    pvalue: float
    df: float
    intercept: float
    intercept_se: float
    intercept_ci_low: float
    intercept_ci_high: float
    slope: float
    slope_se: float
    tau2: float
    meaningful: bool
    notes: tuple[str, ...] = field(default=())

    def summary(self, digits: int = 4) -> str:
        """metafor-like text block (as ``print(regtest(...))``)."""
        kind = {
            "lm": "weighted regression with multiplicative dispersion",
            "rma": f"mixed-effects meta-regression model (tau^2 estimator: {self.method})"
            if self.method != "CE"
            else "common-effect meta-regression model",
        }[self.model]
        name = {"sei": "standard error", "vi": "sampling variance"}[self.predictor]
        stat = "t" if np.isfinite(self.df) else "z"
        df_txt = f", df = {self.df:g}" if np.isfinite(self.df) else ""
        lines = [
            "Regression Test for Funnel Plot Asymmetry",
            "",
            f"Model:     {kind}",
            f"Predictor: {name}",
            f"k = {self.k}",
            "",
            f"Test for Funnel Plot Asymmetry: {stat} = {fmt_number(self.statistic, digits)}{df_txt}, "
            f"p {p_phrase(self.pvalue, digits)}",
            f"Limit Estimate (as {self.predictor} -> 0):   b = {fmt_number(self.intercept, digits)} "
            f"(CI: {fmt_number(self.intercept_ci_low, digits)}, {fmt_number(self.intercept_ci_high, digits)})",
        ]
        return "\n".join(lines + self._notes_lines())


def egger_test(fit: PooledResult, model: str = "rma", predictor: str = "sei") -> EggerResult:
    """Egger's regression test for funnel-plot asymmetry, as metafor's ``regtest()``.

    Parameters
    ----------
    fit
        A :func:`alsmeta.pool` result (its data, method, test and level are used).
    model
        ``"rma"`` (default, as metafor's ``regtest()``): the mixed-effects
        meta-regression ``yi = b0 + b1 predictor`` with the fit's tau^2
        estimator, test and level (a common-effect fit gives the
        common-effect regression). ``"lm"``: weighted least squares with
        weights ``1/vi`` and an estimated multiplicative dispersion - the
        classic test of Egger et al. (``regtest(model="lm")``), t with
        ``k - 2`` df.
    predictor
        ``"sei"`` (standard errors; Egger's test) or ``"vi"`` (variances).

    Returns
    -------
    EggerResult

    Notes
    -----
    k < 3: the regression cannot be fitted (two coefficients plus a
    dispersion or tau^2); every statistic is NaN and ``notes`` says so. k < 10: computed, flagged as not meaningful.

    All effects equal, or equal up to rounding noise
    (:func:`alsmeta.engine.heterogeneity.effects_without_spread`): there is no
    asymmetry to test. ``statistic`` and ``pvalue`` are NaN with a note, the
    slope is 0 and the intercept the common effect. (The regression itself
    would divide rounding noise by a zero dispersion: ``t = -inf``, p = 0.)

    References
    ----------
    Egger M, Davey Smith G, Schneider M, Minder C (1997). Bias in meta-analysis
    detected by a simple, graphical test. BMJ 315:629-634.
    Sterne JAC, Egger M (2005). Regression methods to detect publication and
    other bias in meta-analysis. In: Publication Bias in Meta-Analysis.
    """
    fit = require_fit(fit, "egger_test")
    model = str(model).lower()
    if model not in ("lm", "rma"):
        raise AlsmetaInputError(f"model: choose 'lm' or 'rma', got {model!r}")
    predictor = str(predictor).lower()
    if predictor not in ("sei", "vi"):
        raise AlsmetaInputError(f"predictor: choose 'sei' or 'vi', got {predictor!r}")
    k = fit.k
    notes: list[str] = []
    method = "CE" if model == "lm" else fit.method
    nan = float("nan")
    if k >= 3 and effects_without_spread(fit.yi, fit.vi):
        return EggerResult(
            model,
            predictor,
            method,
            k,
            nan,
            nan,
            nan,
            float(fit.estimate),
            nan,
            nan,
            nan,
            0.0,
            nan,
            0.0 if model == "lm" else float(fit.tau2),
            False,
            (NO_SPREAD_NOTE,),
        )
    reg = None
    if k >= 3:
        reg = _asymmetry_regression(fit, model, predictor)
        if not bool(reg.usable[0]):
            reg = None
    if reg is None:
        notes.append(f"The regression test needs at least 3 studies (k = {k}); nothing was computed.")
        return EggerResult(
            model, predictor, method, k, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, False, tuple(notes)
        )
    if (n := few_studies_note(k, "Regression test")) is not None:
        notes.append(n)
    if not np.isfinite(reg.pvalue[0, 1]):
        notes.append(
            "The slope's standard error is 0 or undefined (the studies that carry weight lie exactly on a "
            "line), so the test is undefined (NaN); there is no evidence of asymmetry to report."
        )
    return EggerResult(
        model=model,
        predictor=predictor,
        method=method,
        k=k,
        statistic=float(reg.statistic[0, 1]),
        pvalue=float(reg.pvalue[0, 1]),
        df=float(reg.df[0]),
        intercept=float(reg.coef[0, 0]),
        intercept_se=float(reg.se[0, 0]),
        intercept_ci_low=float(reg.ci_low[0, 0]),
        intercept_ci_high=float(reg.ci_high[0, 0]),
        slope=float(reg.coef[0, 1]),
        slope_se=float(reg.se[0, 1]),
        tau2=float(reg.tau2[0]),
        meaningful=k >= 10,
        notes=tuple(notes),
    )


def _asymmetry_regression(fit: PooledResult, model: str, predictor: str):
    x = np.sqrt(fit.vi) if predictor == "sei" else fit.vi
    X = np.column_stack([np.ones(fit.k), x])
    if model == "lm":
        # WLS with estimated dispersion = CE meta-regression with the Knapp-Hartung factor
        return fit_regression_many(fit.yi, fit.vi, X, method="CE", test="knha", level=fit.level)
    return fit_regression_many(
        fit.yi, fit.vi, X, method=fit.method, test=fit.test, level=fit.level, tau2=fixed_tau2(fit)
    )


# ============================================================== rank correlation (Begg)
@dataclass(frozen=True)
class BeggResult(ResultMixin):
    """Begg & Mazumdar's rank correlation test (metafor's ``ranktest()``).

    ``tau`` is Kendall's tau-b between the standardised effects and the
    variances; ``pvalue`` is two-sided, exact (``exact=True``) when there are
    no ties, otherwise from the normal approximation with the tie-corrected
    variance (as R's ``cor.test``). ``statistic`` is the number of concordant
    pairs (exact) or the z value.
    """

    k: int
    tau: float
    pvalue: float
    statistic: float
    exact: bool
    meaningful: bool
    notes: tuple[str, ...] = field(default=())

    def summary(self, digits: int = 4) -> str:
        """metafor-like text block (as ``print(ranktest(...))``)."""
        how = "exact" if self.exact else "normal approximation"
        lines = [
            "Rank Correlation Test for Funnel Plot Asymmetry",
            "",
            f"k = {self.k}; Kendall's tau = {fmt_number(self.tau, digits)}, p {p_phrase(self.pvalue, digits)} ({how})",
        ]
        return "\n".join(lines + self._notes_lines())


def begg_test(fit: PooledResult, exact: bool = True) -> BeggResult:
    """Begg & Mazumdar's rank correlation test for funnel-plot asymmetry.

    The effects are standardised as ``(y_i - mu_CE) / sqrt(v_i - 1/sum(1/v))``
    (``mu_CE`` the inverse-variance mean, whatever the fit's method) and
    correlated with ``v_i`` by Kendall's tau, as metafor does.

    Parameters
    ----------
    fit
        A :func:`alsmeta.pool` result.
    exact
        Use the exact null distribution of Kendall's statistic when there are
        no ties (metafor's default). Unlike R, which returns NaN beyond 170
        studies, the exact distribution is computed for any k.

    Notes
    -----
    k < 3: not computed (NaN). k < 10: computed, flagged not meaningful;
    the test has very low power (Begg & Mazumdar 1994; Sterne et al. 2011).
    All effects equal up to rounding noise
    (:func:`alsmeta.engine.heterogeneity.effects_without_spread`): ``tau`` and
    ``pvalue`` are NaN with a note (the ranks of rounding noise would give
    tau = +/-1 and p near 1e-9).

    References
    ----------
    Begg CB, Mazumdar M (1994). Operating characteristics of a rank correlation
    test for publication bias. Biometrics 50:1088-1101.
    """
    fit = require_fit(fit, "begg_test")
    exact = flag(exact, "exact")
    k = fit.k
    nan = float("nan")
    if k < 3:
        return BeggResult(
            k,
            nan,
            nan,
            nan,
            False,
            False,
            (f"The rank correlation test needs at least 3 studies (k = {k}); nothing was computed.",),
        )
    if effects_without_spread(fit.yi, fit.vi):
        return BeggResult(k, nan, nan, nan, False, False, (NO_SPREAD_NOTE,))
    w = 1.0 / fit.vi
    theta = float(np.sum(w * fit.yi) / np.sum(w))
    vstar = fit.vi - 1.0 / np.sum(w)
    ystar = (fit.yi - theta) / np.sqrt(vstar)
    tau, pval, stat, used_exact = kendall_test(ystar, fit.vi, exact=exact)
    notes = []
    if (n := few_studies_note(k, "Rank correlation test")) is not None:
        notes.append(n)
    if exact and not used_exact:
        notes.append("Ties among the values: the p-value uses the normal approximation (as R's cor.test).")
    return BeggResult(k, tau, pval, stat, used_exact, k >= 10, tuple(notes))


def kendall_test(x: Array, y: Array, exact: bool = True) -> tuple[float, float, float, bool]:
    """Kendall's tau-b and its two-sided p-value, as R's ``cor.test(method="kendall")``.

    Returns ``(tau, pvalue, statistic, exact_used)``.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = x.size
    dx = np.sign(x[:, None] - x[None, :])
    dy = np.sign(y[:, None] - y[None, :])
    iu = np.triu_indices(n, 1)
    s = float(np.sum(dx[iu] * dy[iu]))
    n0 = n * (n - 1) / 2.0
    tx = _tie_counts(x)
    ty = _tie_counts(y)
    n1 = float(np.sum(tx * (tx - 1)) / 2.0)
    n2 = float(np.sum(ty * (ty - 1)) / 2.0)
    denom = np.sqrt((n0 - n1) * (n0 - n2))
    tau = s / denom if denom > 0 else float("nan")
    if not np.isfinite(tau):
        return float("nan"), float("nan"), float("nan"), False
    ties = tx.size > 0 or ty.size > 0
    if exact and not ties:
        q = float(np.round((tau + 1.0) * n * (n - 1) / 4.0))
        cdf = _kendall_cdf(n)
        p = 1.0 - cdf[int(q) - 1] if q > n * (n - 1) / 4.0 else cdf[int(q)]
        return tau, float(min(2.0 * p, 1.0)), q, True
    v0 = n * (n - 1) * (2 * n + 5)
    vt = np.sum(tx * (tx - 1) * (2 * tx + 5))
    vu = np.sum(ty * (ty - 1) * (2 * ty + 5))
    v1 = np.sum(tx * (tx - 1)) * np.sum(ty * (ty - 1))
    v2 = np.sum(tx * (tx - 1) * (tx - 2)) * np.sum(ty * (ty - 1) * (ty - 2))
    var_s = (v0 - vt - vu) / 18.0 + v1 / (2.0 * n * (n - 1)) + v2 / (9.0 * n * (n - 1) * (n - 2))
    z = tau * denom / np.sqrt(var_s)
    p = 2.0 * min(stats.norm.cdf(z), stats.norm.sf(z))
    return tau, float(p), float(z), False


def _tie_counts(x: Array) -> Array:
    """Sizes of the groups of tied values (only groups of 2 or more)."""
    _, counts = np.unique(x, return_counts=True)
    return counts[counts > 1].astype(float)


def _kendall_cdf(n: int) -> Array:
    """Exact null CDF of the number of concordant pairs among ``n`` distinct pairs.

    The count of permutations with ``q`` inversions (Mahonian numbers) is the
    coefficient of ``x^q`` in ``prod_{i=1..n} (1 + x + ... + x^{i-1})``;
    the recursion is run on probabilities, so it neither overflows nor
    loses precision for large ``n``.
    """
    m = n * (n - 1) // 2
    prob = np.zeros(m + 1)
    prob[0] = 1.0
    top = 0
    for i in range(2, n + 1):
        c = np.concatenate([[0.0], np.cumsum(prob[: top + 1])])
        new_top = top + i - 1
        idx = np.arange(new_top + 1)
        hi = np.minimum(idx, top) + 1
        lo = np.clip(idx - i + 1, 0, None)
        prob[: new_top + 1] = (c[hi] - c[lo]) / i
        top = new_top
    return np.minimum(np.cumsum(prob), 1.0)


# ============================================================== trim and fill
@dataclass(frozen=True)
class TrimFillResult(ResultMixin):
    """Trim-and-fill (metafor's ``trimfill()``).

    Attributes
    ----------
    k0, se_k0
        Estimated number of missing studies and its standard error.
    side
        ``"left"`` or ``"right"``: the side of the funnel plot on which studies
        were judged missing and filled.
    estimator
        ``"L0"``, ``"R0"`` or ``"Q0"``.
    p_k0
        For R0, the p-value of the test of ``k0 = 0`` (NaN otherwise).
    fit
        The meta-analysis of observed plus filled studies (same method, test
        and level as the input fit); the input fit itself when ``k0 = 0``.
    original
        The input fit.
    filled
        One row per filled study: label, yi, vi.
    iterations, meaningful, notes
    """

    k0: int
    se_k0: float
    side: str
    estimator: str
    p_k0: float
    fit: PooledResult
    original: PooledResult
    filled: pd.DataFrame
    iterations: int
    meaningful: bool
    notes: tuple[str, ...] = field(default=())

    def summary(self, digits: int = 4, transf: Transform | None = None) -> str:
        """metafor-like text block (as ``print(trimfill(...))``): the number filled, then the filled fit."""
        side = f"on the {self.side} side" if self.side else "(side not estimated)"
        se = f" (SE = {fmt_number(self.se_k0, digits)})" if np.isfinite(self.se_k0) else ""
        lines = [f"Estimated number of missing studies {side}: {self.k0}{se}"]
        if self.estimator == "R0" and np.isfinite(self.p_k0):
            lines.append(f"Test of H0: no missing studies on the {self.side} side: p-val {p_phrase(self.p_k0, digits)}")
        lines += ["", self.fit.summary(digits, transf=transf)]
        own = [n for n in self.notes if n not in self.fit.notes]
        return "\n".join(lines + (["", "Notes (trim-and-fill):", *[f"- {n}" for n in own]] if own else []))

    def to_frame(self, transf: Transform | None = None) -> pd.DataFrame:
        """The studies of the filled analysis (observed, then filled), with a boolean ``filled`` column."""
        frame = self.fit.to_frame(transf=transf)
        frame["filled"] = np.arange(len(frame)) >= self.original.k
        return frame


def trim_and_fill(
    fit: PooledResult, estimator: str = "L0", side: str | None = None, maxiter: int = 100
) -> TrimFillResult:
    """Duval & Tweedie's trim-and-fill method, as metafor's ``trimfill()``.

    Parameters
    ----------
    fit
        A :func:`alsmeta.pool` result; trimming refits use its tau^2 method.
    estimator
        ``"L0"`` (default), ``"R0"`` or ``"Q0"``.
    side
        Side on which studies are missing. ``None`` (default) chooses it as
        metafor does: from the sign of the slope of a meta-regression of the
        effects on their standard errors (same tau^2 method): a negative slope
        means studies are missing on the right.
    maxiter
        Maximum number of trim/fill iterations.

    Notes
    -----
    k < 3: the side cannot be estimated by regression; with ``side`` given,
    k = 2 is computed, k < 2 is not (``k0 = 0``, the input fit returned).
    k < 10: computed, flagged not meaningful. The filled meta-analysis keeps
    the input fit's test and level (metafor refits with the z test).

    All effects equal up to rounding noise
    (:func:`alsmeta.engine.heterogeneity.effects_without_spread`): ``k0 = 0`` and
    the input fit is returned, with a note. Here alsmeta deliberately
    differs from metafor: ``trimfill()`` ranks the rounding noise of the
    centred effects and fills 7 of 12 studies to 12 identical effects
    (alsmeta's previous versions filled 4 to 14 or failed to converge).
    Trim-and-fill assumes asymmetry is due to suppressed studies; it is a
    sensitivity analysis, not a correction.

    References
    ----------
    Duval S, Tweedie R (2000). Trim and fill: a simple funnel-plot-based
    method of testing and adjusting for publication bias in meta-analysis.
    Biometrics 56:455-463. Duval S, Tweedie R (2000). A nonparametric "trim
    and fill" method of accounting for publication bias. JASA 95:89-98.
    """
    fit = require_fit(fit, "trim_and_fill")
    estimator = str(estimator).upper()
    if estimator not in ("L0", "R0", "Q0"):
        raise AlsmetaInputError(f"estimator: choose 'L0', 'R0' or 'Q0', got {estimator!r}")
    if side is not None:
        side = str(side).lower()
        if side not in ("left", "right"):
            raise AlsmetaInputError(f"side: choose 'left', 'right' or None, got {side!r}")
    maxiter = whole_number(maxiter, "maxiter")
    k = fit.k
    notes: list[str] = []
    empty = pd.DataFrame({"label": [], "yi": [], "vi": []})
    nan = float("nan")
    if effects_without_spread(fit.yi, fit.vi):
        note = NO_SPREAD_NOTE.replace("the test is undefined (NaN)", "no study is filled (k0 = 0)")
        return TrimFillResult(0, nan, side or "", estimator, nan, fit, fit, empty, 0, False, (note,))
    if side is None:
        slope = _side_slope(fit) if k >= 3 else nan
        if not np.isfinite(slope):
            notes.append(
                f"The side of the funnel plot could not be estimated by regression with k = {k} studies; "
                "trim-and-fill was not applied (give side= to force it)."
            )
            return TrimFillResult(0, nan, "", estimator, nan, fit, fit, empty, 0, False, tuple(notes))
        side = "right" if slope < 0 else "left"
    if k < 2:
        notes.append(f"Trim-and-fill needs at least 2 studies (k = {k}); nothing was filled.")
        return TrimFillResult(0, nan, side, estimator, nan, fit, fit, empty, 0, False, tuple(notes))

    flip = -1.0 if side == "right" else 1.0
    y = flip * fit.yi
    order = np.argsort(y, kind="stable")
    y, v = y[order], fit.vi[order]
    labels = [fit.labels[i] for i in order]
    k0, k0_prev, it = 0, -1, 0
    beta = nan
    se_k0 = nan
    tau2 = fixed_tau2(fit)
    while k0 != k0_prev:
        k0_prev = k0
        it += 1
        if it > maxiter:
            raise AlsmetaInputError(f"trim_and_fill: the algorithm did not converge in {maxiter} iterations")
        mask = np.arange(k) < k - k0
        b = pool_many(y[None, :], v[None, :], mask=mask[None, :], method=fit.method, tau2=tau2, confint=False)
        beta = float(b.estimate[0])
        k0f, se_k0 = _missing_count(estimator, y - beta)
        k0 = int(max(0, np.round(k0f)))
        k0 = min(k0, k - 1)
    p_k0 = 0.5 ** (k0 + 1) if estimator == "R0" else nan
    if (n := few_studies_note(k, "Trim-and-fill")) is not None:
        notes.append(n)
    if k0 == 0:
        return TrimFillResult(0, se_k0, side, estimator, p_k0, fit, fit, empty, it, k >= 10, tuple(notes))
    # mirror the k0 most extreme studies around the trimmed estimate
    yc = y - beta
    filled_y = flip * (-(yc - beta)[k - k0 :])
    filled_v = v[k - k0 :]
    fill_labels = _fill_labels(fit.labels, k0)
    new = quiet(
        pool,
        np.concatenate([fit.yi, filled_y]),
        np.concatenate([fit.vi, filled_v]),
        method=fit.method,
        test=fit.test,
        level=fit.level,
        labels=list(fit.labels) + fill_labels,
        tau2=tau2,
    )
    filled = pd.DataFrame(
        {"label": fill_labels, "yi": filled_y, "vi": filled_v, "mirrors": [labels[i] for i in range(k - k0, k)]}
    )
    notes.append(f"{k0} stud{'y' if k0 == 1 else 'ies'} filled on the {side} side.")
    return TrimFillResult(k0, se_k0, side, estimator, p_k0, new, fit, filled, it, k >= 10, tuple(notes))


def _missing_count(estimator: str, yc: Array) -> tuple[float, float]:
    """Duval & Tweedie's estimate of the number of missing studies (unrounded) and its SE.

    ``yc`` are the effects centred at the trimmed estimate, with the missing
    studies expected on the left (negative) side; the estimators use the
    signed ranks of ``|yc|`` (Duval & Tweedie 2000, JASA 95:89-98).
    """
    k = yc.size
    ranks = np.empty(k)
    ranks[np.argsort(np.abs(yc), kind="stable")] = np.arange(1, k + 1)
    signed = np.sign(yc) * ranks
    if estimator == "R0":
        neg = signed[signed < 0]
        k0f = (k - np.max(-neg)) - 1 if neg.size else float(k)
        return float(k0f), float(np.sqrt(2 * max(0.0, k0f) + 2))
    sr = float(np.sum(signed[signed > 0]))
    if estimator == "L0":
        k0f = (4 * sr - k * (k + 1)) / (2 * k - 1)
    else:
        disc = 2 * k * k - 4 * sr + 0.25
        if disc < 0:
            raise AlsmetaInputError(
                "trim_and_fill: the Q0 estimator is undefined for these data (negative discriminant); use L0 or R0"
            )
        k0f = k - 0.5 - np.sqrt(disc)
    var_sr = (
        k * (k + 1) * (2 * k + 1)
        + 10 * k0f**3
        + 27 * k0f**2
        + 17 * k0f
        - 18 * k * k0f**2
        - 18 * k * k0f
        + 6 * k * k * k0f
    ) / 24.0
    with np.errstate(invalid="ignore", divide="ignore"):  # a negative variance gives NaN (no SE), not a warning
        if estimator == "L0":
            se_k0 = 4 * np.sqrt(var_sr) / (2 * k - 1)
        else:
            se_k0 = 2 * np.sqrt(var_sr) / np.sqrt((k - 0.5) ** 2 - k0f * (2 * k - k0f - 1))
    return float(k0f), float(max(0.0, se_k0)) if np.isfinite(se_k0) else float("nan")


def _side_slope(fit: PooledResult) -> float:
    X = np.column_stack([np.ones(fit.k), np.sqrt(fit.vi)])
    reg = fit_regression_many(fit.yi, fit.vi, X, method=fit.method, tau2=fixed_tau2(fit))
    return float(reg.coef[0, 1]) if bool(reg.usable[0]) else float("nan")


def _fill_labels(existing: Sequence[str], k0: int) -> list[str]:
    taken = set(existing)
    out: list[str] = []
    i = 1
    while len(out) < k0:
        lab = f"Filled {i}"
        if lab not in taken:
            out.append(lab)
        i += 1
    return out


# ============================================================== PET-PEESE
@dataclass(frozen=True)
class PetPeeseResult(ResultMixin):
    """PET, PEESE and the conditional PET-PEESE estimate (Stanley & Doucouliagos 2014).

    ``pet`` and ``peese`` are the weighted regressions of the effects on the
    standard errors and on the variances (:class:`EggerResult` with
    ``model="lm"``; their ``intercept`` is the bias-corrected effect).
    ``selected`` is ``"PET"`` or ``"PEESE"`` and ``estimate``/``se``/
    ``ci_low``/``ci_high`` are that model's intercept. ``pet_test_pvalue`` is
    the p-value of the PET intercept used by the rule.
    """

    k: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    selected: str
    rule: str
    alpha: float
    pet_test_pvalue: float
    pet: EggerResult
    peese: EggerResult
    meaningful: bool
    notes: tuple[str, ...] = field(default=())

    def summary(self, digits: int = 4) -> str:
        """Text block: the PET and PEESE intercepts and the conditional choice."""
        rows = [
            [
                name,
                fmt_number(r.intercept, digits),
                fmt_number(r.intercept_se, digits),
                fmt_number(r.intercept_ci_low, digits),
                fmt_number(r.intercept_ci_high, digits),
            ]
            for name, r in (("PET", self.pet), ("PEESE", self.peese))
        ]
        lines = [
            f"PET-PEESE (k = {self.k}; weighted regressions on the standard error / the variance)",
            "",
            *text_table(["model", "intercept", "se", "ci.lb", "ci.ub"], rows, first_left=True),
            "",
            f"PET test of the intercept: p {p_phrase(self.pet_test_pvalue, digits)}",
            f"Selected: {self.selected or 'none'}"
            + (f" - estimate {fmt_number(self.estimate, digits)}" if np.isfinite(self.estimate) else ""),
        ]
        if self.rule:
            lines.append(f"Rule: {self.rule}")
        return "\n".join(lines + self._notes_lines())


def pet_peese(fit: PooledResult, alpha: float = 0.05, alternative: str = "one-sided") -> PetPeeseResult:
    """Precision-effect test and precision-effect estimate with standard error.

    PET is the weighted least-squares regression ``y_i = b0 + b1 se_i``
    (weights ``1/v_i``, multiplicative dispersion), PEESE the same on
    ``v_i``; in both ``b0`` estimates the effect in a study of infinite
    precision. The conditional estimator uses PEESE when PET's ``b0`` is
    significantly different from zero, otherwise PET.

    Parameters
    ----------
    fit
        A :func:`alsmeta.pool` result (only its data and level are used).
    alpha
        Significance level of the PET test of ``b0 = 0``.
    alternative
        ``"one-sided"`` (default): reject when ``b0`` lies in the direction of
        its sign with one-sided ``p < alpha`` - Stanley & Doucouliagos' test
        of a genuine effect; equivalent to two-sided ``p < 2 alpha``.
        ``"two-sided"``: two-sided ``p < alpha``.

    Notes
    -----
    k < 3: not computed. k < 10: computed, flagged not meaningful
    (the regressions have very few degrees of freedom). All effects equal
    up to rounding noise: ``estimate`` is the common effect, the PET test
    p-value is NaN and nothing is selected, with a note.

    References
    ----------
    Stanley TD, Doucouliagos H (2014). Meta-regression approximations to
    reduce publication selection bias. Res Synth Methods 5:60-78.
    """
    fit = require_fit(fit, "pet_peese")
    alternative = str(alternative).lower().replace("_", "-")
    if alternative not in ("one-sided", "two-sided"):
        raise AlsmetaInputError(f"alternative: choose 'one-sided' or 'two-sided', got {alternative!r}")
    alpha_f = finite_number(alpha, "alpha")
    if not 0 < alpha_f < 1:
        raise AlsmetaInputError(f"alpha: must lie strictly between 0 and 1, got {alpha!r}")
    pet = egger_test(fit, model="lm", predictor="sei")
    peese = egger_test(fit, model="lm", predictor="vi")
    nan = float("nan")
    notes = list(dict.fromkeys(pet.notes))
    if fit.k >= 3 and effects_without_spread(fit.yi, fit.vi):
        est = float(fit.estimate)
        return PetPeeseResult(
            fit.k,
            est,
            nan,
            nan,
            nan,
            "",
            "no spread: the common effect, no selection",
            alpha_f,
            nan,
            pet,
            peese,
            False,
            tuple(notes),
        )
    if not np.isfinite(pet.intercept) or not pet.intercept_se > 0:
        return PetPeeseResult(fit.k, nan, nan, nan, nan, "", "", alpha_f, nan, pet, peese, False, tuple(notes))
    t0 = pet.intercept / pet.intercept_se
    p_two = float(2 * stats.t.sf(abs(t0), pet.df))
    p_rule = p_two / 2 if alternative == "one-sided" else p_two
    use_peese = p_rule < alpha_f
    chosen = peese if use_peese else pet
    rule = (
        f"PEESE if the PET intercept differs from 0 ({alternative} p < {alpha_f:g}), otherwise PET: "
        f"PET p = {p_rule:.4g}, so {'PEESE' if use_peese else 'PET'}."
    )
    return PetPeeseResult(
        k=fit.k,
        estimate=chosen.intercept,
        se=chosen.intercept_se,
        ci_low=chosen.intercept_ci_low,
        ci_high=chosen.intercept_ci_high,
        selected="PEESE" if use_peese else "PET",
        rule=rule,
        alpha=alpha_f,
        pet_test_pvalue=p_rule,
        pet=pet,
        peese=peese,
        meaningful=fit.k >= 10,
        notes=tuple(notes),
    )


# ============================================================== fail-safe N
@dataclass(frozen=True)
class FailSafeResult(ResultMixin):
    """Fail-safe N (metafor's ``fsn()``).

    ``n``: number of additional null (or, for Orwin, ``target``-diluting)
    studies; ``pvalue``: the combined p-value of the observed studies
    (Rosenthal: one-sided Stouffer; Rosenberg: two-sided z of the
    inverse-variance mean); ``mean_effect``: the average effect used (Orwin,
    Rosenberg); ``target``: Orwin's target effect (NaN otherwise).
    """

    method: str
    n: float
    target: float
    alpha: float
    pvalue: float
    mean_effect: float
    k: int
    meaningful: bool
    notes: tuple[str, ...] = field(default=())

    def summary(self, digits: int = 4) -> str:
        """metafor-like text block (as ``print(fsn(...))``)."""
        lines = [f"Fail-safe N Calculation Using the {self.method.capitalize()} Approach (k = {self.k})", ""]
        if self.method == "orwin":
            lines += [
                f"Average Effect Size: {fmt_number(self.mean_effect, digits)}",
                f"Target Effect Size:  {fmt_number(self.target, digits)}",
            ]
        else:
            if self.method == "rosenberg":
                lines.append(f"Average Effect Size:         {fmt_number(self.mean_effect, digits)}")
            lines += [
                f"Observed Significance Level: {fmt_pvalue(self.pvalue, digits)}",
                f"Target Significance Level:   {self.alpha:g}",
            ]
        n = "NA" if not np.isfinite(self.n) and not np.isinf(self.n) else f"{self.n:g}"
        lines += ["", f"Fail-safe N: {n}"]
        return "\n".join(lines + self._notes_lines())


_FSN_METHODS = ("rosenthal", "orwin", "rosenberg")


def fail_safe_n(
    yi: PooledResult | Sequence[float] | Array,
    vi: Sequence[float] | Array | None = None,
    method: str = "rosenthal",
    target: float | None = None,
    alpha: float = 0.05,
    weighted: bool | None = None,
    labels: Sequence[object] | None = None,
    na_action: str = "raise",
    *,
    sei: Sequence[float] | Array | None = None,
) -> FailSafeResult:
    """Fail-safe N as metafor's ``fsn()``.

    Parameters
    ----------
    yi, vi
        A :func:`alsmeta.pool` result (its effects and variances are used;
        ``vi``, ``sei`` and ``labels`` are then not given), or effects and
        sampling variances. ``vi`` is not needed for the unweighted Orwin method.
    sei
        Standard errors instead of ``vi`` (metafor's ``fsn(yi, sei=)``).
    method
        ``"rosenthal"`` (Stouffer-based: how many null studies bring the
        combined one-sided p above ``alpha``), ``"orwin"`` (how many studies
        with effect 0 bring the average effect down to ``target``) or
        ``"rosenberg"`` (weighted, fixed-effect version of Rosenthal's idea).
    target
        Orwin's target average effect; default half the observed average.
        Ignored by the other methods.
    alpha
        Significance level (Rosenthal, Rosenberg).
    weighted
        Orwin's method with the inverse-variance weighted mean. ``None``
        (default): weighted when ``vi`` is given, as metafor 4 does
        (``fsn(yi, vi, type="Orwin")``); metafor 3.8 used the unweighted
        mean unless ``weighted=TRUE`` - pass ``weighted=False`` for that.
    labels
        Study labels for error messages.
    na_action
        ``"raise"`` (default): a missing effect or variance is an error
        naming the study; ``"drop"``: such studies are dropped with a
        warning naming them.

    Notes
    -----
    Non-integer solutions are rounded up, as metafor does. The fail-safe N
    assumes the unpublished studies average exactly zero and ignores
    heterogeneity; it is reported for completeness, not as evidence of
    robustness (Cochrane Handbook 13.3.5). k = 0: ``n`` is NaN.

    References
    ----------
    Rosenthal R (1979). The file drawer problem and tolerance for null
    results. Psychol Bull 86:638-641. Orwin RG (1983). A fail-safe N for
    effect size in meta-analysis. J Educ Stat 8:157-159. Rosenberg MS (2005).
    The file-drawer problem revisited. Evolution 59:464-468.
    """
    method = str(method).lower()
    if method not in _FSN_METHODS:
        raise AlsmetaInputError(f"method: choose one of {', '.join(_FSN_METHODS)}, got {method!r}")
    v_given: Array | None
    if isinstance(yi, PooledResult):
        if vi is not None or sei is not None or labels is not None:
            raise AlsmetaInputError("vi/sei/labels: not given with a pool() result, which has its own")
        y, v_given = yi.yi, yi.vi
    else:
        y, v_given = _fsn_data(yi, vi, sei, labels, na_action)
    k = y.shape[0]
    if weighted is None:
        weighted = v_given is not None
    need_v = method != "orwin" or weighted
    if need_v and v_given is None:
        raise AlsmetaInputError(f"vi: sampling variances (or sei=) are required for method={method!r}")
    v = v_given if v_given is not None else np.zeros(k)
    a = probability_level(alpha, "alpha")
    nan = float("nan")
    if k == 0:
        return FailSafeResult(method, nan, nan, a, nan, nan, 0, False, ("No studies: nothing to compute.",))
    notes = ["The fail-safe N ignores heterogeneity and assumes missing studies average zero; interpret with caution."]
    pval = mean = tgt = nan
    if method == "rosenthal":
        z = np.sum(y / np.sqrt(v)) / np.sqrt(k)
        zavg = abs(z)
        pval = float(stats.norm.sf(zavg))
        n = max(0.0, k * (zavg / stats.norm.isf(a)) ** 2 - k)
    elif method == "orwin":
        mean = float(np.sum(y / v) / np.sum(1 / v)) if weighted else float(np.mean(y))
        tgt = mean / 2 if target is None else float(target)
        if tgt == 0:
            n = float("inf")
        else:
            if np.sign(tgt) != np.sign(mean):
                tgt = -tgt
            n = max(0.0, k * (mean - tgt) / tgt)
    else:
        w = 1 / v
        mean = float(np.sum(w * y) / np.sum(w))
        zval = mean / np.sqrt(1 / np.sum(w))
        wp = (np.sum(w * y) / stats.norm.isf(a / 2)) ** 2 - np.sum(w)
        pval = float(2 * stats.norm.sf(abs(zval)))
        n = max(0.0, k * wp / np.sum(w))
    if np.isfinite(n) and abs(n - np.round(n)) >= np.sqrt(np.finfo(float).eps):
        n = float(np.ceil(n))
    else:
        n = float(np.round(n))
    return FailSafeResult(method, n, tgt, a, pval, mean, k, k >= 2, tuple(notes))


def _fsn_data(yi: Any, vi: Any, sei: Any, labels: Any, na_action: str) -> tuple[Array, Array | None]:
    """Validated effects and (optional) variances for :func:`fail_safe_n`, missing values under ``na_action``."""
    na_action = na_action_arg(na_action)
    spread_name = one_spread(vi, sei, required=False) or "vi"
    aligned = align_on_index({"yi": yi, spread_name: vi if sei is None else sei, "labels": labels})
    yi, vi, labels = aligned["yi"], aligned[spread_name], aligned["labels"]
    if isinstance(yi, (str, bytes)) or np.ndim(yi) != 1:
        raise AlsmetaInputError("yi: expected one effect per study")
    k = len(yi)
    lab = list(labels) if labels is not None else None
    if lab is not None and len(lab) != k:
        raise AlsmetaInputError(f"labels: {len(lab)} labels given for {k} studies")
    lab_missing = missing_labels(lab) if lab is not None else None
    shown = (
        [f"row {i + 1}" if m else str(x) for i, (x, m) in enumerate(zip(lab, lab_missing, strict=True))]
        if lab is not None and lab_missing is not None
        else default_labels(k)
    )
    y = numeric_column(yi, "yi", shown, allow_nan=True)
    v: Array | None = None
    if vi is not None:
        if isinstance(vi, (str, bytes)) or np.ndim(vi) != 1 or len(vi) != k:
            raise AlsmetaInputError(f"{spread_name}: expected one value per study ({k} values)")
        if spread_name == "sei":
            v = variances_from_se(vi, shown, allow_nan=True)
        else:
            v = numeric_column(vi, "vi", shown, allow_nan=True, positive=True)
    keep = missing_studies({"yi": y, spread_name: v}, lab, na_action, lab_missing)
    if keep is not None:
        y = y[keep]
        v = v[keep] if v is not None else None
        lab = [x for x, kp in zip(lab, keep, strict=True) if kp] if lab is not None else None
    study_labels(lab, y.shape[0])  # the remaining labels must be complete
    return y, v
