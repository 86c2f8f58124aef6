"""The schema of the curated evidence tables in ``data/``.

One :class:`TableSchema` per CSV file: its columns, which must be filled, and
what values they may take. ``data/README.md`` documents the same schema for
readers; :mod:`alsmeta.als.validate` enforces it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

STATUSES = ("verified", "secondary", "derived", "inferred", "not_found")
"""verified: read in the primary source text; secondary: press release, news, registry mirror or
abstract mirror; derived: computed by us (the note gives the formula); inferred: reasoned, not
stated in any source; not_found: searched for and not retrievable (the value is left empty)."""

DESIGNS = (
    "rct",
    "within_patient_randomised",
    "within_patient_comparison",
    "single_arm",
    "external_control",
    "non_randomised",
    "withdrawn",
    "unknown",
)
PUBLICATION_STATUSES = ("published", "abstract", "registry_only", "results_press_release_only", "ongoing")
STATISTICS = (
    "n",
    "mean",
    "sd",
    "se",
    "md",
    "ci_low",
    "ci_high",
    "p",
    "p_one_sided",
    "events",
    "percent",
    "or",
    "rr",
    "hr",
    "ls_mean",
    "slope_pre",
    "slope_post",
    "median",
    "spread_unspecified",
    "unspecified",
)
DECISIONS = ("included", "ongoing", "excluded", "awaiting_classification")
REASONS = (
    "",
    "design",
    "comparator",
    "unit_of_randomisation",
    "population",
    "intervention",
    "no_results",
    "design_unknown",
)
EVENTS = (
    "registered",
    "started",
    "completed",
    "results_posted",
    "abstract_presented",
    "published",
    "topline_reported",
    "protocol_published",
    "regulatory_filing",
    "advisory_committee",
    "regulatory_approval",
)
SYNTHESES = ("msc2021", "cochrane_pub2", "cochrane_pub3", "aljabri2021", "public")
"""``public``: statements on patient-information and clinic web pages (issue 12); ``aljabri2021``: the
systematic review (Front Neurol 12:783122) that public pages cite as "Ammar et al. (2021)"."""
QUANTITIES = ("count", "direction", "estimate")
REVIEW_VERSIONS = ("pub2", "pub3", "living2026")
CLAIM_VERDICTS = ("reproduced", "contradicted", "not assessable", "overstated")
"""Verdicts on a claim: the three of :mod:`alsmeta.als.claims_check` plus ``overstated`` (a real
source exists, but it says less than the claim)."""
CRITERIA = (
    "search_date",
    "design",
    "population",
    "intervention",
    "comparator",
    "co_intervention",
    "unit_of_randomisation",
)


@dataclass(frozen=True)
class ColumnSpec:
    """One column: ``required`` means non-empty in every row; ``kind`` is
    ``text``, ``number``, ``count`` (whole number >= 0), ``date`` (YYYY,
    YYYY-MM or YYYY-MM-DD), ``url``, ``domain`` (a lower-case host name such
    as ``ncbi.nlm.nih.gov``, no scheme or path) or ``enum`` (one of
    ``allowed``)."""

    name: str
    kind: str = "text"
    required: bool = False
    allowed: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSchema:
    """One CSV file in ``data/``: its columns and its unique key."""

    file: str
    columns: tuple[ColumnSpec, ...]
    key: tuple[str, ...]
    description: str = ""
    foreign_keys: dict[str, str] = field(default_factory=dict)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


_PROVENANCE = (
    ColumnSpec("source_url", "url"),
    ColumnSpec("location", "text", required=True),
    ColumnSpec("status", "enum", required=True, allowed=STATUSES),
    ColumnSpec("note"),
)

STUDIES = TableSchema(
    file="studies.csv",
    description="one row per study, trial report or registry record named in the evidence notes",
    key=("study_id",),
    columns=(
        ColumnSpec("study_id", required=True),
        ColumnSpec("label", required=True),
        ColumnSpec("first_author"),
        ColumnSpec("year", "count"),
        ColumnSpec("journal"),
        ColumnSpec("citation"),
        ColumnSpec("doi"),
        ColumnSpec("pmid", "count"),
        ColumnSpec("pmcid"),
        ColumnSpec("registry_id"),
        ColumnSpec("design", "enum", required=True, allowed=DESIGNS),
        ColumnSpec("comparator", "enum", allowed=("", "placebo", "no_additional_treatment")),
        ColumnSpec("blinding"),
        ColumnSpec("cell_type"),
        ColumnSpec("cell_source"),
        ColumnSpec("route"),
        ColumnSpec("n_treated", "count"),
        ColumnSpec("n_control", "count"),
        ColumnSpec("n_note"),
        ColumnSpec("lead_in"),
        ColumnSpec("follow_up"),
        ColumnSpec("publication_status", "enum", required=True, allowed=PUBLICATION_STATUSES),
        *_PROVENANCE,
    ),
)

OUTCOMES = TableSchema(
    file="outcomes.csv",
    description="arm-level and comparison statistics in long form, one number per row",
    key=("study_id", "outcome", "timepoint", "arm", "statistic", "source_url"),
    foreign_keys={"study_id": "studies.csv"},
    columns=(
        ColumnSpec("study_id", required=True),
        ColumnSpec("outcome", required=True),
        ColumnSpec("timepoint", required=True),
        ColumnSpec("timepoint_months", "number"),
        ColumnSpec("arm", required=True),
        ColumnSpec("statistic", "enum", required=True, allowed=STATISTICS),
        ColumnSpec("relation", "enum", allowed=("", "=", "<", ">")),
        ColumnSpec("value", "number"),
        ColumnSpec("unit"),
        *_PROVENANCE,
    ),
)

CRITERIA_TABLE = TableSchema(
    file="criteria.csv",
    description="eligibility criteria of each review version, as data",
    key=("review_version", "criterion"),
    columns=(
        ColumnSpec("review_version", "enum", required=True, allowed=REVIEW_VERSIONS),
        ColumnSpec("criterion", "enum", required=True, allowed=CRITERIA),
        ColumnSpec("value", required=True),
        *_PROVENANCE,
    ),
)

SCREENING = TableSchema(
    file="screening.csv",
    description="each candidate's status in each review version",
    key=("review_version", "study_id"),
    foreign_keys={"study_id": "studies.csv"},
    columns=(
        ColumnSpec("review_version", "enum", required=True, allowed=REVIEW_VERSIONS),
        ColumnSpec("study_id", required=True),
        ColumnSpec("decision", "enum", required=True, allowed=DECISIONS),
        ColumnSpec("reason", "enum", allowed=REASONS),
        *_PROVENANCE,
    ),
)

TIMELINE = TableSchema(
    file="timeline.csv",
    description="dated events of each trial (start, results, publication), for screening at a search date",
    key=("study_id", "event"),
    foreign_keys={"study_id": "studies.csv"},
    columns=(
        ColumnSpec("study_id", required=True),
        ColumnSpec("event", "enum", required=True, allowed=EVENTS),
        ColumnSpec("date", "date", required=True),
        *_PROVENANCE,
    ),
)

CLAIMS = TableSchema(
    file="claims.csv",
    description="the published claims of both syntheses",
    key=("synthesis", "claim_id"),
    columns=(
        ColumnSpec("synthesis", "enum", required=True, allowed=SYNTHESES),
        ColumnSpec("claim_id", required=True),
        ColumnSpec("claim", required=True),
        ColumnSpec("quantity", "enum", required=True, allowed=QUANTITIES),
        ColumnSpec("value", "number"),
        *_PROVENANCE,
    ),
)

DIRECTIONS = ("improvement", "transient_improvement", "no_change", "worsening", "mixed", "unclear")

QUALITATIVE = TableSchema(
    file="qualitative.csv",
    description="results that the sources state only in words",
    key=("study_id", "outcome", "source_url"),
    foreign_keys={"study_id": "studies.csv"},
    columns=(
        ColumnSpec("study_id", required=True),
        ColumnSpec("outcome", required=True),
        ColumnSpec("direction", "enum", required=True, allowed=DIRECTIONS),
        ColumnSpec("statement", required=True),
        *_PROVENANCE,
    ),
)

PUBLIC_CLAIMS_REGISTER = TableSchema(
    file="public_claims.csv",
    description="the verdict register of the public claims (written to figures/claims/, not a data/ table)",
    key=("claim_id",),
    columns=(
        ColumnSpec("claim_id", required=True),
        ColumnSpec("claim", required=True),
        ColumnSpec("verdict", "enum", required=True, allowed=CLAIM_VERDICTS),
        ColumnSpec("reason", required=True),
        ColumnSpec("key_numbers"),
        ColumnSpec("sources"),
    ),
)

TABLES: tuple[TableSchema, ...] = (STUDIES, OUTCOMES, CRITERIA_TABLE, SCREENING, TIMELINE, CLAIMS, QUALITATIVE)
"""The evidence tables: every row carries provenance (source_url, location, status, note)."""

SOURCE_DOMAINS = TableSchema(
    file="source_domains.csv",
    description="which web domains are primary sources; a verified row's source_url must be on one",
    key=("domain",),
    columns=(
        ColumnSpec("domain", "domain", required=True),
        ColumnSpec("primary", "enum", required=True, allowed=("yes", "no")),
        ColumnSpec("kind", required=True),
        ColumnSpec("reason", required=True),
    ),
)
"""The classification of source domains (not an evidence table: it has no provenance columns).
A listed domain also covers its subdomains; the longest listed match decides."""


# ------------------------------------------------------------------ this project's own assessments
ROB2_DOMAINS = (
    "randomisation_process",
    "deviations_from_intended_interventions",
    "missing_outcome_data",
    "measurement_of_the_outcome",
    "selection_of_the_reported_result",
    "overall",
)
"""The five RoB 2 domains (Sterne et al. 2019, BMJ 366:l4898) and the overall judgement, in RoB 2's order."""
ROB2_JUDGEMENTS = ("low", "some_concerns", "high")
ASSESSMENT_STATUSES = ("assessed",)
"""assessed: a judgement made by this project from the sources (never a judgement of the reviews we reproduce)."""

