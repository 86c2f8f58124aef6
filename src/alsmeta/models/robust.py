"""Cluster-robust (sandwich) inference for any fitted meta-analytic model: :func:`robust`.

When effects are dependent in ways the model does not capture (shared
participants across time points, correlated sampling errors, a misspecified
random-effects structure), model-based standard errors are too small. The
cluster-robust variance estimator (Liang & Zeger 1986; Hedges, Tipton &
Johnson 2010) only assumes independence *between* clusters (studies)::

    Var(beta) = B [ sum_j X_j' W_j A_j e_j e_j' A_j' W_j X_j ] B,   B = (X' W X)^-1,

with ``W = V^-1`` the fitted model's weights, ``e = y - X beta`` and an
adjustment ``A_j`` per cluster:

* ``CR0``: ``A_j = I`` (the plain sandwich).
* ``CR1``: CR0 times ``n / (n - p)`` (n clusters), t tests with ``n - p`` df:
  metafor's ``robust(fit, cluster, adjust=TRUE)``.
* ``CR2``: the bias-reduced linearisation of Bell & McCaffrey (2002) and
  Pustejovsky & Tipton (2018), ``A_j = D_j' (D_j (I - H)_jj Phi_j D_j')^-1/2 D_j``
  with the working model ``Phi = V`` (``Phi_j = D_j' D_j``), and t tests with
  Satterthwaite degrees of freedom: clubSandwich's
  ``coef_test(fit, vcov = "CR2", test = "Satterthwaite")``, which is metafor's
  ``robust(fit, cluster, clubSandwich = TRUE)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from alsmeta.jsonsafe import json_safe
from alsmeta.models.multilevel import MultilevelResult, _indicators, group_labels
from alsmeta.results import ResultMixin
from alsmeta.validation import AlsmetaInputError, probability_level

Array = npt.NDArray[np.float64]

ADJUSTMENTS = ("CR0", "CR1", "CR2")


@dataclass(frozen=True)
class RobustResult(ResultMixin):
    """Cluster-robust inference for a fitted model (see :func:`robust`).

    Attributes
    ----------
    estimate, se, statistic, df, pvalue, ci_low, ci_high
        For the first coefficient (the pooled effect of an intercept-only
        model); ``coefficients`` has every term. ``df`` is ``n_clusters - p``
        for CR0/CR1 and the Satterthwaite df for CR2.
    coefficients
        DataFrame: ``term``, ``estimate``, ``se``, ``statistic`` (t), ``df``,
        ``pvalue``, ``ci_low``, ``ci_high``.
    vcov
        The cluster-robust covariance matrix of the coefficients.
    adjust
        ``"CR0"``, ``"CR1"`` or ``"CR2"``.
    n_clusters, cluster_sizes
        Number of clusters and the number of effects in each (in order of appearance).
    model_se
        The model-based standard errors, for comparison.
    k, p, level, model
        Effects, coefficients, confidence level and the class name of the fitted model.
    notes
    """

    estimate: float
    se: float
    statistic: float
    df: float
    pvalue: float
    ci_low: float
    ci_high: float
    coefficients: pd.DataFrame
    vcov: Array
    adjust: str
    n_clusters: int
    cluster_sizes: tuple[int, ...]
    model_se: tuple[float, ...]
    k: int
    p: int
    level: float
    model: str
    notes: tuple[str, ...] = field(default=())

    def to_frame(self) -> pd.DataFrame:
        """The coefficient table (one row per term)."""
        return self.coefficients.copy()

    def to_dict(self) -> dict[str, Any]:
        """Scalars and the coefficient table as plain Python values (JSON-ready)."""
        clean = json_safe
        names = (
            "estimate",
            "se",
            "statistic",
            "df",
            "pvalue",
            "ci_low",
            "ci_high",
            "adjust",
            "n_clusters",
            "k",
            "p",
            "level",
            "model",
        )
        out: dict[str, Any] = {n: clean(getattr(self, n)) for n in names}
        out["cluster_sizes"] = [int(c) for c in self.cluster_sizes]
        out["model_se"] = [clean(s) for s in self.model_se]
        out["coefficients"] = [
            {key: clean(val) for key, val in row.items()} for row in self.coefficients.to_dict(orient="records")
        ]
        out["notes"] = list(self.notes)
        return out

    def summary(self, digits: int = 4) -> str:
        """metafor-like text summary of the robust tests."""
        sizes = np.asarray(self.cluster_sizes)
        lines = [
            f"Cluster-robust inference ({self.model}; k = {self.k})",
            "",
            f"Number of clusters: {self.n_clusters}",
            f"Number of outcomes per cluster: {sizes.min()}-{sizes.max()} "
            f"(mean: {sizes.mean():.2f}, median: {np.median(sizes):g})",
            "",
            f"Model Results (variance estimator: {self.adjust}; t tests with "
            f"{'Satterthwaite df' if self.adjust == 'CR2' else f'df = {self.df:g}'}):",
            self.coefficients.to_string(index=False, float_format=lambda x: f"{x:.{digits}f}"),
        ]
        lines += self._notes_lines()
        return "\n".join(lines)


# --------------------------------------------------------------------- model pieces
@dataclass(frozen=True)
class _Model:
    """What the sandwich needs from a fitted model."""

    y: Array
    X: Array
    V: Array
    beta: Array
    terms: tuple[str, ...]
    model_se: Array
    level: float
    nesting: tuple[str, ...] | None
    weight_scale: float
    name: str
    user_weights: Array | None = None


def _model_pieces(fit: Any) -> _Model:
    """Extract y, X, the marginal covariance V and beta from a supported result."""
    from alsmeta.models.moderators import MetaRegressionResult
    from alsmeta.models.pooling import PooledResult

    if isinstance(fit, MultilevelResult):
        return _Model(
            fit.yi,
            fit.X,
            fit.marginal_vcov(),
            fit.beta,
            fit.terms,
            np.sqrt(np.diag(fit.vcov)),
            fit.level,
            fit.study,
            1.0,
            "MultilevelResult",
        )
    if isinstance(fit, PooledResult):
        if fit.k == 0:
            raise AlsmetaInputError("fit: an empty meta-analysis (k = 0) has nothing to make robust")
        return _univariate_model(
            fit, np.ones((fit.k, 1)), np.array([fit.estimate]), ("intercept",), np.array([fit.se]), "PooledResult"
        )
    if isinstance(fit, MetaRegressionResult):
        return _univariate_model(fit, fit.X, fit.estimate, fit.terms, fit.se, "MetaRegressionResult")
    raise AlsmetaInputError(
        f"fit: expected a result of pool(), meta_regression() or pool_multilevel(), got {type(fit).__name__}"
    )


def _univariate_model(fit: Any, X: Array, beta: Array, terms: tuple[str, ...], se: Array, name: str) -> _Model:
    """The pieces of a ``pool`` or ``meta_regression`` fit: ``V = diag(v + tau^2)``, its weights or the user's."""
    tau2 = fit.tau2 if fit.method != "CE" else 0.0
    V = np.diag(fit.vi + tau2)
    a = fit.user_weights
    if a is not None and np.any(a == 0):
        zero = [lab for lab, ai in zip(fit.labels, a, strict=True) if ai == 0]
        raise AlsmetaInputError(
            f"fit: robust() of a fit with user weights of 0 (studies {', '.join(map(repr, zero[:5]))}) is not "
            "supported (clubSandwich drops those studies and metafor keeps their clusters); refit without them"
        )
    # clubSandwich scales the weights by their mean (the CR2 eigenvalue cut-off), not the user's target V
    scale = float(np.mean(1.0 / np.diag(V))) if a is None else 1.0
    return _Model(fit.yi, X, V, beta, terms, np.asarray(se), fit.level, None, scale, name, a)


