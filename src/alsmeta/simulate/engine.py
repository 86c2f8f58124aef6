r"""Simulation engine: screen, enrol, follow and analyse many studies at once.

One *block* of studies is simulated as numpy arrays shaped (studies,
candidates, visits); there is no Python loop over patients. Each block draws
from its own random stream, ``SeedSequence(entropy, spawn_key=(..., block))``,
and the block size depends only on the design, so results are reproducible
from the seed and the first ``k`` studies of a longer run equal a shorter run
with the same seed. Memory is bounded by simulating one block at a time.

Enrolment: each study screens candidates in rounds; a candidate is eligible
if the design's rules hold for his observed screening and lead-in values and
he is alive and in the study at baseline. The first ``n_patients`` eligible
candidates are enrolled, in screening order.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from alsmeta.campaign import (
    CampaignOptions,
    Chunk,
    ResultArrays,
    campaign_options,
    chunks_of,
    completed_prefix,
    run_campaign,
)
from alsmeta.results import ResultMixin
from alsmeta.simulate import _checks as chk
from alsmeta.simulate.analysis import FloatArray, slopes, summarise_changes
from alsmeta.simulate.design import TrialDesign
from alsmeta.simulate.history import (
    NaturalHistory,
    hazard,
    observe,
    sample_curvatures,
    sample_levels,
    sample_rates,
    true_course,
)
from alsmeta.validation import AlsmetaInputError, AlsmetaWarning

IntArray = npt.NDArray[np.int64]
SeedLike = None | int | np.random.SeedSequence | np.random.Generator
ProgressLike = None | bool | Callable[[int, int], Any]

BLOCK_ELEMENTS = 2**19
"""Target number of (study x patient x visit) cells per block; sets the block size."""
MAX_STUDIES_PER_BLOCK = 256
ROUND_ELEMENTS = 2**21
"""Cap on (study x candidate x visit) cells screened in one round."""
MAX_SCREENED_PER_PATIENT = 1000
"""Screening stops with an error when a study has screened this many candidates per place."""
MIN_SCREENED_BEFORE_GIVING_UP = 20000
"""Screening stops with an error when this many candidates were screened and none was eligible."""
MIN_REPORTED_ONSET = 0.1
"""Reported months since onset are at least this (guards DeltaFS against recall error)."""


# -- results ---------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class PatientData:
    """Per-patient arrays, shaped (studies, n_patients); NaN where not analysed.

    Attributes
    ----------
    true_rate : true slope :math:`r_i` (units/month).
    onset_to_baseline : true months from symptom onset to baseline.
    pre_slope, post_slope, change : observed slopes and their difference.
    change_noiseless : the same analysis of the noise-free course (same visits observed).
    analysed : bool, patient has both slopes.
    died, dropped : bool, death or dropout before the last follow-up visit.
    n_post_visits : observed follow-up visits.
    """

    true_rate: FloatArray
    onset_to_baseline: FloatArray
    pre_slope: FloatArray
    post_slope: FloatArray
    change: FloatArray
    change_noiseless: FloatArray
    analysed: npt.NDArray[np.bool_]
    died: npt.NDArray[np.bool_]
    dropped: npt.NDArray[np.bool_]
    n_post_visits: IntArray


_STUDY_FIELDS = (
    "n_enrolled",
    "n_analysed",
    "n_screened",
    "n_lost_lead_in",
    "n_died",
    "n_dropped",
    "mean_pre",
    "mean_post",
    "mean_change",
    "sd_change",
    "se_change",
    "t_statistic",
    "pvalue",
    "mean_change_noiseless",
)


@dataclass(frozen=True, eq=False)
class SimulationResult(ResultMixin):
    r"""Many simulated single-arm studies of one design under the null (no treatment effect).

    Study-level arrays have one entry per study. ``mean_change`` and
    ``se_change`` are what the study would report (``yi`` and ``sqrt(vi)`` of
    :func:`alsmeta.effects.measures.slope_change`); positive = apparent slowing.

    Attributes
    ----------
    history, design : the parameters simulated.
    seed : numpy.random.SeedSequence
        Pass it back as ``seed=`` to reproduce the run.
    n_requested : int
        Studies asked for; fewer are present if ``interrupted``.
    interrupted : bool
        The run was stopped (KeyboardInterrupt); the arrays hold the studies completed.
    n_enrolled, n_analysed : int arrays
        Patients enrolled, and analysed (both slopes available).
    n_screened, n_lost_lead_in : int arrays
        Candidates screened to fill the study, and candidates otherwise
        eligible at screening who died or dropped out during the lead-in.
    n_died, n_dropped : int arrays
        Enrolled patients who died / dropped out before the last follow-up visit.
    mean_pre, mean_post : arrays
        Mean pre- and post-treatment slopes of the analysed patients.
    mean_change, sd_change, se_change, t_statistic, pvalue : arrays
        The within-patient analysis (see :mod:`alsmeta.simulate.analysis`).
    mean_change_noiseless : array
        Mean change of the same patients without measurement error: the part
        due to the course's shape, floors and attrition rather than noise.
    patients : PatientData or None
        Per-patient arrays when ``keep_patients=True``.
    """

    history: NaturalHistory
    design: TrialDesign
    seed: np.random.SeedSequence
    n_requested: int
    interrupted: bool
    n_enrolled: IntArray
    n_analysed: IntArray
    n_screened: IntArray
    n_lost_lead_in: IntArray
    n_died: IntArray
    n_dropped: IntArray
    mean_pre: FloatArray
    mean_post: FloatArray
    mean_change: FloatArray
    sd_change: FloatArray
    se_change: FloatArray
    t_statistic: FloatArray
    pvalue: FloatArray
    mean_change_noiseless: FloatArray
    patients: PatientData | None = None

    @property
    def n_studies(self) -> int:
        return int(self.mean_change.shape[0])

    @property
    def yi(self) -> FloatArray:
        """Study effects for pooling: the mean slope change."""
        return self.mean_change

    @property
    def vi(self) -> FloatArray:
        """Their sampling variances, ``se_change**2``."""
        return self.se_change**2

    def apparent_benefit_rate(self, alpha: float = 0.05) -> float:
        """Share of studies reporting a significant slowing (p < ``alpha``, mean change > 0)."""
        a = chk.positive(alpha, "alpha")
        if self.n_studies == 0:
            return math.nan
        hit = np.nan_to_num(self.pvalue, nan=1.0) < a
        return float(np.mean(hit & (self.mean_change > 0)))

    def to_frame(self) -> Any:
        """One row per simulated study (a pandas DataFrame)."""
        import pandas as pd

        return pd.DataFrame({name: getattr(self, name) for name in _STUDY_FIELDS})


@dataclass(frozen=True, eq=False)
class MetaSimulationResult(ResultMixin):
    """Many simulated meta-analyses, each of one study per design.

    ``yi``, ``vi`` and ``mask`` are shaped (meta-analyses, designs) and go
    straight into :func:`alsmeta.pool_many`; ``mask`` is False where a study
    has fewer than 2 analysed patients or a zero variance (it would be
    excluded from a real meta-analysis too).
    """

    designs: tuple[TrialDesign, ...]
    studies: tuple[SimulationResult, ...]
    seed: np.random.SeedSequence
    n_requested: int
    interrupted: bool
    yi: FloatArray
    vi: FloatArray
    mask: npt.NDArray[np.bool_]

    @property
    def n_meta(self) -> int:
        return int(self.yi.shape[0])

    @property
    def labels(self) -> list[str]:
        names = [d.name for d in self.designs]
        return [f"{n} ({i + 1})" if names.count(n) > 1 else n for i, n in enumerate(names)]


# -- seeds and progress ---------------------------------------------------------------------


def _root_seed(seed: SeedLike) -> np.random.SeedSequence:
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(int(seed.integers(2**63)))
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)) and seed >= 0:
        return np.random.SeedSequence(int(seed))
    raise AlsmetaInputError(
        f"seed: expected None, a non-negative integer, a numpy SeedSequence or Generator; got {seed!r}"
    )


def _child(root: np.random.SeedSequence, *key: int) -> np.random.Generator:
    ss = np.random.SeedSequence(entropy=root.entropy, spawn_key=tuple(root.spawn_key) + tuple(key))
    return np.random.default_rng(ss)


def _seed_params(root: np.random.SeedSequence, *what: Any, **more: Any) -> dict[str, Any]:
    """What identifies a simulation campaign in its manifest: the seed and the parameters simulated."""
    return {"entropy": str(root.entropy), "spawn_key": list(root.spawn_key), "what": repr(what), **more}


# -- one block of studies ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    times: FloatArray
    pre_idx: npt.NDArray[np.intp]
    post_idx: npt.NDArray[np.intp]
    base_idx: int


def _plan(design: TrialDesign) -> _Plan:
    times = design.visit_times
    return _Plan(
        times=times,
        pre_idx=np.searchsorted(times, design.lead_in_visits),
        post_idx=np.searchsorted(times, design.follow_up_visits),
        base_idx=int(np.searchsorted(times, 0.0)),
    )


def _studies_per_block(design: TrialDesign) -> int:
    cells = design.n_patients * design.visit_times.size * 2
    k = 2 ** math.floor(math.log2(max(BLOCK_ELEMENTS / cells, 1.0)))
    return int(min(MAX_STUDIES_PER_BLOCK, max(1, k)))


def _onset_to_screening(design: TrialDesign, rng: np.random.Generator, size: tuple[int, ...]) -> FloatArray:
    mean, sd = design.onset_to_screening_mean, design.onset_to_screening_sd
    if sd == 0:
        return np.full(size, float(mean))
    shape = (mean / sd) ** 2
    return rng.gamma(shape, sd**2 / mean, size)


def _attrition(
    history: NaturalHistory,
    times: FloatArray,
    mu: FloatArray,
    rate: FloatArray,
    rng: np.random.Generator,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Visits observed, died, dropped: competing hazards from screening (trapezoidal rule)."""
    n_visits = times.size
    dt = np.diff(times)
    reached = {}
    for kind in ("death", "dropout"):
        if getattr(history, f"{kind}_rate") == 0:
            reached[kind] = np.full(rate.shape, n_visits)
            continue
        h = hazard(history, mu, rate[..., None], kind)
        cum = np.concatenate(
            [np.zeros(rate.shape + (1,)), np.cumsum((h[..., :-1] + h[..., 1:]) / 2 * dt, axis=-1)], axis=-1
        )
        reached[kind] = (cum < rng.standard_exponential(rate.shape)[..., None]).sum(axis=-1)
    k_death, k_drop = reached["death"], reached["dropout"]
    observed = np.arange(n_visits) < np.minimum(k_death, k_drop)[..., None]
    died = (k_death < n_visits) & (k_death <= k_drop)
    dropped = (k_drop < n_visits) & (k_drop < k_death)
    return observed, died, dropped


