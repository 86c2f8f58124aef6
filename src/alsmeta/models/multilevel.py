"""Three-level random-effects model for dependent effects: :func:`pool_multilevel`.

Several effects from one study (time points, outcomes, arms) are not
independent. The three-level model (Konstantopoulos 2011; Cheung 2014;
Van den Noortgate et al. 2013) nests effects in studies::

    y_ij = x_ij' beta + u_i + w_ij + e_ij,
    u_i ~ N(0, sigma2_study),  w_ij ~ N(0, sigma2_effect),  e_ij ~ N(0, v_ij),

so the marginal covariance is ``V = diag(v) + sigma2_study Z_s Z_s' +
sigma2_effect Z_e Z_e'`` (``Z_s`` the study indicators, ``Z_e`` the
study/effect indicators). It is metafor's
``rma.mv(yi, vi, random = ~ 1 | study/effect)``. The variance components are
estimated by maximising the (restricted) log-likelihood (Harville 1977;
Viechtbauer 2005 for the univariate case) with boundary-respecting
Newton-Raphson (Fisher scoring where the surface is not concave), checked
against the Karush-Kuhn-Tucker conditions at zero.

With ``vi`` the sampling errors ``e_ij`` are assumed independent given the
random effects. When effects share participants (time points of one cohort),
their sampling errors are correlated: give their covariance as ``V``
(:func:`sampling_covariance` builds one from an assumed correlation), and/or
use :func:`alsmeta.models.robust.robust` (cluster-robust CR2 inference), which
guards against a misspecified working model when there are enough studies.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse, stats

from alsmeta.jsonsafe import json_safe
from alsmeta.results import ResultMixin
from alsmeta.validation import (
    AlsmetaInputError,
    AlsmetaWarning,
    missing_labels,
    missing_studies,
    na_action_arg,
    numeric_column,
    one_spread,
    probability_level,
    variances_from_se,
)

Array = npt.NDArray[np.float64]

_METHODS = ("REML", "ML")
_TESTS = ("z", "t")


# --------------------------------------------------------------------- result
@dataclass(frozen=True)
class MultilevelResult(ResultMixin):
    """Result of :func:`pool_multilevel` (metafor's ``rma.mv`` with ``~ 1 | study/effect``).

    Attributes
    ----------
    estimate, se, statistic, pvalue, ci_low, ci_high
        The first coefficient: the pooled effect of an intercept-only model
        (``mods=None``). With moderators, see ``coefficients`` for every term.
    df
        Degrees of freedom of the t test (``k - p``), NaN for ``test="z"``.
    coefficients
        DataFrame, one row per term: ``term``, ``estimate``, ``se``,
        ``statistic``, ``pvalue``, ``ci_low``, ``ci_high``.
    vcov
        Model-based covariance matrix of the coefficients, ``(X' V^-1 X)^-1``.
    sigma2
        ``(sigma2_study, sigma2_effect)``: between-study variance and
        within-study variance between effects, as metafor's ``fit$sigma2``.
    sigma2_fixed
        Components fixed at 0 because their factor has a single level (as metafor).
    sigma2_identifiable
        False when every study has exactly one effect (then only the sum is
        identified; it is split equally, the split metafor also reports for REML).
    qe, qe_df, qe_pvalue
        Cochran's Q test for residual heterogeneity (weights ``1/v``).
    qm, qm_df, qm_df2, qm_pvalue
        Wald test of the moderators (all terms but the intercept; the
        intercept itself in an intercept-only model); F with
        ``(qm_df, qm_df2)`` df when ``test="t"``.
    loglik, aic, bic, aicc
        Log-likelihood of the fitted method (the restricted log-likelihood,
        with all constants, for REML) and information criteria as metafor's
        ``fit.stats`` (BIC and AICc use ``k - p`` observations for REML).
    n_parameters
        ``p`` plus the number of estimated variance components.
    k, p, n_studies, n_effects
        Effects, coefficients, distinct studies, distinct study/effect levels.
    yi, vi, X, terms, study, effect, method, test, level
        Data and specification.
    sampling_cov
        The sampling covariance matrix when given as ``V`` (None for ``vi``).
    converged, iterations, notes
    """

    estimate: float
    se: float
    statistic: float
    pvalue: float
    ci_low: float
    ci_high: float
    df: float
    coefficients: pd.DataFrame
    vcov: Array
    sigma2: tuple[float, float]
    sigma2_fixed: tuple[bool, bool]
    sigma2_identifiable: bool
    qe: float
    qe_df: int
    qe_pvalue: float
    qm: float
    qm_df: int
    qm_df2: float
    qm_pvalue: float
    loglik: float
    aic: float
    bic: float
    aicc: float
    n_parameters: int
    k: int
    p: int
    n_studies: int
    n_effects: int
    yi: Array
    vi: Array
    sampling_cov: Array | None
    X: Array
    terms: tuple[str, ...]
    study: tuple[str, ...]
    effect: tuple[str, ...]
    method: str
    test: str
    level: float
    converged: bool
    iterations: int
    notes: tuple[str, ...] = field(default=())

    @property
    def sigma2_total(self) -> float:
        """``sigma2_study + sigma2_effect``: total heterogeneity of one effect."""
        return float(self.sigma2[0] + self.sigma2[1])

    @property
    def beta(self) -> Array:
        """All coefficients (``coefficients["estimate"]``)."""
        return self.coefficients["estimate"].to_numpy()

    def marginal_vcov(self) -> Array:
        """Marginal covariance ``V`` of the effects under the fitted model (k x k)."""
        s = np.asarray(self.study, dtype=object)
        e = np.asarray(_nested(self.study, self.effect), dtype=object)
        same_study = (s[:, None] == s[None, :]).astype(float)
        same_effect = (e[:, None] == e[None, :]).astype(float)
        V0 = np.diag(self.vi) if self.sampling_cov is None else self.sampling_cov
        return V0 + self.sigma2[0] * same_study + self.sigma2[1] * same_effect

    def to_frame(self) -> pd.DataFrame:
        """One row per effect: study, effect, yi, vi, sei and its % share of the total weight.

        The weight of effect i is row i of ``(1' V^-1 1)^-1 1' V^-1`` (the
        GLS weights of the intercept-only model; with moderators, the row sums
        of ``V^-1`` as metafor's ``weights(fit)`` diagonal are not equivalent,
        so the column is NaN then).
        """
        V = self.marginal_vcov()
        if self.p == 1 and np.allclose(self.X, 1.0):
            w = np.linalg.solve(V, np.ones(self.k))
            weight = 100.0 * w / w.sum()
        else:
            weight = np.full(self.k, np.nan)
        return pd.DataFrame(
            {
                "study": list(self.study),
                "effect": list(self.effect),
                "yi": self.yi,
                "vi": self.vi,
                "sei": np.sqrt(self.vi),
                "weight": weight,
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """Scalar results and the specification as plain Python values (JSON-ready)."""
        clean = json_safe
        scalars = (
            "estimate",
            "se",
            "statistic",
            "pvalue",
            "ci_low",
            "ci_high",
            "df",
            "qe",
            "qe_df",
            "qe_pvalue",
            "qm",
            "qm_df",
            "qm_df2",
            "qm_pvalue",
            "loglik",
            "aic",
            "bic",
            "aicc",
            "n_parameters",
            "k",
            "p",
            "n_studies",
            "n_effects",
            "method",
            "test",
            "level",
            "converged",
            "iterations",
            "sigma2_identifiable",
        )
        out: dict[str, Any] = {name: clean(getattr(self, name)) for name in scalars}
        out["sigma2_study"], out["sigma2_effect"] = (clean(s) for s in self.sigma2)
        out["sigma2_fixed"] = [bool(b) for b in self.sigma2_fixed]
        out["coefficients"] = [
            {key: clean(val) for key, val in row.items()} for row in self.coefficients.to_dict(orient="records")
        ]
        out["notes"] = list(self.notes)
        return out

    def summary(self, digits: int = 4) -> str:
        """metafor-like text summary."""
        f = lambda x: "NA" if not np.isfinite(x) else f"{x:.{digits}f}"  # noqa: E731
        lines = [
            f"Multivariate Meta-Analysis Model (k = {self.k}; method: {self.method})",
            "",
            f"  logLik  AIC  BIC  AICc: {f(self.loglik)}  {f(self.aic)}  {f(self.bic)}  {f(self.aicc)}",
            "",
            "Variance Components:",
            "",
            "            estim    sqrt  nlvls  fixed  factor",
        ]
        for name, s2, n, fixed in (
            ("sigma^2.1", self.sigma2[0], self.n_studies, self.sigma2_fixed[0]),
            ("sigma^2.2", self.sigma2[1], self.n_effects, self.sigma2_fixed[1]),
        ):
            factor = "study" if name.endswith("1") else "study/effect"
            lines.append(f"{name}  {f(s2)}  {f(np.sqrt(s2))}  {n:5d}  {'yes' if fixed else 'no':>5}  {factor}")
        lines += ["", f"Test for Heterogeneity: Q(df = {self.qe_df}) = {f(self.qe)}, p-val = {self.qe_pvalue:.4g}"]
        if self.p > 1:
            if self.test == "t":
                lines.append(
                    f"Test of Moderators: F(df1 = {self.qm_df}, df2 = {self.qm_df2:g}) = {f(self.qm)}, "
                    f"p-val = {self.qm_pvalue:.4g}"
                )
            else:
                lines.append(f"Test of Moderators: QM(df = {self.qm_df}) = {f(self.qm)}, p-val = {self.qm_pvalue:.4g}")
        lines += [
            "",
            f"Model Results ({f't, df = {self.df:g}' if self.test == 't' else 'z'}):",
            self.coefficients.to_string(index=False, float_format=lambda x: f"{x:.{digits}f}"),
        ]
        lines += self._notes_lines()
        return "\n".join(lines)


# --------------------------------------------------------------------- input
def group_labels(values: Any, name: str, k: int) -> tuple[str, ...]:
    """Validate a study/effect/cluster label column: ``k`` non-missing labels, as strings.

    Raises
    ------
    AlsmetaInputError
        Naming the argument and the row for a missing label, or the lengths.
    """
    if values is None or isinstance(values, (str, bytes)) or np.ndim(values) != 1:
        raise AlsmetaInputError(f"{name}: expected one label per effect (a 1-d sequence), got {values!r:.60}")
    raw = list(values.tolist() if hasattr(values, "tolist") else values)
    if len(raw) != k:
        raise AlsmetaInputError(f"{name}: {len(raw)} labels given for {k} effects (yi has {k})")
    out = []
    for i, lab in enumerate(raw):
        missing = lab is None or (isinstance(lab, (float, np.floating)) and np.isnan(lab)) or lab is pd.NA
        if missing or str(lab).strip() == "":
            raise AlsmetaInputError(f"{name}: row {i + 1} (yi = row {i + 1}) has a missing or empty label")
        out.append(str(lab))
    return tuple(out)


def _complete_rows(yi: Any, vi: Any, V: Any, study: Any, effect: Any, mods: Any, na_action: str) -> tuple[Any, ...]:
    """The inputs without the effects that have a missing value when ``na_action="drop"``.

    With ``"raise"`` (or nothing missing, or input of the wrong shape) the
    inputs are returned as given: the validation that follows refuses a
    missing value naming the effect and the column.
    """
    from alsmeta.models.moderators import _moderator_missing, _subset_rows

    if na_action_arg(na_action) == "raise" or isinstance(yi, (str, bytes)) or np.ndim(yi) != 1:
        return yi, vi, V, study, effect, mods
    k = len(yi)

    def column(values: Any) -> bool:
        return values is not None and not isinstance(values, (str, bytes)) and np.ndim(values) == 1 and len(values) == k

    y = numeric_column(yi, "yi", allow_nan=True)
    missing: dict[str, Any] = {"yi": y}
    if column(vi):
        missing["vi"] = numeric_column(vi, "vi", allow_nan=True)
    M = np.asarray(V, dtype=float) if V is not None else None
    if M is not None and M.shape == (k, k):
        missing["V"] = np.isnan(M).any(axis=1) | np.isnan(M).any(axis=0)
    for name, values in (("study", study), ("effect", effect)):
        if column(values):
            missing[name] = missing_labels(list(values))
    if mods is not None:
        missing.update({f"mods[{n}]": m for n, m in _moderator_missing(mods, k).items()})
    named = column(study) and not missing["study"].any()
    keep = missing_studies(missing, [str(x) for x in study] if named else None, "drop")
    if keep is None:
        return yi, vi, V, study, effect, mods
    return (
        y[keep],
        missing["vi"][keep] if "vi" in missing else vi,
        M[np.ix_(keep, keep)] if M is not None else None,
        [x for x, kp in zip(study, keep, strict=True) if kp] if column(study) else study,
        [x for x, kp in zip(effect, keep, strict=True) if kp] if column(effect) else effect,
        _subset_rows(mods, keep),
    )


def _indicators(labels: Sequence[str]) -> Array:
    """k x m 0/1 matrix of group membership (groups in order of first appearance)."""
    levels = list(dict.fromkeys(labels))
    index = {lev: j for j, lev in enumerate(levels)}
    Z = np.zeros((len(labels), len(levels)))
    Z[np.arange(len(labels)), [index[lab] for lab in labels]] = 1.0
    return Z


def _nested(study: Sequence[str], effect: Sequence[str]) -> tuple[str, ...]:
    """study/effect interaction labels (the inner factor of ``~ 1 | study/effect``)."""
    return tuple(f"{s}\x1f{e}" for s, e in zip(study, effect, strict=True))


# --------------------------------------------------------------------- likelihood
@dataclass(frozen=True)
class _Parts:
    """Quantities of one evaluation of the (restricted) likelihood."""

    loglik: float
    beta: Array
    vcov: Array
    score: Array
    info: Array
    observed: Array


@dataclass(frozen=True)
class _Structure:
    """Random-effects structure: sparse indicators Z_i and the study blocks of V (grouped by size).

    V is block diagonal by study, so it is inverted block by block, all blocks
    of one size at once; V^-1 is kept sparse (its non-zeros are the blocks).
    """

    Z: tuple[sparse.csr_matrix, ...]
    by_size: tuple[npt.NDArray[np.intp], ...]  # per block size: (n_blocks, size) row indices
    rows: npt.NDArray[np.intp]
    cols: npt.NDArray[np.intp]
    k: int

    @classmethod
    def of(cls, Z: Sequence[Array]) -> _Structure:
        k = Z[0].shape[0]
        blocks = [np.flatnonzero(Z[0][:, j]) for j in range(Z[0].shape[1])]
        sizes = sorted({len(b) for b in blocks})
        by_size = tuple(np.array([b for b in blocks if len(b) == n]) for n in sizes)
        rows = np.concatenate([np.repeat(ix, ix.shape[1], axis=1).ravel() for ix in by_size])
        cols = np.concatenate([np.tile(ix, (1, ix.shape[1])).ravel() for ix in by_size])
        return cls(tuple(sparse.csr_matrix(z) for z in Z), by_size, rows, cols, k)

    def inverse(self, V0: Array, sigma2: Array) -> tuple[sparse.csr_matrix, float]:
        """V^-1 (sparse) and log|V| for V = V0 + sum sigma2_i Z_i Z_i' (V0: sampling covariance, k x k)."""
        values, logdet = [], 0.0
        for ix in self.by_size:
            V = V0[ix[:, :, None], ix[:, None, :]].copy()
            for s2, z in zip(sigma2, self.Z, strict=True):
                if s2 != 0:
                    zd = z.toarray()
                    zb = zd[ix]  # (n_blocks, n, m)
                    V += s2 * np.einsum("bim,bjm->bij", zb, zb)
            L = np.linalg.cholesky(V)
            logdet += 2.0 * float(np.log(np.diagonal(L, axis1=1, axis2=2)).sum())
            Linv = np.linalg.inv(L)
            values.append(np.einsum("bki,bkj->bij", Linv, Linv).ravel())
        Vinv = sparse.csr_matrix((np.concatenate(values), (self.rows, self.cols)), shape=(self.k, self.k))
        return Vinv, logdet


def _evaluate(y: Array, V0: Array, X: Array, S: _Structure, sigma2: Array, reml: bool) -> _Parts:
    """(Restricted) log-likelihood with all constants, its score and Fisher information.

    ML: ``-1/2 [k log(2 pi) + log|V| + r' V^-1 r]``; REML additionally
    ``+ 1/2 (p log(2 pi) + log|X'X| - log|X' V^-1 X|)`` (Harville 1977; the
    constant ``log|X'X|`` as metafor's ``REMLf = TRUE``). Score
    ``-1/2 tr(Q G_i) + 1/2 y' P G_i P y``, expected information
    ``1/2 tr(Q G_i Q G_j)`` and observed information
    ``y' P G_i P G_j P y - 1/2 tr(Q G_i Q G_j)``, with
    ``P = V^-1 - V^-1 X (X' V^-1 X)^-1 X' V^-1``, ``Q = P`` (REML) or ``V^-1`` (ML)
    and ``G_i = Z_i Z_i'``.
    """
    k, p = X.shape
    Vinv, logdet_v = S.inverse(V0, sigma2)
    ViX = np.asarray(Vinv @ X)
    vcov = np.linalg.inv(X.T @ ViX)
    vcov = 0.5 * (vcov + vcov.T)
    beta = vcov @ (ViX.T @ y)
    r = y - X @ beta
    Vir = np.asarray(Vinv @ r)
    rss = float(r @ Vir)
    U = ViX @ np.linalg.cholesky(vcov)  # P = V^-1 - U U'

    def apply_p(a: Array) -> Array:
        return np.asarray(Vinv @ a) - U @ (U.T @ a)

    if reml:
        logdet_xvx = -np.linalg.slogdet(vcov)[1]
        logdet_xx = np.linalg.slogdet(X.T @ X)[1]
        ll = -0.5 * ((k - p) * np.log(2 * np.pi) - logdet_xx + logdet_v + logdet_xvx + rss)
    else:
        ll = -0.5 * (k * np.log(2 * np.pi) + logdet_v + rss)
    # tr(Q G_i) = tr(Z_i' Q Z_i) and tr(Q G_i Q G_j) = ||Z_i' Q Z_j||_F^2
    QZ = [apply_p(z.toarray()) if reml else np.asarray((Vinv @ z).toarray()) for z in S.Z]
    ZQZ = [[np.asarray(zi.T @ qzj) for qzj in QZ] for zi in S.Z]
    GPy = [np.asarray(z @ (z.T @ Vir)) for z in S.Z]  # P y = V^-1 r
    score = np.array([-0.5 * np.trace(ZQZ[i][i]) + 0.5 * float(Vir @ GPy[i]) for i in range(len(S.Z))])
    info = np.array([[0.5 * np.sum(ZQZ[i][j] ** 2) for j in range(len(S.Z))] for i in range(len(S.Z))])
    PGPy = [apply_p(b) for b in GPy]
    observed = np.array([[float(a @ pb) for pb in PGPy] for a in GPy]) - info
    return _Parts(float(ll), beta, vcov, score, info, 0.5 * (observed + observed.T))


@dataclass(frozen=True)
class _Optimum:
    sigma2: Array
    parts: _Parts
    converged: bool
    iterations: int


def _maximise(
    y: Array,
    V0: Array,
    X: Array,
    G: _Structure,
    free: Sequence[bool],
    start: Array,
    reml: bool,
    tol: float,
    maxiter: int,
) -> _Optimum:
    """Newton-Raphson (Fisher scoring where not concave) over sigma2 >= 0, step halving, active set at zero.

    A component sits on the boundary when it is 0 and its score is <= 0 (the
    Karush-Kuhn-Tucker condition); the others are updated by scoring on the
    free sub-problem. Converged when every free component's step is below
    ``tol * (1 + sigma2)`` and the score of every free, positive component is
    negligible.
    """
    s = np.where(free, np.maximum(start, 0.0), 0.0)
    cur = _evaluate(y, V0, X, G, s, reml)
    for it in range(1, maxiter + 1):
        active = np.array([f and (si > 0 or g > 0) for f, si, g in zip(free, s, cur.score, strict=True)])
        if not active.any():
            return _Optimum(s, cur, True, it)
        idx = np.flatnonzero(active)
        info = cur.info[np.ix_(idx, idx)]
        observed = cur.observed[np.ix_(idx, idx)]
        if np.all(np.linalg.eigvalsh(observed) > 0):
            info = observed  # Newton-Raphson where the surface is concave: Fisher scoring can cycle on ridges
        try:
            step_sub = np.linalg.solve(info, cur.score[idx])
        except np.linalg.LinAlgError:
            step_sub = np.linalg.lstsq(info, cur.score[idx], rcond=None)[0]
        step = np.zeros_like(s)
        step[idx] = step_sub
        accepted = False
        factor = 1.0
        for _ in range(60):
            cand = np.maximum(s + factor * step, 0.0)
            nxt = _evaluate(y, V0, X, G, cand, reml)
            if nxt.loglik >= cur.loglik - 1e-13 * abs(cur.loglik):
                accepted = True
                break
            factor /= 2.0
        if not accepted:  # no ascent possible: converged only if the scoring step was already negligible
            tiny = bool(np.all(np.abs(step) <= tol**0.5 * (1.0 + s)))
            return _Optimum(s, cur, tiny and _kkt(s, cur.score, free, tol**0.5), it)
        moved = np.abs(cand - s)
        s, cur = cand, nxt
        if np.all(moved <= tol * (1.0 + s)) and _kkt(s, cur.score, free, tol**0.5):
            return _Optimum(s, cur, True, it)
    return _Optimum(s, cur, False, maxiter)


def _kkt(s: Array, score: Array, free: Sequence[bool], tol: float) -> bool:
    """Karush-Kuhn-Tucker check on the boundary: a component at 0 must not have a positive score."""
    scale = 1.0 + np.abs(score).max()
    return all(not (f and si == 0 and g > tol * scale) for f, si, g in zip(free, s, score, strict=True))


# --------------------------------------------------------------------- main
def pool_multilevel(
    yi: Sequence[float] | Array,
    vi: Sequence[float] | Array | None = None,
    *,
    V: Any = None,
    study: Sequence[Any],
    effect: Sequence[Any] | None = None,
    mods: Any = None,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    tol: float = 1e-12,
    maxiter: int = 1000,
    na_action: str = "raise",
    sei: Sequence[float] | Array | None = None,
) -> MultilevelResult:
    """Fit a three-level random-effects model (effects nested in studies).

    The model of Konstantopoulos (2011) and Cheung (2014), metafor's
    ``rma.mv(yi, vi, mods, random = ~ 1 | study/effect, method, test)``:
    ``y = X beta + Z_s u + Z_e w + e`` with ``u ~ N(0, sigma2_study I)``,
    ``w ~ N(0, sigma2_effect I)``, ``e ~ N(0, diag(vi))``. ``beta`` is the
    generalised least squares estimate ``(X' V^-1 X)^-1 X' V^-1 y`` with
    ``V = diag(vi) + sigma2_study Z_s Z_s' + sigma2_effect Z_e Z_e'``; the
    variance components maximise the log-likelihood (ML) or the restricted
    log-likelihood (REML; Harville 1977) by Newton-Raphson (Fisher scoring
    where the surface is not concave) with an active set on the boundary
    sigma2 = 0. Tests: Wald z, or t with ``k - p`` df as metafor's
    ``test="t"``. With ``V=`` the sampling errors are ``e ~ N(0, V)`` and
    ``diag(vi)`` is replaced by ``V`` throughout (including the Q test).

    Parameters
    ----------
    yi, vi
        Effect sizes and their sampling variances (one row per effect).
    sei
        Instead of ``vi``: the standard errors (``vi = sei^2``; under
        ``na_action="drop"`` a missing one is counted as a missing ``vi``).
    V
        Instead of ``vi``: the k x k sampling covariance matrix (metafor's
        ``rma.mv(yi, V, ...)``), for effects whose sampling errors are
        correlated (e.g. time points measured on the same patients; see
        :func:`sampling_covariance`). It must be symmetric, positive definite
        and zero between effects of different studies.
    study
        Study label of each effect (the outer factor).
    effect
        Label of each effect within its study (the inner factor); default:
        every row is its own effect. Rows of one study with the same effect
        label share the effect-level random effect (as metafor).
    mods
        Optional moderators (DataFrame, dict of columns or array), coded as
        in :func:`alsmeta.meta_regression`; an intercept is always added.
    method
        ``"REML"`` (default) or ``"ML"``.
    test
        ``"z"`` or ``"t"`` (df = k - p).
    level
        Confidence level (0.95 or 95).
    tol, maxiter
        Convergence tolerance (relative change of sigma2) and iteration limit.
    na_action
        ``"raise"`` (default): a missing value in ``yi``, ``vi``, a row of
        ``V``, ``study``, ``effect`` or a moderator is an error naming the
        effect and the column; ``"drop"``: those effects are dropped (with
        their rows and columns of ``V``) with a warning naming them.

    Returns
    -------
    MultilevelResult

    Raises
    ------
    AlsmetaInputError
        Bad yi/vi (naming the row and column), missing or mismatched study or
        effect labels, fewer effects than coefficients, an unknown method or test.

    Notes
    -----
    * A factor with a single level (all effects in one study; or k = 1) has
      its component fixed at 0, as metafor does, and a note says so.
    * When every study contributes one effect, the two components are not
      separately identifiable (only their sum, which then equals
      :func:`alsmeta.pool`'s tau^2); the sum is split equally and a note says so.
    * Non-convergence is flagged (``converged`` False, a note and an
      :class:`AlsmetaWarning`), never silent.

    References
    ----------
    Konstantopoulos S (2011). Fixed effects and variance components estimation in
    three-level meta-analysis. Res Synth Methods 2:61-76.
    Cheung MWL (2014). Modeling dependent effect sizes with three-level
    meta-analyses: a structural equation modeling approach. Psychol Methods 19:211-229.
    Harville DA (1977). Maximum likelihood approaches to variance component
    estimation. J Am Stat Assoc 72:320-338.
    Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package.
    J Stat Softw 36(3).
    """
    method_u = str(method).upper()
    if method_u not in _METHODS:
        raise AlsmetaInputError(f"method: {method!r} is not one of {', '.join(_METHODS)}")
    test_l = str(test).lower()
    if test_l not in _TESTS:
        raise AlsmetaInputError(f"test: {test!r} is not one of {', '.join(_TESTS)}")
    lv = probability_level(level)
    if sei is not None:
        if V is not None:
            raise AlsmetaInputError("sei, V: give one of vi=, sei= or V=")
        one_spread(vi, sei)
        vi = variances_from_se(sei, allow_nan=na_action_arg(na_action) == "drop")
    yi, vi, V, study, effect, mods = _complete_rows(yi, vi, V, study, effect, mods, na_action)
    y = numeric_column(yi, "yi")
    k = len(y)
    if k == 0:
        raise AlsmetaInputError("yi: no effects given (k = 0); a multilevel model needs at least one effect")
    studies = group_labels(study, "study", k)
    V0 = _sampling_matrix(vi, V, k, studies)
    effects = group_labels(effect, "effect", k) if effect is not None else tuple(str(i + 1) for i in range(k))
    rows = [f"{s}/{e}" for s, e in zip(studies, effects, strict=True)]
    y = numeric_column(y, "yi", rows)
    if mods is None:
        X, terms = np.ones((k, 1)), ["intercept"]
    else:
        from alsmeta.models.moderators import design_matrix

        X, terms = design_matrix(mods, k, rows)
    p = X.shape[1]
    if k < p:
        raise AlsmetaInputError(f"mods: {p} coefficients cannot be estimated from {k} effects")
    inner = _nested(studies, effects)
    Zs, Ze = _indicators(studies), _indicators(inner)
    n_studies, n_effects = Zs.shape[1], Ze.shape[1]
    fixed = (n_studies == 1, n_effects == 1)
    identifiable = n_studies != n_effects
    notes: list[str] = []
    if fixed[0]:
        notes.append(
            "All effects come from one study: sigma2_study is not identifiable and is fixed at 0 "
            "(as metafor: 'Single-level factor(s) found'); the result is a two-level model."
        )
    if fixed[1]:
        notes.append("A single study/effect level: sigma2_effect is fixed at 0.")
    structure = _Structure.of([Zs, Ze])
    reml = method_u == "REML"
    if not identifiable and not fixed[0]:
        notes.append(
            "Every study has a single effect: sigma2_study and sigma2_effect are not separately "
            "identifiable (only their sum, which equals pool()'s tau^2); the sum is split equally."
        )
        opt = _best_of_totals(y, V0, X, _Structure.of([Zs]), method_u, reml, tol, maxiter)
        sigma2 = np.array([opt.sigma2[0] / 2.0, opt.sigma2[0] / 2.0])
    else:
        free = [not fixed[0], not fixed[1]]
        opt = _best_of_starts(y, V0, X, structure, free, reml, tol, maxiter)
        sigma2 = opt.sigma2
    if test_l == "t" and k - p < 1:
        notes.append(f"test='t' with k - p = {k - p} df: no t test is possible; p-value and CI are NaN.")
    if not opt.converged:
        msg = (
            f"{method_u} did not converge in {opt.iterations} iterations "
            f"(sigma2 = {sigma2[0]:.6g}, {sigma2[1]:.6g}); results are at the last iterate."
        )
        notes.append(msg)
        warnings.warn(msg, AlsmetaWarning, stacklevel=2)
    return _assemble(
        y,
        V0,
        V is not None,
        X,
        terms,
        studies,
        effects,
        method_u,
        test_l,
        lv,
        sigma2,
        fixed,
        identifiable,
        opt,
        n_studies,
        n_effects,
        tuple(notes),
    )


def _start_total(y: Array, V0: Array, X: Array) -> float:
    """Method-of-moments start for the total heterogeneity (residual variance minus mean v)."""
    if len(y) <= X.shape[1]:
        return 0.0
    resid = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
    return float(max(0.01, resid @ resid / (len(y) - X.shape[1]) - np.diag(V0).mean()))


def _best_of_starts(
    y: Array, v: Array, X: Array, G: _Structure, free: Sequence[bool], reml: bool, tol: float, maxiter: int
) -> _Optimum:
    """Maximise from three splits of two starting totals; keep the highest likelihood.

    The totals are the method-of-moments value and the engine's tau^2 of the same model with the
    sampling covariances ignored (:func:`_engine_total`): the likelihood in the total heterogeneity
    can have a local maximum at 0 beside the global one, which the engine's boundary scan finds.
    """
    best: _Optimum | None = None
    for total in _start_totals(y, v, X, "REML" if reml else "ML"):
        for share in (0.5, 0.9, 0.1):
            start = np.array([share * total, (1 - share) * total])
            opt = _maximise(y, v, X, G, free, start, reml, tol, maxiter)
            if best is None or (opt.converged, opt.parts.loglik) > (best.converged, best.parts.loglik + 1e-10):
                best = opt
    assert best is not None
    return best


def _best_of_totals(
    y: Array, v: Array, X: Array, G: _Structure, method: str, reml: bool, tol: float, maxiter: int
) -> _Optimum:
    """One variance component (every study has one effect): maximise from each starting total, keep the best."""
    best: _Optimum | None = None
    for total in _start_totals(y, v, X, method):
        opt = _maximise(y, v, X, G, [True], np.array([total]), reml, tol, maxiter)
        if best is None or (opt.converged, opt.parts.loglik) > (best.converged, best.parts.loglik + 1e-10):
            best = opt
    assert best is not None
    return best


def _start_totals(y: Array, v: Array, X: Array, method: str) -> tuple[float, ...]:
    """Starting values for the total heterogeneity: method of moments, and the engine's estimate."""
    totals = [_start_total(y, v, X)]
    engine = _engine_total(y, v, X, method)
    if np.isfinite(engine) and not np.isclose(engine, totals[0], rtol=1e-6, atol=1e-12):
        totals.append(engine)
    return tuple(totals)


def _engine_total(y: Array, v: Array, X: Array, method: str) -> float:
    """The engine's ML/REML tau^2 for ``y`` with sampling variances ``diag(v)`` and design ``X``.

    With one effect per study this is the maximum itself (the model is the two-level one the engine
    fits, including its scan for a maximum away from the boundary); otherwise it is a starting value.
    """
    if len(y) <= X.shape[1]:
        return float("nan")
    from alsmeta.engine.regression import fit_regression_many

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_regression_many(y[None, :], np.diag(v)[None, :], X, method=method)
    return float(np.asarray(fit.tau2).ravel()[0])


def _assemble(
    y: Array,
    V0: Array,
    full_v: bool,
    X: Array,
    terms: Sequence[str],
    studies: tuple[str, ...],
    effects: tuple[str, ...],
    method: str,
    test: str,
    level: float,
    sigma2: Array,
    fixed: tuple[bool, bool],
    identifiable: bool,
    opt: _Optimum,
    n_studies: int,
    n_effects: int,
    notes: tuple[str, ...],
) -> MultilevelResult:
    k, p = X.shape
    parts = opt.parts
    beta, vcov = parts.beta, parts.vcov
    se = np.sqrt(np.diag(vcov))
    stat = beta / se
    if test == "t":
        df = float(k - p)
        df_dist = np.nan if df < 1 else df
        crit = stats.t.isf((1 - level) / 2, df_dist) if np.isfinite(df_dist) else np.nan
        pval = 2 * stats.t.sf(np.abs(stat), df_dist) if np.isfinite(df_dist) else np.full(p, np.nan)
    else:
        df = float("nan")
        crit = stats.norm.isf((1 - level) / 2)
        pval = 2 * stats.norm.sf(np.abs(stat))
    coefficients = pd.DataFrame(
        {
            "term": list(terms),
            "estimate": beta,
            "se": se,
            "statistic": stat,
            "pvalue": pval,
            "ci_low": beta - crit * se,
            "ci_high": beta + crit * se,
        }
    )
    qe, qe_df = _cochran_q(y, V0, X)
    qe_p = float(stats.chi2.sf(qe, qe_df)) if qe_df > 0 else float("nan")
    btt = np.arange(1, p) if p > 1 else np.arange(1)
    sub = vcov[np.ix_(btt, btt)]
    wald = float(beta[btt] @ np.linalg.solve(sub, beta[btt]))
    m = len(btt)
    if test == "t":
        qm, qm_df2 = wald / m, float(k - p)
        qm_p = float(stats.f.sf(qm, m, qm_df2)) if qm_df2 > 0 else float("nan")
    else:
        qm, qm_df2 = wald, float("nan")
        qm_p = float(stats.chi2.sf(qm, m))
    n_par = p + int(not fixed[0]) + int(not fixed[1])
    ll = parts.loglik
    n_obs = k - p if method == "REML" else k
    aic = -2 * ll + 2 * n_par
    bic = -2 * ll + n_par * np.log(n_obs) if n_obs > 0 else float("nan")
    denom = max(n_obs, n_par + 2)
    aicc = -2 * ll + 2 * n_par * denom / (denom - n_par - 1)
    return MultilevelResult(
        estimate=float(beta[0]),
        se=float(se[0]),
        statistic=float(stat[0]),
        pvalue=float(pval[0]),
        ci_low=float(coefficients["ci_low"].iloc[0]),
        ci_high=float(coefficients["ci_high"].iloc[0]),
        df=df,
        coefficients=coefficients,
        vcov=vcov,
        sigma2=(float(sigma2[0]), float(sigma2[1])),
        sigma2_fixed=fixed,
        sigma2_identifiable=identifiable,
        qe=qe,
        qe_df=qe_df,
        qe_pvalue=qe_p,
        qm=qm,
        qm_df=m,
        qm_df2=qm_df2,
        qm_pvalue=qm_p,
        loglik=ll,
        aic=float(aic),
        bic=float(bic),
        aicc=float(aicc),
        n_parameters=n_par,
        k=k,
        p=p,
        n_studies=n_studies,
        n_effects=n_effects,
        yi=y,
        vi=np.diag(V0).copy(),
        sampling_cov=V0 if full_v else None,
        X=X,
        terms=tuple(terms),
        study=studies,
        effect=effects,
        method=method,
        test=test,
        level=level,
        converged=opt.converged,
        iterations=opt.iterations,
        notes=notes,
    )


def _cochran_q(y: Array, V0: Array, X: Array) -> tuple[float, int]:
    """Residual heterogeneity Q = r' V0^-1 r of the fixed-effects fit (Cochran 1954), df = k - p."""
    W = np.linalg.inv(V0)
    XtW = X.T @ W
    b = np.linalg.solve(XtW @ X, XtW @ y)
    r = y - X @ b
    return float(r @ W @ r), int(len(y) - X.shape[1])


def _sampling_matrix(vi: Any, V: Any, k: int, studies: Sequence[str]) -> Array:
    """The k x k sampling covariance from ``vi`` (diagonal) or ``V``, validated."""
    if (vi is None) == (V is None):
        raise AlsmetaInputError("vi, V: give exactly one of vi (sampling variances) or V (sampling covariance matrix)")
    if V is None:
        v = numeric_column(vi, "vi", positive=True)
        if len(v) != k:
            raise AlsmetaInputError(f"vi: {len(v)} values given for {k} effects (yi has {k})")
        return np.diag(v)
    M = np.asarray(V, dtype=float)
    if M.shape != (k, k):
        raise AlsmetaInputError(f"V: expected a {k} x {k} matrix for {k} effects, got shape {M.shape}")
    if not np.all(np.isfinite(M)):
        i = int(np.argwhere(~np.isfinite(M))[0][0])
        raise AlsmetaInputError(f"V: row {i + 1} (study {studies[i]!r}) has a missing or infinite entry")
    if not np.allclose(M, M.T, rtol=1e-12, atol=0):
        raise AlsmetaInputError("V: the sampling covariance matrix is not symmetric")
    for i in range(k):
        if M[i, i] <= 0:
            raise AlsmetaInputError(f"V: row {i + 1} (study {studies[i]!r}) has a sampling variance <= 0")
        for j in range(k):
            if M[i, j] != 0 and studies[i] != studies[j]:
                raise AlsmetaInputError(
                    f"V: rows {i + 1} and {j + 1} are in different studies ({studies[i]!r}, {studies[j]!r}) "
                    "but have a non-zero sampling covariance; sampling errors must be independent between studies"
                )
    M = 0.5 * (M + M.T)
    if np.linalg.eigvalsh(M).min() <= 0:
        raise AlsmetaInputError(
            "V: the sampling covariance matrix is not positive definite "
            "(a within-study correlation is too large for these variances)"
        )
    return M


def sampling_covariance(vi: Sequence[float] | Array, study: Sequence[Any], rho: float) -> Array:
    """Sampling covariance with a common within-study correlation: ``V_ij = rho sqrt(v_i v_j)`` in one study.

    The usual working assumption when effects of one study share
    participants but the correlation of their sampling errors is not
    reported (Pustejovsky & Tipton 2022; clubSandwich's
    ``impute_covariance_matrix(vi, cluster, r = rho)``, metafor's
    ``vcalc(vi, cluster, rho = rho)`` for distinct outcomes). ``rho`` is an
    assumption: report results for several values.

    Parameters
    ----------
    vi
        Sampling variances.
    study
        Study label of each effect; effects of different studies are independent.
    rho
        Correlation in [0, 1).

    Returns
    -------
    numpy.ndarray
        The k x k matrix, to pass as ``pool_multilevel(yi, V=..., study=...)``.

    References
    ----------
    Pustejovsky JE, Tipton E (2022). Meta-analysis with robust variance
    estimation: expanding the range of working models. Prev Sci 23:425-438.
    """
    from alsmeta.validation import finite_number

    v = numeric_column(vi, "vi", positive=True)
    labels = group_labels(study, "study", len(v))
    r = finite_number(rho, "rho")
    if not 0.0 <= r < 1.0:
        raise AlsmetaInputError(f"rho: {rho!r} must lie in [0, 1)")
    lab = np.asarray(labels, dtype=object)
    same = lab[:, None] == lab[None, :]
    sd = np.sqrt(v)
    return np.where(same, r * np.outer(sd, sd), 0.0) + np.diag((1.0 - r) * v)