# --------------------------------------------------------------------- public
def robust(fit: Any, cluster: Sequence[Any], adjust: str = "CR2", level: float | None = None) -> RobustResult:
    """Cluster-robust standard errors, t tests and CIs for a fitted model.

    Parameters
    ----------
    fit
        A result of :func:`alsmeta.pool`, :func:`alsmeta.meta_regression` or
        :func:`alsmeta.pool_multilevel`. The weights ``W = V^-1`` are the
        fitted model's (for ``pool``: ``1/(v + tau^2)``, whatever its ``test``;
        metafor 3.8-1 instead scales the robust SE of a ``test="knha"`` fit
        by the Knapp-Hartung factor, an artefact of reusing ``fit$vb``). A fit
        with user weights ``a`` (``weights=``, also ``method="GENQ"``) uses
        ``W = diag(a)``, the bread ``(X'AX)^-1 X'A`` of metafor's ``robust()``,
        and the working model ``V = diag(v + tau^2)`` for CR2, as clubSandwich;
        weights of 0 are refused.
    cluster
        Cluster label of each effect (usually the study), in the order of the
        fit's data. Effects in different clusters are assumed independent;
        nothing is assumed about dependence within a cluster.
    adjust
        ``"CR2"`` (default; bias-reduced, Satterthwaite df, as clubSandwich),
        ``"CR1"`` (metafor's ``robust()`` default: CR0 times ``n/(n-p)``,
        df = ``n - p``) or ``"CR0"`` (no small-sample correction, df = ``n - p``).
    level
        Confidence level; default: the fit's.

    Returns
    -------
    RobustResult

    Raises
    ------
    AlsmetaInputError
        Cluster labels missing, of the wrong length, a single cluster, not
        more clusters than coefficients (CR0/CR1, as metafor), an unknown
        ``adjust``, or (CR2 with a multilevel fit) studies that are split
        across clusters (the random effects must be nested in the clusters,
        as clubSandwich requires).

    References
    ----------
    Liang KY, Zeger SL (1986). Longitudinal data analysis using generalized
    linear models. Biometrika 73:13-22.
    Hedges LV, Tipton E, Johnson MC (2010). Robust variance estimation in
    meta-regression with dependent effect size estimates. Res Synth Methods 1:39-65.
    Bell RM, McCaffrey DF (2002). Bias reduction in standard errors for linear
    regression with multi-stage samples. Surv Methodol 28:169-181.
    Tipton E (2015). Small sample adjustments for robust variance estimation
    with meta-regression. Psychol Methods 20:375-393.
    Pustejovsky JE, Tipton E (2018). Small-sample methods for cluster-robust
    variance estimation and hypothesis testing in fixed effects models.
    J Bus Econ Stat 36:672-683.
    """
    adj = str(adjust).upper()
    if adj not in ADJUSTMENTS:
        raise AlsmetaInputError(f"adjust: {adjust!r} is not one of {', '.join(ADJUSTMENTS)}")
    m = _model_pieces(fit)
    k, p = m.X.shape
    labels = group_labels(cluster, "cluster", k)
    Z = _indicators(labels)
    n = Z.shape[1]
    if n < 2:
        raise AlsmetaInputError(
            f"cluster: all {k} effects are in one cluster ({labels[0]!r}); cluster-robust variance "
            "estimation needs at least two independent clusters"
        )
    if adj != "CR2" and n - p <= 0:
        raise AlsmetaInputError(
            f"cluster: the number of clusters ({n}) must be larger than the number of coefficients ({p})"
        )
    if m.nesting is not None and adj == "CR2":
        _check_nested(m.nesting, labels)
    lv = m.level if level is None else probability_level(level)
    groups = [np.flatnonzero(Z[:, j]) for j in range(n)]
    notes: list[str] = []
    if m.user_weights is not None:
        W = np.diag(m.user_weights)  # metafor's robust(): bread (X'AX)^-1 X'A; clubSandwich: W = A
    elif _block_diagonal(m.V, Z):
        W = np.zeros_like(m.V)
        for g in groups:
            W[np.ix_(g, g)] = np.linalg.inv(m.V[np.ix_(g, g)])
    else:
        notes.append(
            "The fitted covariance links effects in different clusters; the weights use the full "
            "inverse of V and the meat ignores those links (as metafor's robust())."
        )
        W = np.asarray(np.linalg.inv(m.V), dtype=np.float64)
    W = 0.5 * (W + W.T)
    bread = np.linalg.inv(m.X.T @ W @ m.X)
    bread = 0.5 * (bread + bread.T)
    resid = m.y - m.X @ m.beta
    A = _cr2_adjustments(m, W, bread, groups) if adj == "CR2" else [np.eye(len(g)) for g in groups]
    XW = m.X.T @ W
    E = [XW[:, g] @ a for g, a in zip(groups, A, strict=True)]  # p x n_j, the adjusted estimating matrices
    u = np.column_stack([e @ resid[g] for e, g in zip(E, groups, strict=True)])
    vcov = bread @ (u @ u.T) @ bread
    if adj == "CR1":
        vcov = vcov * n / (n - p)
    vcov = 0.5 * (vcov + vcov.T)
    # as metafor: a (numerically) zero robust variance is not an estimate (e.g. all residuals 0)
    zero = np.diag(vcov) < 100 * np.finfo(float).eps
    if zero.any():
        vcov[zero, :] = np.nan
        vcov[:, zero] = np.nan
        notes.append(
            "The robust variance of "
            + ", ".join(t for t, z in zip(m.terms, zero, strict=True) if z)
            + " is zero (every residual is 0): its robust SE, test and CI are not defined (NaN)."
        )
    se = np.sqrt(np.diag(vcov))
    with np.errstate(invalid="ignore", divide="ignore"):
        df = _satterthwaite_df(m, W, bread, E, groups) if adj == "CR2" else np.full(p, float(n - p))
        df = np.where(zero, np.nan, df)
        stat = m.beta / se
        pval = 2 * stats.t.sf(np.abs(stat), df)
        crit = stats.t.isf((1 - lv) / 2, df)
    coefficients = pd.DataFrame(
        {
            "term": list(m.terms),
            "estimate": m.beta,
            "se": se,
            "statistic": stat,
            "df": df,
            "pvalue": pval,
            "ci_low": m.beta - crit * se,
            "ci_high": m.beta + crit * se,
        }
    )
    if n < 10 and adj != "CR2":
        notes.append(
            f"Only {n} clusters: {adj} tests can be liberal with few clusters; CR2 with Satterthwaite "
            "df is recommended (Tipton 2015)."
        )
    if adj == "CR2" and np.any(df < 4):
        notes.append(
            "Satterthwaite df below 4 for some coefficient: the robust test is unreliable "
            "(Tipton 2015); interpret with caution."
        )
    return RobustResult(
        estimate=float(m.beta[0]),
        se=float(se[0]),
        statistic=float(stat[0]),
        df=float(df[0]),
        pvalue=float(pval[0]),
        ci_low=float(coefficients["ci_low"].iloc[0]),
        ci_high=float(coefficients["ci_high"].iloc[0]),
        coefficients=coefficients,
        vcov=vcov,
        adjust=adj,
        n_clusters=n,
        cluster_sizes=tuple(len(g) for g in groups),
        model_se=tuple(float(s) for s in m.model_se),
        k=k,
        p=p,
        level=lv,
        model=m.name,
        notes=tuple(notes),
    )