def _pre_slope(
    history: NaturalHistory,
    design: TrialDesign,
    plan: _Plan,
    values: FloatArray,
    onset_months: FloatArray,
) -> FloatArray:
    """Pre-treatment slope of each candidate; ``onset_months`` = months from onset to screening."""
    if design.pre_slope == "onset":
        to_baseline = onset_months - plan.times[0]
        return (values[..., plan.base_idx] - float(history.onset_value)) / to_baseline  # type: ignore[arg-type]
    return slopes(design.pre_slope, plan.times[plan.pre_idx], values[..., plan.pre_idx])


def _within(x: FloatArray, bounds: tuple[float, float]) -> npt.NDArray[np.bool_]:
    return (x >= bounds[0]) & (x <= bounds[1])


def _candidates(
    history: NaturalHistory,
    design: TrialDesign,
    plan: _Plan,
    rng: np.random.Generator,
    size: tuple[int, int],
) -> dict[str, np.ndarray]:
    """Screen ``size`` = (studies, candidates) patients: their data and eligibility."""
    onset = _onset_to_screening(design, rng, size)
    reported = onset
    if design.onset_recall_sd > 0:
        reported = onset + design.onset_recall_sd * rng.standard_normal(size)
    reported = np.maximum(reported, MIN_REPORTED_ONSET)
    rate = sample_rates(history, rng, size)
    curvature = sample_curvatures(history, rng, size)
    level = sample_levels(history, rng, size)
    months = onset[..., None] + (plan.times - plan.times[0])
    mu = true_course(history, rate[..., None], curvature[..., None], level[..., None], months)
    y = observe(history, mu, rng)
    observed, died, dropped = _attrition(history, plan.times, mu, rate, rng)

    screen = y[..., 0]
    ok = _within(screen, (design.min_score, design.max_score))
    ok &= _within(reported, (design.min_months_since_onset, design.max_months_since_onset))
    if design.delta_fs_range != (-math.inf, math.inf):
        ok &= _within((screen - float(history.onset_value)) / reported, design.delta_fs_range)  # type: ignore[arg-type]
    at_baseline = observed[..., plan.base_idx]
    pre = _pre_slope(history, design, plan, y, reported)
    eligible = ok & at_baseline
    eligible &= screen - y[..., plan.base_idx] >= design.min_lead_in_decline
    eligible &= _within(pre, design.pre_slope_range)
    return {
        "rate": rate,
        "onset": onset,
        "y": y,
        "mu": mu,
        "observed": observed,
        "died": died,
        "dropped": dropped,
        "pre": pre,
        "pre_true": _pre_slope(history, design, plan, mu, onset),
        "eligible": eligible,
        "lost": ok & ~at_baseline,
    }


