"""The rebuild's pre-specified choices: outcomes, periods, subgroups, the primary analysis, priors and thresholds."""

from __future__ import annotations

SYNTHESIS = "msc2021"

META_ANALYSIS_DATE = "2021-04"  # issue date of npj Regen Med 6:20 (ADDI record: 2021-04-01)

UNITS = {"alsfrs_r": "points/month", "fvc": "% predicted/month"}

OUTCOME_NAMES = {"alsfrs_r": "ALSFRS-R", "fvc": "FVC % predicted"}

FIRST, SIX = "first follow-up", "6 months"

PERIOD_TEXT = {
    FIRST: "first follow-up (3-4 months)",
    SIX: "6 months",
}

PERIOD_SHORT = {FIRST: "3-4 mo", SIX: "6 mo"}

IT_MSC = "MSC, intrathecal"

NTF = "MSC-NTF, IT \u00b1 IM (secondary source)"

NULL = "Untreated arm (empirical null)"

FAVOURS = ("Faster progression after", "Slower progression after")

# The pre-specified primary analysis of the rebuild: every verdict follows from it. REML tau2 with the
# Hartung-Knapp-Sidik-Jonkman interval (t with k - 1 df; Hartung & Knapp 2001, IntHout et al. 2014), because with
# k = 2 the z interval ignores the uncertainty in tau2. With k = 1 there is no tau2 and HKSJ reduces to the study's
# own z interval. z, the other estimators and the Bayesian model are alternatives, reported as agreement.
PRIMARY_METHOD, PRIMARY_TEST = "REML", "knha"

PRIMARY_TEXT = "REML + HKSJ (t, k - 1 df; k = 1: the study's z interval)"

# Clinically relevant slowing of ALSFRS-R progression: 25% and 50% of the natural-history decline of about
# 1 point/month (GUIDE methods references: Kaufmann 2009, PRO-ACT); 25% is also Petrou 2016's responder
# threshold and 50% Oh 2018's.
ALSFRS_THRESHOLDS = (0.0, 0.25, 0.5)

FVC_THRESHOLDS = (0.0,)

# Half-normal prior scales on tau (median tau = 0.674 x scale), from tight to wide relative to the patient-level
# SD of the slope change (Oh 2018: 1.33 points/month for ALSFRS-R, 3.38 %/month for FVC).
TAU_SCALES = {"alsfrs_r": (0.1, 0.25, 0.5, 1.0), "fvc": (0.5, 1.0, 2.0, 4.0)}

PRIMARY_TAU_SCALE = {"alsfrs_r": 0.5, "fvc": 2.0}

WIDE_MU_SD = {"alsfrs_r": 10.0, "fvc": 30.0}  # a "very wide" proper normal prior on mu, next to the flat one

PETROU_SOURCES = {
    "neuronews": "https://neuronewsinternational.com/nurown-demonstrates-a-statistically-significant-effect-in-als-patients/",
    "neurologyadvisor": "https://www.neurologyadvisor.com/topics/neuromuscular-disorders/mesenchymal-neurotrophic-growth-factor-cells-may-slow-als/2/",
}