# --------------------------------------------------------------------- helpers
def _check_nested(study: Sequence[str], cluster: Sequence[str]) -> None:
    """Every study must lie in exactly one cluster (random effects nested in clusters)."""
    seen: dict[str, str] = {}
    for s, c in zip(study, cluster, strict=True):
        if seen.setdefault(s, c) != c:
            raise AlsmetaInputError(
                f"cluster: study {s!r} has effects in clusters {seen[s]!r} and {c!r}; for CR2 the model's "
                "random effects must be nested within the clusters (cluster by study or a coarser grouping)"
            )


def _block_diagonal(V: Array, Z: Array) -> bool:
    same = (Z @ Z.T) > 0
    return bool(np.all(V[~same] == 0))


def _sym_power(M: Array, power: float, tol: float = 1e-12) -> Array:
    """Symmetric matrix power via the eigendecomposition; eigenvalues <= tol count as 0 (as clubSandwich)."""
    vals, vecs = np.linalg.eigh(0.5 * (M + M.T))
    out = np.where(vals > tol, np.abs(vals) ** power, 0.0)
    return (vecs * out) @ vecs.T


def _cr2_adjustments(m: _Model, W: Array, bread: Array, groups: Sequence[npt.NDArray[np.intp]]) -> list[Array]:
    """Bell-McCaffrey adjustment matrices ``A_j = R_j' (R_j (I - H)_jj Phi_j R_j')^-1/2 R_j``.

    ``Phi_j = R_j' R_j`` (upper Cholesky factor) is the working model's block
    (the fitted V) and ``(I - H)_jj = I - X_j B X_j' W_j``. The weights are
    scaled by their mean for univariate fits before the eigenvalue cut-off,
    as clubSandwich does for ``rma.uni`` objects.
    """
    out = []
    s = m.weight_scale
    omega = _working_covariance(m, W, bread, groups) if m.user_weights is not None else None
    for g in groups:
        Xj = m.X[g]
        Wj = W[np.ix_(g, g)]
        Phi = m.V[np.ix_(g, g)] * s
        R = np.linalg.cholesky(Phi).T
        if omega is None:  # W = V^-1: (I - H)_jj Phi_j
            IH = np.eye(len(g)) - Xj @ bread @ Xj.T @ Wj
            G = R @ IH @ Phi @ R.T
        else:  # user weights W != V^-1: the working-model variance of the residuals, as clubSandwich
            H = Xj @ bread @ Xj.T @ Wj
            G = R @ (Phi - H @ Phi - Phi @ H.T + Xj @ omega @ Xj.T) @ R.T
        out.append(R.T @ _sym_power(G, -0.5) @ R)  # invariant to the scale s except for the cut-off
    return out