_KEPT = ("rate", "onset", "y", "mu", "observed", "died", "dropped", "pre", "pre_true")


def _eligibility_error(design: TrialDesign, screened: int, found: int) -> AlsmetaInputError:
    rules = ", ".join(f"{k}={v!r}" for k, v in design.eligibility.items()) or "baseline attendance only"
    return AlsmetaInputError(
        f"eligibility: only {found} of {screened} screened candidates met the criteria of design "
        f"{design.name!r} ({rules}); relax them or change the natural history"
    )


def _take_first_eligible(
    chosen: dict[str, np.ndarray],
    cand: dict[str, np.ndarray],
    active: IntArray,
    have: IntArray,
    n: int,
) -> tuple[IntArray, IntArray]:
    """Copy each active study's first eligible candidates into its free places (in screening order).

    Returns the number taken per active study and the 1-based column of the last one taken (0 if none).
    """
    need = n - have[active]
    eligible = cand["eligible"]
    rank = np.cumsum(eligible, axis=1)
    take = eligible & (rank <= need[:, None])
    rows, cols = np.nonzero(take)
    slot = have[active[rows]] + rank[rows, cols] - 1
    for key in _KEPT:
        src = cand[key]
        if key not in chosen:
            chosen[key] = np.zeros((have.size, n) + src.shape[2:], src.dtype)
        chosen[key][active[rows], slot] = src[rows, cols]
    got = take.sum(axis=1)
    last = (take * np.arange(1, take.shape[1] + 1)).max(axis=1)
    return got, last


