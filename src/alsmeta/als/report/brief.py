"""The report's first section, "In brief": the verdicts a reader needs, each linking down to its full card.

A patient's relative should learn what the evidence shows about benefit and
harm without scrolling past the 2021 paper's bookkeeping counts. The section
repeats, in a few lines, what the full cards below say: the 2021 efficacy
claims (slower ALSFRS-R decline after intrathecal MSC, its transience, FVC)
with their verdicts and primary estimates, the state of the Cochrane review
(2016, 2019, the 2026 living update), the public claims' verdict counts and
what a definitive trial needs. Every sentence and number comes from
``figures/results.json`` (or, for a published claim's wording and value, from
``data/claims.csv``); nothing here computes a statistic or words a verdict of
its own. A part the section needs but results.json lacks is an error, never a
silent gap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from alsmeta.als.report.display import Link, fmt, interval, lookup
from alsmeta.als.report.links import provenance_links, recorded_sources
from alsmeta.als.report.provenance import ProvenanceIndex
from alsmeta.validation import AlsmetaInputError

BRIEF_PARTS = {
    "it_msc_transient_alsfrs_benefit": ("positive effect", "transience"),
    "fvc_worse_all": ("intrathecal MSC",),
}
"""Efficacy claims of the 2021 paper shown in brief, with the parts (matched by their start) the section cannot
do without. Every part of a shown claim is shown, in the card's order: a part left out could leave a reader with a
sub-verdict that the claim's overall verdict does not support."""

HEADLINE = "msc2021/headline/it_msc_alsfrs_r_first_follow_up"
"""results.json entry of the rebuilt ALSFRS-R effect: its scope, studies and the z alternative."""

TRANSIENCE = "msc2021/transience"
"""results.json entry of the randomised window increments of Oh 2018 (the transience part)."""

TRANSIENCE_HEADLINE = "msc2021/headline/transience_oh2018"
"""results.json entry of the transience headline: increments per window and the correlation's assumptions."""

DEFINITIVE_TRIAL = "definitive_trial/at_least_n_per_arm"
"""results.json entry of the sample size a definitive trial needs, with its sentence."""

LIVING_CARD = "cochrane-living"
"""Anchor of the card of the 2026 living update."""


@dataclass(frozen=True)
class Check:
    """A published count or claim of a review beside its reproduced value."""

    claim: str
    published: str
    claim_link: Link
    reproduced: str
    check: str


@dataclass(frozen=True)
class BriefPoint:
    """One verdict shown in brief.

    Attributes
    ----------
    label : str
        What is judged: a claim's own wording (``data/claims.csv``), a part of
        it as results.json names it, or a section's title.
    verdict : str
        The verdict of results.json ('' when the point reports state, not a verdict).
    lines : tuple of str
        What the numbers show: sentences made of results.json text and numbers.
    href : str
        The full card (or a claim part's row of it) on this page (``#msc2021-fvc_worse_all``).
    links : tuple of Link
        The data rows behind the point (its provenance rows).
    notes : tuple of str
        What the shown numbers rest on (scope, data, assumptions, alternatives), in the same way.
    parts : tuple of BriefPoint
        The decisive parts of a claim, each with its primary estimate.
    checks : tuple of Check
        A review's published counts and claims beside the reproduced values.
    counts : tuple of (str, int)
        Verdicts and how many claims received each.
    """

    label: str
    verdict: str
    lines: tuple[str, ...]
    href: str
    links: tuple[Link, ...]
    notes: tuple[str, ...] = ()
    parts: tuple[BriefPoint, ...] = ()
    checks: tuple[Check, ...] = ()
    counts: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Brief:
    """The "In brief" section: the 2021 efficacy claims, the Cochrane reviews, the public claims, the trial needed."""

    msc2021: tuple[BriefPoint, ...]
    cochrane: tuple[BriefPoint, ...]
    public: BriefPoint
    trial: BriefPoint


def _required(results: Mapping[str, Any], path: str) -> Any:
    value = lookup(results, path)
    if value is None:
        raise AlsmetaInputError(
            f"results.json: {path}: missing (the report's 'In brief' section needs it); run `alsmeta reproduce` again"
        )
    return value


def _part(claim: Mapping[str, Any], start: str) -> Mapping[str, Any]:
    for part in claim["parts"]:
        if part["component"].startswith(start):
            return part
    raise AlsmetaInputError(
        f"results.json: msc2021/claims: no part '{start}...' of claim {claim['id']} "
        "(the report's 'In brief' section needs it); run `alsmeta reproduce` again"
    )


def _primary(part: Mapping[str, Any]) -> tuple[str, ...]:
    if not part["analysis"]:
        return (f"{part['shows']}.",)
    return (f"Primary analysis ({part['analysis']}): {part['shows']}.",)


def _effect_notes(results: Mapping[str, Any]) -> tuple[str, ...]:
    headline = _required(results, HEADLINE)
    z = headline["z_alternative"]
    return (
        f"What this estimate is a property of: {headline['scope']}; studies: {headline['studies']}.",
        f"Alternative, reported beside the verdict and not deciding it: {z['analysis']}: "
        f"{interval(z['estimate'], z['ci_low'], z['ci_high'])} {headline['primary']['unit']}.",
    )