def _working_covariance(m: _Model, W: Array, bread: Array, groups: Sequence[npt.NDArray[np.intp]]) -> Array:
    """``B (sum_j X_j' W_j V_j W_j X_j) B``: Var(beta) under the working model V when the weights are not V^-1."""
    middle = sum(m.X[g].T @ W[np.ix_(g, g)] @ m.V[np.ix_(g, g)] @ W[np.ix_(g, g)] @ m.X[g] for g in groups)
    return np.asarray(bread @ middle @ bread, dtype=np.float64)


def _satterthwaite_df(
    m: _Model, W: Array, bread: Array, E: Sequence[Array], groups: Sequence[npt.NDArray[np.intp]]
) -> Array:
    """Satterthwaite df of each coefficient's CR2 variance (Bell & McCaffrey 2002; Pustejovsky & Tipton 2018).

    For coefficient i, with ``g_j = (B E_j L_j)[i]`` (``L_j`` the lower
    Cholesky factor of ``Phi_j``) and ``h_j = (B E_j X_j L_B)[i]`` (``L_B``
    that of ``B``), ``P = diag(|g_j|^2) - [h_j . h_l]`` and
    ``df = tr(P)^2 / sum(P^2)``.
    """
    LB = np.linalg.cholesky(bread)
    weighted = m.user_weights is not None
    LO = np.linalg.cholesky(_working_covariance(m, W, bread, groups)) if weighted else LB
    Gs, H1s, H2s, H3s = [], [], [], []
    for e, g in zip(E, groups, strict=True):
        ME = bread @ e
        Vj = m.V[np.ix_(g, g)]
        Gs.append(ME @ np.linalg.cholesky(Vj))
        H1s.append(ME @ m.X[g] @ LB)
        if weighted:  # the terms of a working model V that is not W^-1 (clubSandwich's get_GH)
            H2s.append(ME @ Vj @ W[np.ix_(g, g)] @ m.X[g] @ LB)
            H3s.append(ME @ m.X[g] @ LO)
    p = m.X.shape[1]
    df = np.empty(p)
    for i in range(p):
        H1 = np.array([h[i] for h in H1s])  # n x p
        if weighted:
            H2, H3 = np.array([h[i] for h in H2s]), np.array([h[i] for h in H3s])
            cross = H1 @ H2.T
            P = H3 @ H3.T - cross - cross.T
        else:
            P = -(H1 @ H1.T)
        P[np.diag_indices_from(P)] += np.array([np.sum(gj[i] ** 2) for gj in Gs])
        df[i] = np.trace(P) ** 2 / np.sum(P * P)
    return df
