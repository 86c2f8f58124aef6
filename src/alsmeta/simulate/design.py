r"""Trial mechanics of single-arm pre-post (within-patient) studies.

A study screens patients ``onset_to_screening`` months after symptom onset,
observes them at the lead-in visits (the last one, month 0, is the baseline
just before cell administration), applies its eligibility rules, enrols the
first ``n_patients`` who qualify and follows them at the follow-up visits.
Times are months relative to the first administration.

The presets (:func:`design_preset`) transcribe what the evidence notes in
``shared/evidence/`` say about each study; what they do not say (visit spacing
inside a period, mostly) is labelled *assumption* in :data:`DESIGN_PRESETS`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from alsmeta.simulate import _checks as chk
from alsmeta.validation import AlsmetaInputError

PRE_SLOPE_METHODS = ("lead_in", "two_point", "onset")
POST_SLOPE_METHODS = ("least_squares", "two_point")

_INF = math.inf
_MONTHLY_6 = (0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0)
_LEAD_IN_3 = (-3.0, -2.0, -1.0, 0.0)


@dataclass(frozen=True)
class TrialDesign:
    r"""One single-arm pre-post study: visits, pre/post slopes and eligibility.

    Parameters
    ----------
    name : str
        Label for output.
    n_patients : int
        Patients enrolled (treated). Default 20 (*verified*: 220 treated
        patients in 11 studies, Morata-Tarifa 2021 abstract).
    lead_in_visits : sequence of float
        Months before the first administration, increasing, the last equal
        to 0 (the baseline visit). The first is the screening visit. Default
        (-3, -2, -1, 0): the 3-month lead-in of Oh 2018, Petrou 2016, Berry
        2019 and Kim 2009 (*verified* length; monthly spacing *assumption*).
    follow_up_visits : sequence of float
        Months after the first administration, increasing, >= 0. Include 0
        to let the baseline visit count in the post-treatment slope (then
        pre and post slopes share that measurement). Default monthly to 6
        months (*verified* 6-month follow-up in Oh 2018 / Petrou 2016 /
        Berry 2019; monthly spacing *assumption*).
    pre_slope : {"lead_in", "two_point", "onset"}
        ``"lead_in"``: least-squares slope over the lead-in visits;
        ``"two_point"``: (baseline - screening)/(lead-in length);
        ``"onset"``: :math:`(Y_0 - \text{onset\_value})/D`, the DeltaFS with
        :math:`D` the reported months from onset to baseline (Kimura 2006).
    post_slope : {"least_squares", "two_point"}
        Least-squares slope over the observed follow-up visits, or the slope
        between the first follow-up visit and the last observed one.
    min_post_visits : int
        Observed follow-up visits a patient needs to be analysed (default 2).
    onset_to_screening_mean, onset_to_screening_sd : float
        Months from symptom onset to screening, gamma distributed. Default 15
        and 6 (*verified*: PRO-ACT participants at inclusion, van Eijk 2018
        JNNP Table 1). SD 0 makes it fixed.
    onset_recall_sd : float
        SD (months) of the error in the reported onset date; default 0
        (*assumption*: no source quantifies it).
    min_score, max_score : float
        Eligibility on the observed score at screening (e.g. ALSFRS-R >= 25
        in Cudkowicz 2022, >= 24 in Nabavi 2018).
    min_months_since_onset, max_months_since_onset : float
        Eligibility on reported months since onset at screening (e.g. <= 24
        in Cudkowicz 2022).
    min_lead_in_decline : float
        Observed screening score minus baseline score must be at least this
        (e.g. 3 points in Cudkowicz 2022: "rapid progressors").
    pre_slope_range : (float, float)
        Eligibility on the observed pre-slope (signed, units/month), e.g.
        ``(-inf, -1.0)`` enrols only patients observed to lose >= 1 point a
        month.
    delta_fs_range : (float, float)
        Eligibility on the observed DeltaFS at screening (signed), whatever
        ``pre_slope`` is; needs an onset-anchored outcome.

    Notes
    -----
    Every patient also has to be alive and in the study at the baseline
    visit; those lost during the lead-in are counted as ``n_lost_lead_in``.
    """

    name: str = "generic"
    n_patients: int = 20
    lead_in_visits: tuple[float, ...] = _LEAD_IN_3
    follow_up_visits: tuple[float, ...] = _MONTHLY_6
    pre_slope: str = "lead_in"
    post_slope: str = "least_squares"
    min_post_visits: int = 2
    onset_to_screening_mean: float = 15.0
    onset_to_screening_sd: float = 6.0
    onset_recall_sd: float = 0.0
    min_score: float = -_INF
    max_score: float = _INF
    min_months_since_onset: float = 0.0
    max_months_since_onset: float = _INF
    min_lead_in_decline: float = -_INF
    pre_slope_range: tuple[float, float] = (-_INF, _INF)
    delta_fs_range: tuple[float, float] = (-_INF, _INF)
    note: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "n_patients", chk.whole(self.n_patients, "n_patients", 2))
        pre = chk.times(self.lead_in_visits, "lead_in_visits", minimum=1)
        if pre[-1] != 0.0:
            raise AlsmetaInputError(
                f"lead_in_visits: the last lead-in visit must be the baseline at month 0, got {pre}"
            )
        set_(self, "lead_in_visits", pre)
        post = chk.times(self.follow_up_visits, "follow_up_visits", minimum=2)
        if post[0] < 0:
            raise AlsmetaInputError(f"follow_up_visits: must be >= 0 (months after administration), got {post}")
        set_(self, "follow_up_visits", post)
        chk.choice(self.pre_slope, "pre_slope", PRE_SLOPE_METHODS)
        chk.choice(self.post_slope, "post_slope", POST_SLOPE_METHODS)
        if self.pre_slope in ("lead_in", "two_point") and len(pre) < 2:
            raise AlsmetaInputError(
                f"pre_slope: {self.pre_slope!r} needs at least 2 lead-in visits, lead_in_visits={pre}"
            )
        set_(self, "min_post_visits", chk.whole(self.min_post_visits, "min_post_visits", 2))
        if self.min_post_visits > len(post):
            raise AlsmetaInputError(f"min_post_visits: {self.min_post_visits} exceeds the {len(post)} follow-up visits")
        chk.positive(self.onset_to_screening_mean, "onset_to_screening_mean")
        chk.nonnegative(self.onset_to_screening_sd, "onset_to_screening_sd")
        chk.nonnegative(self.onset_recall_sd, "onset_recall_sd")
        for lo, hi in (("min_score", "max_score"), ("min_months_since_onset", "max_months_since_onset")):
            chk.interval((getattr(self, lo), getattr(self, hi)), f"{lo}/{hi}")
        chk.number(self.min_lead_in_decline, "min_lead_in_decline", allow_inf=True)
        set_(self, "pre_slope_range", chk.interval(self.pre_slope_range, "pre_slope_range"))
        set_(self, "delta_fs_range", chk.interval(self.delta_fs_range, "delta_fs_range"))

    # -- derived quantities ----------------------------------------------------------

    @property
    def visit_times(self) -> np.ndarray:
        """All visit times (lead-in and follow-up, each once), increasing."""
        return np.union1d(self.lead_in_visits, self.follow_up_visits)

    @property
    def screening_month(self) -> float:
        return float(self.lead_in_visits[0])

    @property
    def eligibility(self) -> dict[str, Any]:
        """The eligibility rules that restrict enrolment (those not at their defaults)."""
        defaults = TrialDesign()
        names = (
            "min_score",
            "max_score",
            "min_months_since_onset",
            "max_months_since_onset",
            "min_lead_in_decline",
            "pre_slope_range",
            "delta_fs_range",
        )
        return {n: getattr(self, n) for n in names if getattr(self, n) != getattr(defaults, n)}

    def with_follow_up(self, months: float) -> TrialDesign:
        """The same design analysed up to ``months`` after administration (e.g. 3 vs 6 for "transient")."""
        visits = tuple(t for t in self.follow_up_visits if t <= months)
        return replace(self, follow_up_visits=visits, min_post_visits=min(self.min_post_visits, len(visits)))


# -- presets from the evidence notes ------------------------------------------------------

_EVIDENCE = "shared/evidence/cochrane.md and tables.md"

DESIGN_PRESETS: dict[str, dict[str, Any]] = {
    "oh2018": {
        "n_patients": 33,
        "lead_in_visits": _LEAD_IN_3,
        "follow_up_visits": _MONTHLY_6,
        "note": "Oh 2018 (NCT01363401) MSC arm: 12-week lead-in then follow-up to 6 months (verified: CT.gov, "
        "Table 3); baseline at Visit 5 just before injection (verified); monthly visits (assumption).",
    },
    "petrou2016": {
        "n_patients": 26,
        "lead_in_visits": _LEAD_IN_3,
        "follow_up_visits": _MONTHLY_6,
        "note": "Petrou 2016: 3 months before and 6 months after transplantation, 26 patients (verified); "
        "monthly visits (assumption).",
    },
    "berry2019": {
        "n_patients": 36,
        "lead_in_visits": _LEAD_IN_3,
        "follow_up_visits": _MONTHLY_6,
        "note": "Berry 2019 MSC-NTF arm: 3-month run-in, 6 months of follow-up, 36 treated (verified); "
        "monthly visits (assumption).",
    },
    "kim2009": {
        "n_patients": 22,
        "lead_in_visits": _LEAD_IN_3,
        "follow_up_visits": (0.0, 1.0, 2.0, 3.0),
        "note": "Kim 2009: 3-month lead-in, 3 months of follow-up, 22 patients (verified); monthly visits "
        "(assumption).",
    },
    "blanquer2012": {
        "n_patients": 11,
        "lead_in_visits": (-6.0, -3.0, 0.0),
        "follow_up_visits": (0.0, 3.0, 6.0, 9.0, 12.0),
        "note": "Blanquer 2012: measured 6 and 3 months before transplant, then quarterly for 1 year, 11 "
        "patients (verified); a baseline visit at transplant (assumption).",
    },
    "sykova2017": {
        "n_patients": 23,
        "lead_in_visits": (-6.0, -3.0, 0.0),
        "follow_up_visits": (0.0, 3.0, 6.0, 9.0, 12.0, 15.0, 18.0),
        "note": "Sykova 2017: monitored 6 months before and 18 months after, 23 patients for efficacy "
        "(verified); quarterly visits (assumption).",
    },
    "cudkowicz2022": {
        "n_patients": 95,
        "lead_in_visits": (-3.0, 0.0),
        "follow_up_visits": tuple(round(4 * k * 12 / 52, 4) for k in range(8)),
        "min_score": 25.0,
        "max_months_since_onset": 24.0,
        "min_lead_in_decline": 3.0,
        "note": "Cudkowicz 2022 (NurOwn phase 3) MSC-NTF arm, 95 treated: ALSFRS-R >= 25 and onset <= 24 "
        "months at screening, >= 3-point decline by randomisation, 28 weeks after first treatment "
        "(verified, " + _EVIDENCE + "); 3-month screening period (secondary); screening and "
        "randomisation as the only lead-in visits, visits every 4 weeks (assumptions).",
    },
    "nabavi2018": {
        "n_patients": 14,
        "lead_in_visits": (0.0,),
        "follow_up_visits": (0.0, 2.0, 4.0, 6.0, 12.0),
        "pre_slope": "onset",
        "min_score": 24.0,
        "note": "Nabavi 2018: ALS-FRS >= 24, visits at 2, 4, 6 and 12 months, 14 patients (verified); no "
        "lead-in, so a pre-slope from onset (assumption: the paper's method was not seen).",
    },
}


def design_preset(name: str, **overrides: Any) -> TrialDesign:
    """A :class:`TrialDesign` transcribed from one study (see :data:`DESIGN_PRESETS`).

    ``overrides`` replace any field, e.g. ``design_preset("oh2018", n_patients=50)``.
    """
    if name not in DESIGN_PRESETS:
        raise AlsmetaInputError(f"name: unknown design preset {name!r}; known: {', '.join(sorted(DESIGN_PRESETS))}")
    params = dict(DESIGN_PRESETS[name], name=name)
    params.update(overrides)
    return TrialDesign(**params)