def _enrol(
    history: NaturalHistory,
    design: TrialDesign,
    plan: _Plan,
    rng: np.random.Generator,
    n_studies: int,
) -> tuple[dict[str, np.ndarray], IntArray, IntArray]:
    """Screen in rounds until every study has ``n_patients`` eligible; return them in screening order.

    Also returns, per study, the candidates screened up to the last one enrolled and, among them,
    those who met the screening rules but were lost before baseline.
    """
    n = design.n_patients
    have = np.zeros(n_studies, np.int64)
    screened = np.zeros(n_studies, np.int64)
    lost = np.zeros(n_studies, np.int64)
    chosen: dict[str, np.ndarray] = {}
    rate_hat, generated, found = 1.0, 0, 0
    while (have < n).any():
        active = np.flatnonzero(have < n)
        wanted = math.ceil((n - have[active]).max() / max(rate_hat, 1e-3) * 1.2) + 4
        m = int(min(wanted, max(ROUND_ELEMENTS // (active.size * plan.times.size), 8)))
        cand = _candidates(history, design, plan, rng, (active.size, m))
        got, last = _take_first_eligible(chosen, cand, active, have, n)
        considered = np.arange(m) < np.where(have[active] + got >= n, last, m)[:, None]
        screened[active] += considered.sum(axis=1)
        lost[active] += (considered & cand["lost"]).sum(axis=1)
        have[active] += got
        rate_hat = float(cand["eligible"].mean())
        generated, found = generated + cand["eligible"].size, found + int(cand["eligible"].sum())
        if found == 0 and generated >= MIN_SCREENED_BEFORE_GIVING_UP:
            raise _eligibility_error(design, generated, found)
        worst = int(np.argmax(np.where(have < n, screened, -1)))
        if have[worst] < n and screened[worst] > MAX_SCREENED_PER_PATIENT * n:
            raise _eligibility_error(design, int(screened[worst]), int(have[worst]))
    return chosen, screened, lost


def _mean_analysed(x: FloatArray, analysed: npt.NDArray[np.bool_]) -> FloatArray:
    """Mean over the analysed patients of each study (NaN if none)."""
    n = analysed.sum(axis=1)
    total = np.where(analysed, x, 0.0).sum(axis=1)
    return np.where(n > 0, total / np.maximum(n, 1), np.nan)


def _simulate_block(
    history: NaturalHistory,
    design: TrialDesign,
    plan: _Plan,
    rng: np.random.Generator,
    n_studies: int,
    keep_patients: bool,
) -> dict[str, Any]:
    c, screened, lost = _enrol(history, design, plan, rng, n_studies)
    post_times = plan.times[plan.post_idx]
    seen = c["observed"][..., plan.post_idx]
    post = slopes(design.post_slope, post_times, c["y"][..., plan.post_idx], seen, design.min_post_visits)
    post_true = slopes(design.post_slope, post_times, c["mu"][..., plan.post_idx], seen, design.min_post_visits)
    change = post - c["pre"]
    analysed = np.isfinite(change)
    change_true = np.where(analysed, post_true - c["pre_true"], np.nan)
    summary = summarise_changes(change)
    out: dict[str, Any] = {
        "n_enrolled": np.full(n_studies, design.n_patients, np.int64),
        "n_analysed": summary.n,
        "n_screened": screened,
        "n_lost_lead_in": lost,
        "n_died": c["died"].sum(axis=1).astype(np.int64),
        "n_dropped": c["dropped"].sum(axis=1).astype(np.int64),
        "mean_pre": _mean_analysed(c["pre"], analysed),
        "mean_post": _mean_analysed(post, analysed),
        "mean_change": summary.mean,
        "sd_change": summary.sd,
        "se_change": summary.se,
        "t_statistic": summary.t_statistic,
        "pvalue": summary.pvalue,
        "mean_change_noiseless": _mean_analysed(change_true, analysed),
    }
    if keep_patients:
        out["patients"] = {
            "true_rate": c["rate"],
            "onset_to_baseline": c["onset"] - plan.times[0],
            "pre_slope": np.where(analysed, c["pre"], np.nan),
            "post_slope": np.where(analysed, post, np.nan),
            "change": change,
            "change_noiseless": change_true,
            "analysed": analysed,
            "died": c["died"],
            "dropped": c["dropped"],
            "n_post_visits": seen.sum(axis=-1).astype(np.int64),
        }
    return out


# -- public runners ---------------------------------------------------------------------------


def _check_pair(history: Any, design: Any) -> None:
    if not isinstance(history, NaturalHistory):
        raise AlsmetaInputError(f"history: expected a NaturalHistory, got {type(history).__name__}")
    if not isinstance(design, TrialDesign):
        raise AlsmetaInputError(f"design: expected a TrialDesign, got {type(design).__name__}")
    if history.onset_value is None:
        if design.pre_slope == "onset":
            raise AlsmetaInputError(
                f"pre_slope: 'onset' needs an onset-anchored outcome, but {history.name} has onset_value=None"
            )
        if design.delta_fs_range != (-math.inf, math.inf):
            raise AlsmetaInputError(f"delta_fs_range: needs an onset-anchored outcome, {history.name} has none")


def _assemble(arrays: Mapping[str, np.ndarray], prefix: str = "") -> dict[str, Any]:
    """The fields of a :class:`SimulationResult` from the flat result arrays (``prefix`` + name)."""
    fields: dict[str, Any] = {}
    for name in _STUDY_FIELDS:
        empty = np.zeros(0, np.int64 if name.startswith("n_") else float)  # no chunk completed
        fields[name] = arrays.get(prefix + name, empty)
    patient = {k.removeprefix(prefix + _PATIENT): a for k, a in arrays.items() if k.startswith(prefix + _PATIENT)}
    if patient:
        fields["patients"] = PatientData(**patient)
    return fields


_PATIENT = "patients."


def _simulate_blocks(
    history: NaturalHistory,
    design: TrialDesign,
    root: np.random.SeedSequence,
    key: tuple[int, ...],
    keep_patients: bool,
    first: int,
    stop: int,
    per_block: int,
) -> dict[str, np.ndarray]:
    """The task of one campaign chunk: blocks ``first:stop``, block ``b`` from the stream ``(*key, b)``.

    The streams depend on the block index only, so the studies are the same
    whichever chunk (and worker) simulates a block. Per-patient arrays come
    back flat as ``"patients.<name>"`` (one level, as a chunk file stores them).
    """
    plan = _plan(design)
    blocks = [
        _simulate_block(history, design, plan, _child(root, *key, b), per_block, keep_patients)
        for b in range(first, stop)
    ]
    flat: dict[str, np.ndarray] = {name: np.concatenate([o[name] for o in blocks]) for name in _STUDY_FIELDS}
    if keep_patients:
        for name in blocks[0]["patients"]:
            flat[_PATIENT + name] = np.concatenate([o["patients"][name] for o in blocks])
    return flat


def _simulate_meta_blocks(
    histories: tuple[NaturalHistory, ...],
    designs: tuple[TrialDesign, ...],
    root: np.random.SeedSequence,
    first: int,
    stop: int,
    per_block: int,
) -> dict[str, np.ndarray]:
    """Blocks ``first:stop`` of every design; design ``k``'s block ``b`` from the stream ``(k, b)``."""
    out: dict[str, np.ndarray] = {}
    for k, (h, d) in enumerate(zip(histories, designs, strict=True)):
        part = _simulate_blocks(h, d, root, (k,), False, first, stop, per_block)
        out.update({f"{k}.{name}": arr for name, arr in part.items()})
    return out


def _meta_inputs(arrays: Mapping[str, np.ndarray], n_designs: int) -> dict[str, np.ndarray]:
    """A chunk's pooling inputs, shaped (meta-analyses, designs): ``yi``, ``vi`` and ``mask``.

    ``mask`` is False for a study with fewer than 2 analysed patients or a
    variance that is not finite and positive (a real meta-analysis would
    exclude it too).
    """
    yi = np.column_stack([arrays[f"{k}.mean_change"] for k in range(n_designs)])
    vi = np.column_stack([arrays[f"{k}.se_change"] for k in range(n_designs)]) ** 2
    n_an = np.column_stack([arrays[f"{k}.n_analysed"] for k in range(n_designs)])
    return {"yi": yi, "vi": vi, "mask": (n_an >= 2) & np.isfinite(vi) & (vi > 0)}


def _run_blocks(
    task: Callable[..., dict[str, np.ndarray]],
    args: tuple[Any, ...],
    total: int,
    per_block: int,
    *,
    chunk_size: int | None,
    options: CampaignOptions,
    job: str,
    params: dict[str, Any],
    progress: ProgressLike,
    unit: str,
    derive: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]] | None = None,
) -> tuple[dict[str, np.ndarray], bool]:
    """Run ``task(*args, first_block, stop_block, per_block)`` over chunks of whole blocks.

    Each chunk's arrays (and ``derive(arrays)``, computed per chunk) go into
    the result arrays as they arrive: in memory, or memory-mapped files
    under ``options.out`` (:class:`alsmeta.campaign.ResultArrays`), so the
    driver holds one chunk at a time. Returns the arrays of the studies
    completed before any interruption (all of them if none) and whether the
    run was interrupted.
    """
    size = per_block if chunk_size is None else chk.whole(chunk_size, "chunk_size", 1)
    chunks = chunks_of(total, size, align=per_block)
    finished: set[int] = set()

    def prepare(c: Chunk) -> tuple[Any, ...]:
        return (*args, c.start // per_block, math.ceil(c.stop / per_block), per_block)

    with ResultArrays(total, options.out) as store:

        def collect(c: Chunk, arrays: dict[str, np.ndarray]) -> None:
            kept = {name: a[: c.size] for name, a in arrays.items()}  # the last block may run past total
            store.write(c.start, kept)
            if derive is not None:
                store.write(c.start, derive(kept))
            finished.add(c.index)

        interrupted = False
        try:
            run_campaign(
                task,
                prepare,
                chunks,
                collect,
                options,
                job=job,
                params={**params, "per_block": per_block},
                progress=progress,
                unit=unit,
            )
        except KeyboardInterrupt:
            interrupted = True
        done = completed_prefix(chunks, finished)
        n_keep = chunks[done].start if done < len(chunks) else total
        store.blank_from(n_keep)
        return store.result(n_keep), interrupted


def _warn_interrupted(done: int, total: int) -> None:
    warnings.warn(
        f"simulation interrupted: returning the {done} of {total} studies completed (result.interrupted is True)",
        AlsmetaWarning,
        stacklevel=3,
    )


def simulate_trials(
    history: NaturalHistory,
    design: TrialDesign,
    n_studies: int = 1000,
    *,
    seed: SeedLike = None,
    keep_patients: bool = False,
    progress: ProgressLike = None,
    chunk_size: int | None = None,
    executor: str = "serial",
    workers: int | None = None,
    scheduler: str | None = None,
    out: str | Path | None = None,
) -> SimulationResult:
    """Simulate ``n_studies`` single-arm pre-post studies of one design under the null.

    Parameters
    ----------
    history : NaturalHistory
        The untreated course (e.g. ``NaturalHistory.alsfrs_r()``).
    design : TrialDesign
        Visits, slope methods and eligibility (e.g. ``design_preset("oh2018")``).
    n_studies : int
        Number of independent studies.
    seed : int, SeedSequence, Generator or None
        Reproducibility: the same seed gives the same studies (a Generator
        is advanced by one draw). ``result.seed`` reproduces a run made with
        ``seed=None``.
    keep_patients : bool
        Also return per-patient arrays (``result.patients``).
    progress : bool, callable or None
        Show progress on stderr (default: only when stderr is a terminal),
        or call ``progress(done, total)`` after each chunk.
    chunk_size : int, optional
        Studies per campaign chunk, rounded up to whole blocks (default one
        block, whose size depends only on the design).
    executor, workers, scheduler, out : optional
        Where the chunks run and stream to (see :func:`alsmeta.pool_many`
        and :mod:`alsmeta.campaign`). Each block draws from its own stream
        keyed by its index, so the studies are the same bytes whatever the
        executor, the workers and ``chunk_size``; ``out=DIR`` resumes a
        stopped run from the chunks written, and the result's arrays are
        then memory-mapped files under ``DIR/arrays`` (millions of studies
        never need to fit in memory).

    Returns
    -------
    SimulationResult
        If the run is interrupted (Ctrl-C, i.e. KeyboardInterrupt, also when
        raised by a ``progress`` callback), the studies completed so far,
        with ``interrupted=True`` and a warning.
    """
    _check_pair(history, design)
    total = chk.whole(n_studies, "n_studies", 1)
    keep = bool(keep_patients)
    root = _root_seed(seed)
    options = campaign_options(executor, workers, scheduler, out)
    per_block = _studies_per_block(design)
    arrays, interrupted = _run_blocks(
        _simulate_blocks,
        (history, design, root, (), keep),
        total,
        per_block,
        chunk_size=chunk_size,
        options=options,
        job=f"simulate {design.name}",
        params=_seed_params(root, history, design, keep=keep, n=total),
        progress=progress,
        unit="studies",
    )
    fields = _assemble(arrays)
    if interrupted:
        _warn_interrupted(len(fields["mean_change"]), total)
    return SimulationResult(
        history=history, design=design, seed=root, n_requested=total, interrupted=interrupted, **fields
    )


def simulate_meta_analyses(
    history: NaturalHistory | Sequence[NaturalHistory],
    designs: Sequence[TrialDesign],
    n_meta: int = 1000,
    *,
    seed: SeedLike = None,
    progress: ProgressLike = None,
    chunk_size: int | None = None,
    executor: str = "serial",
    workers: int | None = None,
    scheduler: str | None = None,
    out: str | Path | None = None,
) -> MetaSimulationResult:
    """Simulate ``n_meta`` meta-analyses, each pooling one fresh study of every design.

    ``history`` is one :class:`NaturalHistory` for all studies or one per
    design. Study ``k`` of meta-analysis ``i`` is independent of all others.
    Interruption (KeyboardInterrupt) keeps the meta-analyses completed for
    every design. See :func:`simulate_trials` for ``seed``, ``progress``,
    ``chunk_size`` (in meta-analyses) and the campaign arguments.
    """
    designs = tuple(designs)
    if not designs:
        raise AlsmetaInputError("designs: at least one TrialDesign is needed")
    histories = (history,) * len(designs) if isinstance(history, NaturalHistory) else tuple(history)
    if len(histories) != len(designs):
        raise AlsmetaInputError(f"history: {len(histories)} histories given for {len(designs)} designs")
    for h, d in zip(histories, designs, strict=True):
        _check_pair(h, d)
    total = chk.whole(n_meta, "n_meta", 1)
    root = _root_seed(seed)
    options = campaign_options(executor, workers, scheduler, out)
    per_block = min(_studies_per_block(d) for d in designs)
    arrays, interrupted = _run_blocks(
        _simulate_meta_blocks,
        (histories, designs, root),
        total,
        per_block,
        chunk_size=chunk_size,
        options=options,
        job=f"simulate {len(designs)}-study meta-analyses",
        params=_seed_params(root, histories, designs, n=total),
        progress=progress,
        unit="meta-analyses",
        derive=partial(_meta_inputs, n_designs=len(designs)),
    )
    studies = tuple(
        SimulationResult(
            history=h, design=d, seed=root, n_requested=total, interrupted=interrupted, **_assemble(arrays, f"{k}.")
        )
        for k, (h, d) in enumerate(zip(histories, designs, strict=True))
    )
    n_keep = studies[0].n_studies
    if interrupted:
        _warn_interrupted(n_keep, total)
    empty = np.zeros((0, len(designs)))
    yi, vi = arrays.get("yi", empty), arrays.get("vi", empty)
    mask = arrays.get("mask", empty.astype(bool))
    return MetaSimulationResult(
        designs=designs, studies=studies, seed=root, n_requested=total, interrupted=interrupted, yi=yi, vi=vi, mask=mask
    )