RISK_OF_BIAS = TableSchema(
    file="risk_of_bias.csv",
    description="this project's RoB 2 assessment of each included RCT's result, one row per trial and domain",
    key=("review_version", "study_id", "outcome", "domain"),
    foreign_keys={"study_id": "studies.csv"},
    columns=(
        ColumnSpec("review_version", "enum", required=True, allowed=REVIEW_VERSIONS),
        ColumnSpec("study_id", required=True),
        ColumnSpec("outcome", required=True),
        ColumnSpec("timepoint", required=True),
        ColumnSpec("domain", "enum", required=True, allowed=ROB2_DOMAINS),
        ColumnSpec("judgement", "enum", required=True, allowed=ROB2_JUDGEMENTS),
        ColumnSpec("signalling"),
        ColumnSpec("reason", required=True),
        ColumnSpec("source_text", required=True),
        ColumnSpec("source_url", "url", required=True),
        ColumnSpec("location", required=True),
        ColumnSpec("status", "enum", required=True, allowed=ASSESSMENT_STATUSES),
        ColumnSpec("note"),
    ),
)

ASSESSMENTS: tuple[TableSchema, ...] = (RISK_OF_BIAS,)
"""Tables of this project's own judgements (status ``assessed``), validated with :data:`TABLES`."""
ALL_TABLES: tuple[TableSchema, ...] = TABLES + ASSESSMENTS
