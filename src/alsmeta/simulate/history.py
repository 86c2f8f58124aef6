r"""Natural history of ALSFRS-R and FVC in ALS, with no treatment effect.

Every patient follows a smooth true course :math:`\mu_i(t)` (``t`` = months
since symptom onset), observed at study visits with independent measurement
error, bounded by the scale, and cut short by death or dropout whose hazard
rises with lower scores and faster decline. Nothing in this module knows
about treatment: any apparent change in a simulated study is an artefact of
the design.

Sources of the defaults (labels as in ``data/``: *verified* = read in the
source text; *derived* = computed by us from verified numbers, formula given;
*assumption* = no source, an argument to vary):

* [Atassi2014] Atassi N et al. The PRO-ACT database: design, initial analyses,
  and predictive features. Neurology 2014;83:1719-1725 (PMID 25298304).
  Abstract: "ALSFRS-R rate of decline was 1.02 (+/-2.3) points per month and
  the VC rate of decline was 2.24% of predicted (+/-6.9) per month".
  http://47.251.13.51:8081/25298304 (PubMed mirror).
* [PROACT2018] Trajectories of impairment in ALS: insights from the PRO-ACT
  cohort. Muscle Nerve 2018;57:937-945 (PMID 29244213): mean postslope
  -0.99 points/month in 3,367 patients; trajectories "slightly accelerated
  overall, but slope and direction/degree of curvature varied".
  https://pubmed.ncbi.nlm.nih.gov/29244213/
* [Kaufmann2009] Kaufmann P et al. Phase II trial of CoQ10 for ALS. Ann Neurol
  2009;66:235-244, Table 3: placebo 9-month ALSFRS-R decline 9.44 (SD 8.82),
  n = 75; FVC decline 0.17 (SD 0.18) (fraction of predicted).
  https://pmc.ncbi.nlm.nih.gov/articles/PMC2854625/table/T3
* [Kaufmann2007] Kaufmann P et al. Excellent inter-rater, intra-rater and
  telephone-administered reliability of the ALSFRS-R. Amyotroph Lateral Scler
  2007;8:42-46: intra-rater ICC 0.95. https://pubmed.ncbi.nlm.nih.gov/17364435/
* [Kaufmann2005] Kaufmann P et al. The ALSFRSr predicts survival time in an
  ALS clinic population. Neurology 2005;64:38-43: HR 0.94 per ALSFRS-R point,
  HR 0.99 per % FVC (death or tracheostomy).
  https://www.neurology.org/doi/10.1212/01.WNL.0000148648.38313.64
* [PMID20137433] Revised ALSFRS at time of diagnosis predicts survival time in
  ALS (PMID 20137433), abstract: "A 1-unit decrease in DeltaFS was
  associated with a 73.3% decreased risk of death".
  https://discovery.researcher.life/article/revised-amyotrophic-lateral-sclerosis-functional-rating-scale-at-time-of-diagnosis-predicts-survival-time-in-amyotrophic-lateral-sclerosis/c10545a09f653603997f490372a0065e
* [vanEijk2018] van Eijk RPA et al. Monitoring disease progression with plasma
  creatinine in ALS clinical trials. J Neurol Neurosurg Psychiatry
  2018;89:156-161 (PMID 29084868), Table 1, PRO-ACT participants at
  inclusion (n = 255): disease duration 15 (SD 6) months, FVC 92 (17) %
  predicted, ALSFRS-R 39 (5), DeltaFRS -0.60 (1.6).
  http://jnnp.bmj.com/highwire/markup/200202/expansion
* [vanEijk2025] van Eijk RPA et al. Natural history of the ALSFRS-R: the
  PRECISION-ALS Extant Study. ALS FTD 2025;26(sup1):30-40: decelerating
  trajectory; mean 0.89 points/month, 95% of patients between 0.04 and 1.96.
  https://researchinformation.umcutrecht.nl/en/publications/natural-history-of-the-revised-als-functional-rating-scale-and-it
* [Cudkowicz2022] NurOwn phase 3 (NCT03280056), Muscle Nerve 2022;65:291-302,
  Table 1 (placebo: ALSFRS-R 31.4, SVC 75.0 % predicted, n = 94) and the
  CT.gov adverse-events module (placebo: 4 deaths, window screening to 28
  weeks after first treatment). See ``shared/evidence/tables.md`` section 3.
* [Kimura2006] Kimura F et al. Progression rate of ALSFRS-R at time of
  diagnosis predicts survival time in ALS. Neurology 2006 (PMID 16434671):
  DeltaFS = (48 - ALSFRS-R) / months since onset, i.e. 48 at onset.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from alsmeta.simulate import _checks as chk
from alsmeta.validation import AlsmetaInputError

FloatArray = npt.NDArray[np.float64]

SHAPES = ("linear", "quadratic")
SLOPE_DISTRIBUTIONS = ("lognormal", "normal")


@dataclass(frozen=True)
class NaturalHistory:
    r"""Parameters of the untreated course of one outcome (ALSFRS-R or FVC).

    Use :meth:`alsfrs_r` or :meth:`fvc` for the cited defaults; every field
    can be overridden (``NaturalHistory.alsfrs_r(slope_sd=0.5)``) and
    :func:`dataclasses.replace` works as usual. Invalid values raise
    :class:`~alsmeta.validation.AlsmetaInputError` naming the field.

    Notes
    -----
    The model. Patient *i* has a true rate :math:`r_i` (units/month; negative = decline)
    and a curvature :math:`q_i` (units/month^2; 0 unless ``shape="quadratic"``).
    ``t`` is months since symptom onset and :math:`t_{ref}` is
    ``reference_months``.

    *Onset-anchored* outcomes (``onset_value`` given; ALSFRS-R = 48 at onset,
    the DeltaFS convention [Kimura2006]), with the decline starting
    ``onset_lag_months`` after first symptoms, :math:`s = \max(t - lag, 0)`,
    :math:`s_{ref} = t_{ref} - lag`:

    .. math:: \mu_i(t) = \text{onset\_value} + r_i s + q_i\,[(s - s_{ref})^2 - s_{ref}^2]

    *Level-anchored* outcomes (``onset_value=None``; FVC), with
    :math:`L_i \sim N(\text{level\_mean}, \text{level\_sd}^2)` the value at
    :math:`t_{ref}`:

    .. math:: \mu_i(t) = L_i + r_i (t - t_{ref}) + q_i (t - t_{ref})^2

    So :math:`r_i` is the true slope at :math:`t_{ref}` (everywhere, for the
    linear shape). ``q > 0`` is a decelerating course, ``q < 0`` an
    accelerating one. The course never improves: beyond the vertex of the
    parabola it is held constant. It is then clipped to ``[floor, ceiling]``
    (floor effects: a patient at 0 stays at 0 and his slope flattens).

    Rates: ``slope_distribution="lognormal"`` draws the decline rate
    :math:`-r_i` from a lognormal with mean ``-slope_mean`` and SD
    ``slope_sd`` (right-skewed, never positive); ``"normal"`` draws
    :math:`r_i \sim N(\text{slope\_mean}, \text{slope\_sd}^2)` capped at
    ``slope_max``. Curvatures: :math:`q_i \sim N(\text{curvature\_mean},
    \text{curvature\_sd}^2)`.

    Observations: :math:`Y_{ij} = \text{clip}(\mu_i(t_j) + e_{ij})`, rounded
    to whole points when ``integer_scores``, with :math:`e_{ij} \sim N(0,
    \text{measurement\_sd}^2)` independent across visits.

    Death and dropout: each a hazard per month

    .. math:: h(t) = h_0 \exp\{\beta_{level}(\text{ref\_level} - \mu_i(t))
              + \beta_{slope}(\text{ref\_slope} - r_i)\}

    (higher for lower scores and faster decline), integrated by the
    trapezoidal rule between visits. A patient who dies or drops out misses
    every later visit.

    Parameters
    ----------
    name, unit : str
        Labels for output.
    slope_mean : float
        Mean true slope at trial entry. ALSFRS-R default -1.02 points/month
        (*verified*, [Atassi2014]; [PROACT2018] -0.99; [Kaufmann2009]
        placebo 9.44/9 = 1.05).
    slope_sd : float
        Between-patient SD of the true slope. ALSFRS-R default 0.96 (*derived*
        from [Kaufmann2009] placebo: SD of the 9-month decline 8.82/9 = 0.98
        per month, less two visits' measurement error:
        :math:`\sqrt{0.98^2 - 2 \cdot 1.3^2/9^2} = 0.96`). Population cohorts
        are narrower ([vanEijk2025]: 95% between 0.04 and 1.96, i.e. about
        0.49); a smaller SD makes regression to the mean larger.
    slope_distribution : {"lognormal", "normal"}
        Default lognormal (*assumption*, motivated by the right skew of
        DeltaFS, mean 0.60 with SD 1.6 in [vanEijk2018]). Use ``"normal"``
        for closed-form checks.
    slope_max : float
        Cap on a normal slope (default 0: the natural course never improves;
        *assumption*). ``numpy.inf`` for no cap.
    shape : {"linear", "quadratic"}
        Default ``"linear"`` (the DeltaFS and lead-in designs assume it).
        [PROACT2018] found curvature of varying direction, [vanEijk2025] a
        decelerating mean course; ``"quadratic"`` with ``curvature_*``
        explores both (no default curvature: *assumption* 0).
    curvature_mean, curvature_sd : float
        Curvature :math:`q` in units/month^2 (default 0, 0).
    reference_months : float
        :math:`t_{ref}`, months since onset at which ``slope_mean`` and
        ``level_mean`` apply. Default 15 (*verified*: disease duration at
        trial inclusion 15 (6) months, [vanEijk2018]).
    onset_lag_months : float
        Months after first symptoms before the score starts to fall
        (default 0 = the DeltaFS convention, [Kimura2006]). *Derived*
        alternative 6.2: PRO-ACT patients score 39 at 15 months
        ([vanEijk2018]) while declining 1.02/month, so the decline began
        15 - (48 - 39)/1.02 = 6.2 months after onset; this also reproduces
        their DeltaFRS of -0.60.
    onset_value : float or None
        True score at onset (48 for ALSFRS-R). ``None`` for level-anchored
        outcomes (FVC); the onset-based pre-slope then is not available.
    level_mean, level_sd : float
        Level-anchored outcomes only: value at ``reference_months``.
    floor, ceiling : float
        Bounds of the scale (ALSFRS-R 0 and 48). May be infinite.
    measurement_sd : float
        Visit-level measurement error SD, before rounding. ALSFRS-R default
        1.3 points (*derived*: ICC 0.95 [Kaufmann2007] and a between-patient
        SD of about 6 points [Cudkowicz2022] give
        :math:`6\sqrt{1 - 0.95} = 1.34`).
    integer_scores : bool
        Round observations to whole points (ALSFRS-R items are integers).
    death_rate : float
        Death hazard per month at the reference state. ALSFRS-R default
        0.0045 (*derived*, [Cudkowicz2022] placebo: 4 deaths / (94 x about
        9.4 months from screening to 28 weeks after first treatment)).
    death_level_effect : float
        Log hazard ratio per unit lower score. ALSFRS-R default 0.0619 =
        -ln 0.94 (*derived*, [Kaufmann2005]).
    death_slope_effect : float
        Log hazard ratio per unit/month faster decline. ALSFRS-R default
        1.32 = -ln(1 - 0.733) (*derived*, [PMID20137433]; a DeltaFS effect,
        used here for the current slope: *assumption*).
    dropout_rate, dropout_level_effect, dropout_slope_effect : float
        The same for dropout without death. Defaults 0.01/month, 0 and
        ln 2 = 0.693 (*assumptions*: Oh 2018's control arm lost 4 of 31
        over about 7 months, 0.019/month, deaths included).
    hazard_reference_level : float
        Score at which the hazards equal their rates. ALSFRS-R default 31.4
        (*verified*, [Cudkowicz2022] placebo baseline mean).
    hazard_reference_slope : float or None
        Slope at which the hazards equal their rates (default ``slope_mean``).
    """

    name: str = "ALSFRS-R"
    unit: str = "points"
    slope_mean: float = -1.02
    slope_sd: float = 0.96
    slope_distribution: str = "lognormal"
    slope_max: float = 0.0
    shape: str = "linear"
    curvature_mean: float = 0.0
    curvature_sd: float = 0.0
    reference_months: float = 15.0
    onset_lag_months: float = 0.0
    onset_value: float | None = 48.0
    level_mean: float | None = None
    level_sd: float = 0.0
    floor: float = 0.0
    ceiling: float = 48.0
    measurement_sd: float = 1.3
    integer_scores: bool = True
    death_rate: float = 0.0045
    death_level_effect: float = 0.0619
    death_slope_effect: float = 1.32
    dropout_rate: float = 0.01
    dropout_level_effect: float = 0.0
    dropout_slope_effect: float = 0.693
    hazard_reference_level: float = 31.4
    hazard_reference_slope: float | None = None

    def __post_init__(self) -> None:
        chk.choice(self.slope_distribution, "slope_distribution", SLOPE_DISTRIBUTIONS)
        chk.choice(self.shape, "shape", SHAPES)
        slope_mean = chk.number(self.slope_mean, "slope_mean")
        chk.nonnegative(self.slope_sd, "slope_sd")
        if self.slope_distribution == "lognormal" and slope_mean >= 0:
            raise AlsmetaInputError(
                f"slope_mean: a lognormal decline rate needs slope_mean < 0 (decline), got {self.slope_mean!r}; "
                "use slope_distribution='normal' otherwise"
            )
        chk.number(self.slope_max, "slope_max", allow_inf=True)
        chk.number(self.curvature_mean, "curvature_mean")
        chk.nonnegative(self.curvature_sd, "curvature_sd")
        ref = chk.positive(self.reference_months, "reference_months")
        lag = chk.nonnegative(self.onset_lag_months, "onset_lag_months")
        floor = chk.number(self.floor, "floor", allow_inf=True)
        ceiling = chk.number(self.ceiling, "ceiling", allow_inf=True)
        if not floor < ceiling:
            raise AlsmetaInputError(f"floor: must be below ceiling, got floor={self.floor!r}, ceiling={self.ceiling!r}")
        if self.onset_value is None:
            if self.level_mean is None:
                raise AlsmetaInputError("level_mean: required when onset_value is None (a level-anchored outcome)")
            chk.number(self.level_mean, "level_mean")
            chk.nonnegative(self.level_sd, "level_sd")
            if lag > 0:
                raise AlsmetaInputError(
                    "onset_lag_months: only defined for onset-anchored outcomes (onset_value given)"
                )
        else:
            onset = chk.number(self.onset_value, "onset_value")
            if not floor <= onset <= ceiling:
                raise AlsmetaInputError(f"onset_value: {self.onset_value!r} lies outside [floor, ceiling]")
            if self.level_mean is not None:
                raise AlsmetaInputError("level_mean: give either onset_value or level_mean, not both")
            if self.shape == "quadratic" and not ref > lag:
                raise AlsmetaInputError("reference_months: must exceed onset_lag_months for the quadratic shape")
        chk.nonnegative(self.measurement_sd, "measurement_sd")
        if not isinstance(self.integer_scores, (bool, np.bool_)):
            raise AlsmetaInputError(f"integer_scores: expected True or False, got {self.integer_scores!r}")
        for field in ("death_rate", "dropout_rate"):
            chk.nonnegative(getattr(self, field), field)
        for field in ("death_level_effect", "death_slope_effect", "dropout_level_effect", "dropout_slope_effect"):
            chk.number(getattr(self, field), field)
        chk.number(self.hazard_reference_level, "hazard_reference_level")
        if self.hazard_reference_slope is not None:
            chk.number(self.hazard_reference_slope, "hazard_reference_slope")

    # -- presets -----------------------------------------------------------------

    @classmethod
    def alsfrs_r(cls, **overrides: Any) -> NaturalHistory:
        """ALSFRS-R (0-48) with the cited defaults of the class docstring."""
        return cls(**overrides)

    @classmethod
    def fvc(cls, **overrides: Any) -> NaturalHistory:
        r"""FVC (% predicted), level-anchored.

        Defaults: slope -2.24 %/month (*verified*, [Atassi2014], vital
        capacity); between-patient SD 2.0 (*derived*, [Kaufmann2009]
        placebo: SD 0.18 of predicted over 9 months = 2.0 %/month); level
        at 15 months 92 (SD 17) % predicted (*verified*, [vanEijk2018]);
        ceiling 150 (*assumption*); measurement SD 4 % predicted
        (*assumption*: no ALS-specific between-visit repeatability was
        found); death hazard 0.0045/month (*derived* as for ALSFRS-R) at 75 %
        predicted (*verified*: [Cudkowicz2022] placebo SVC 75.0, SVC taken
        for FVC), log HR 0.01005 = -ln 0.99 per % lower (*derived*,
        [Kaufmann2005]) and 0.63 per %/month faster (*assumption*: the
        ALSFRS-R effect scaled by the ratio of between-patient SDs,
        1.32 x 0.96 / 2.0).
        """
        params: dict[str, Any] = {
            "name": "FVC",
            "unit": "% predicted",
            "slope_mean": -2.24,
            "slope_sd": 2.0,
            "onset_value": None,
            "level_mean": 92.0,
            "level_sd": 17.0,
            "floor": 0.0,
            "ceiling": 150.0,
            "measurement_sd": 4.0,
            "integer_scores": False,
            "death_level_effect": 0.01005,
            "death_slope_effect": 0.63,
            "hazard_reference_level": 75.0,
        }
        params.update(overrides)
        return cls(**params)

    def idealised(self) -> NaturalHistory:
        """The same course without measurement error, rounding, death or dropout."""
        return replace(self, measurement_sd=0.0, integer_scores=False, death_rate=0.0, dropout_rate=0.0)

    @property
    def reference_slope(self) -> float:
        return float(self.slope_mean if self.hazard_reference_slope is None else self.hazard_reference_slope)


# -- sampling and evaluation (vectorised) -----------------------------------------


def sample_rates(history: NaturalHistory, rng: np.random.Generator, size: tuple[int, ...]) -> FloatArray:
    """True slopes :math:`r_i` (negative = decline), one per patient."""
    mean, sd = float(history.slope_mean), float(history.slope_sd)
    if history.slope_distribution == "lognormal":
        sigma2 = math.log1p((sd / mean) ** 2)
        mu = math.log(-mean) - sigma2 / 2
        return -np.exp(mu + math.sqrt(sigma2) * rng.standard_normal(size))
    return np.minimum(mean + sd * rng.standard_normal(size), float(history.slope_max))


def sample_curvatures(history: NaturalHistory, rng: np.random.Generator, size: tuple[int, ...]) -> FloatArray:
    """Curvatures :math:`q_i` (zero for the linear shape; no random draw is used then)."""
    if history.shape == "linear":
        return np.zeros(size)
    return history.curvature_mean + history.curvature_sd * rng.standard_normal(size)


def sample_levels(history: NaturalHistory, rng: np.random.Generator, size: tuple[int, ...]) -> FloatArray:
    """Levels at ``reference_months`` (level-anchored outcomes; NaN and no draw otherwise)."""
    if history.onset_value is not None:
        return np.full(size, np.nan)
    return float(history.level_mean) + history.level_sd * rng.standard_normal(size)  # type: ignore[arg-type]


def _hold_at_vertex(u: FloatArray, rate: FloatArray, curvature: FloatArray, u_ref: float) -> FloatArray:
    """Time argument of the parabola made non-increasing: constant beyond its vertex."""
    with np.errstate(divide="ignore", invalid="ignore"):
        vertex = u_ref - rate / (2.0 * curvature)
    return np.where(curvature > 0, np.minimum(u, vertex), np.where(curvature < 0, np.maximum(u, vertex), u))


def true_course(
    history: NaturalHistory,
    rate: FloatArray,
    curvature: FloatArray,
    level: FloatArray,
    months: FloatArray,
) -> FloatArray:
    r"""Noise-free course :math:`\mu_i(t)` at ``months`` since onset, clipped to the scale.

    ``rate``, ``curvature`` and ``level`` broadcast against ``months``.
    """
    rate, curvature = np.asarray(rate, float), np.asarray(curvature, float)
    if history.onset_value is not None:
        u_ref = history.reference_months - history.onset_lag_months
        u = np.maximum(np.asarray(months, float) - history.onset_lag_months, 0.0)
        u = _hold_at_vertex(u, rate, curvature, u_ref)
        mu = history.onset_value + rate * u + curvature * ((u - u_ref) ** 2 - u_ref**2)
    else:
        u = _hold_at_vertex(np.asarray(months, float) - history.reference_months, rate, curvature, 0.0)
        mu = np.asarray(level, float) + rate * u + curvature * u**2
    return np.clip(mu, history.floor, history.ceiling)


def observe(history: NaturalHistory, mu: FloatArray, rng: np.random.Generator) -> FloatArray:
    """Observed values: course plus measurement error, rounded if integer, clipped to the scale."""
    y = mu + history.measurement_sd * rng.standard_normal(mu.shape)
    if history.integer_scores:
        y = np.rint(y)
    return np.clip(y, history.floor, history.ceiling)


def hazard(history: NaturalHistory, mu: FloatArray, rate: FloatArray, kind: str) -> FloatArray:
    """Death (``kind="death"``) or dropout hazard per month at true value ``mu``."""
    base = float(getattr(history, f"{kind}_rate"))
    if base == 0.0:
        return np.zeros(np.broadcast(mu, rate).shape)
    level_effect = float(getattr(history, f"{kind}_level_effect"))
    slope_effect = float(getattr(history, f"{kind}_slope_effect"))
    log_h = level_effect * (history.hazard_reference_level - mu) + slope_effect * (history.reference_slope - rate)
    return base * np.exp(log_h)