def _transience(results: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """What the transience part shows (the window increments) and what it rests on (data, assumptions)."""
    transience = _required(results, TRANSIENCE)
    headline = _required(results, TRANSIENCE_HEADLINE)
    unit = _required(results, HEADLINE)["primary"]["unit"]
    first, last = transience["derived_r"]["windows"][0], transience["derived_r"]["windows"][-1]
    r_low, r_high = transience["r_range"]
    early, late = headline["gain_per_month_0_4"], headline["gain_per_month_4_6"]
    by_r = {
        "r0": f"r = {fmt(r_low)}",
        "r_derived": f"derived r ({fmt(headline['r_derived'])})",
        "r1": f"r = {fmt(r_high)}",
    }
    bounds = "; ".join(
        f"{name}: {fmt(late[key]['ci_low'])} to {fmt(late[key]['ci_high'])}" for key, name in by_r.items()
    )
    shows = (
        f"Gain of the cells over control in {unit}: months {fmt(first['start'])} to {fmt(first['end'])}: "
        f"{interval(early['estimate'], early['ci_low'], early['ci_high'])}; months {fmt(last['start'])} to "
        f"{fmt(last['end'])}: {fmt(late['r0']['estimate'])}, 95% CI by the unreported correlation r: {bounds}.",
    )
    notes = (f"Data: {transience['design']}.", f"Assumptions: {'; '.join(headline['assumptions'])}.")
    return shows, notes


def _msc2021_points(results: Mapping[str, Any], claims: Sequence[Mapping[str, Any]]) -> tuple[BriefPoint, ...]:
    points = []
    for claim in claims:
        starts = BRIEF_PARTS.get(claim["id"])
        if starts is None:
            continue
        href = f"#msc2021-{claim['id']}"
        overall = _part(claim, "overall")
        for start in starts:  # the parts the section cannot do without
            _part(claim, start)
        parts = []
        for part in claim["parts"]:
            if part is overall:
                continue
            if part["component"].startswith("positive effect"):
                lines, notes = _primary(part), _effect_notes(results)
            elif part["component"].startswith("transience"):
                lines, notes = _transience(results)
            else:
                lines, notes = _primary(part), (f"Why: {part['reason']}.",)
            parts.append(
                BriefPoint(part["component"], part["verdict"], lines, f"#{part['anchor']}", tuple(part["links"]), notes)
            )
        points.append(
            BriefPoint(
                claim["claim"],
                claim["verdict"],
                (f"{overall['shows']}.",),
                href,
                tuple(dict.fromkeys([claim["claim_link"], *overall["links"]])),
                notes=(f"Why: {overall['reason']}.",),
                parts=tuple(parts),
            )
        )
    missing = sorted(set(BRIEF_PARTS) - {claim["id"] for claim in claims})
    if missing:
        raise AlsmetaInputError(f"data/claims.csv: no msc2021 claim {', '.join(missing)} (the 'In brief' section)")
    return tuple(points)


def _cochrane_points(
    reviews: Sequence[Mapping[str, Any]], living_sentence: str, living_links: Sequence[Link]
) -> tuple[BriefPoint, ...]:
    points = [
        BriefPoint(
            review["title"],
            "",
            (),
            f"#{review['anchor']}",
            tuple(review["sentence_links"]),
            checks=tuple(
                Check(row["claim"], row["published"], row["claim_link"], row["reproduced"], row["check"])
                for row in review["claims"]
            ),
        )
        for review in reviews
    ]
    if not living_sentence:
        raise AlsmetaInputError(
            "results.json: cochrane_living_2026/readme_sentence: missing (the 'In brief' section needs it); "
            "run `alsmeta reproduce` again"
        )
    points.append(
        BriefPoint(
            "Living update (evidence as of 2026)", "", (living_sentence,), f"#{LIVING_CARD}", tuple(living_links)
        )
    )
    return tuple(points)


def build_brief(
    results: Mapping[str, Any],
    index: ProvenanceIndex,
    *,
    msc2021_claims: Sequence[Mapping[str, Any]],
    cochrane: Sequence[Mapping[str, Any]],
    living_sentence: str,
    living_links: Sequence[Link],
    public_claims: Sequence[Mapping[str, Any]],
    trial_title: str,
    trial_href: str,
) -> Brief:
    """The "In brief" section from results.json and the full cards the report shows below it.

    Parameters
    ----------
    results : mapping
        The whole of ``figures/results.json``.
    index : ProvenanceIndex
        The rows of ``data/`` (for the provenance links of the trial sentence).
    msc2021_claims, cochrane, public_claims : sequences of mappings
        The cards of the 2021 claims, the Cochrane reviews and the public
        claims, as the report shows them (their verdicts, texts and links are reused).
    living_sentence : str
        The 2026 living update's sentence, with ``living_links`` its data rows.
    trial_title, trial_href : str
        Title of the section on a definitive trial and its anchor on the page (``#figs-definitive_trial``).

    Returns
    -------
    Brief

    Raises
    ------
    AlsmetaInputError
        If results.json lacks an entry the section shows (naming its path).
    """
    counts = _required(results, "claims/verdict_counts")
    public = BriefPoint(
        "Public claims (patient-information and clinic pages)",
        "",
        (),
        "#claims-public",
        tuple(claim["claim_link"] for claim in public_claims if claim["claim_link"] is not None),
        counts=tuple(sorted((str(verdict), int(n)) for verdict, n in counts.items())),
    )
    trial_entry = _required(results, DEFINITIVE_TRIAL)
    sentence = str(_required(results, f"{DEFINITIVE_TRIAL}/readme_sentence"))
    trial = BriefPoint(
        trial_title,
        "",
        (sentence,),
        trial_href,
        tuple(
            provenance_links(index.provenance(sources=recorded_sources(DEFINITIVE_TRIAL, trial_entry), text=sentence))
        ),
    )
    return Brief(
        _msc2021_points(results, msc2021_claims),
        _cochrane_points(cochrane, living_sentence, living_links),
        public,
        trial,
    )
