"""Validation of the curated evidence tables (``alsmeta validate-data``).

Every problem is reported with the file, the CSV line number (the header is
line 1) and the column, so that a curator can go straight to the cell.
Beyond the per-column schema the rules are about honesty of the data:

* a value is empty exactly when its status is ``not_found`` (nothing filled
  in, nothing missing without saying so);
* every row names a source URL unless it was ``derived`` by us, in which case
  the note must say how;
* ``relation`` is given exactly when a value is (``<`` for "p<0.02");
* counts are whole numbers >= 0, SDs and SEs are > 0;
* study identifiers refer to rows of ``studies.csv``; keys are unique;
* a ``verified`` row was read in the primary source, so its source URL must
  be on a primary source domain listed in ``source_domains.csv`` (publisher,
  journal, PubMed/PMC, trial registry, Cochrane, regulator). A mirror,
  aggregator, library catalogue or news page makes a row ``secondary``, however
  faithful the copy. The exception is a public claim (``claims.csv`` synthesis
  ``public``): the page that makes the claim is its own primary source.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd

from alsmeta.als.schema import ALL_TABLES, ROB2_DOMAINS, ROB2_JUDGEMENTS, SOURCE_DOMAINS, ColumnSpec, TableSchema
from alsmeta.validation import AlsmetaInputError

_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")
_ID = re.compile(r"^[a-z0-9_]+$")
_DOMAIN = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+$")
_CLAIMANT_IS_SOURCE = ("public",)
"""claims.csv syntheses whose rows record a claim as published on a page: that page is the primary source."""
_COUNT_STATISTICS = ("n", "events")
_POSITIVE_STATISTICS = ("sd", "se")


@dataclass(frozen=True)
class DataIssue:
    """One problem in one cell (or row, when ``column`` is empty)."""

    file: str
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}, line {self.line}" + (f", column {self.column!r}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class SourceDomains:
    """Which web domains are primary sources (``data/source_domains.csv``).

    ``primary`` maps each listed domain to whether it is a primary source,
    ``reasons`` to why. A domain covers itself and its subdomains
    (``ncbi.nlm.nih.gov`` covers ``pmc.ncbi.nlm.nih.gov``); when several listed
    domains match a host, the longest (most specific) one decides.
    """

    primary: Mapping[str, bool]
    reasons: Mapping[str, str]

    def why_not_primary(self, url: str) -> str | None:
        """None when ``url`` is on a primary domain, otherwise why it is not."""
        host = url_host(url)
        domain = longest_domain_match(host, self.primary)
        if domain is None:
            return f"{host!r} is not on the list of primary source domains"
        if not self.primary[domain]:
            return f"{host!r} is not a primary source ({self.reasons[domain]})"
        return None


def url_host(url: str) -> str:
    """The host of ``url``: lower case, without user, port or the DNS root dot."""
    return (urlparse(url).hostname or "").rstrip(".")


def longest_domain_match(host: str, domains: Iterable[str]) -> str | None:
    """The longest of ``domains`` that is ``host`` itself or a parent domain of it."""
    hits = [d for d in domains if host == d or host.endswith("." + d)]
    return max(hits, key=len) if hits else None


def source_domains_from_frame(frame: pd.DataFrame) -> SourceDomains:
    """Build :class:`SourceDomains` from the rows of ``source_domains.csv`` (invalid rows skipped;
    :func:`validate_data` reports them)."""
    ok = frame[frame["primary"].isin(("yes", "no"))]
    return SourceDomains(
        primary=dict(zip(ok["domain"], ok["primary"] == "yes", strict=True)),
        reasons=dict(zip(ok["domain"], ok["reason"], strict=True)),
    )


def read_table(path: Path) -> pd.DataFrame:
    """Read a data CSV with every cell as text (nothing coerced, blanks as '')."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def text_records(frame: pd.DataFrame) -> list[dict[str, str]]:
    """The rows of a table read by :func:`read_table`, as ``{column: text}`` dicts."""
    return [{str(k): str(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _check_cell(spec: ColumnSpec, text: str) -> str | None:
    if text == "":
        return "is empty but required" if spec.required else None
    if text != text.strip():
        return f"{text!r} has leading or trailing spaces"
    if spec.kind == "enum" and text not in spec.allowed:
        return f"{text!r} is not one of: {', '.join(a for a in spec.allowed if a)}"
    if spec.kind in ("number", "count"):
        try:
            value = float(text)
        except ValueError:
            return f"{text!r} is not a number"
        if spec.kind == "count" and (value < 0 or value != int(value)):
            return f"{text!r} is not a whole number >= 0"
    if spec.kind == "date" and not _DATE.match(text):
        return f"{text!r} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)"
    if spec.kind == "url" and not text.startswith(("http://", "https://")):
        return f"{text!r} is not an http(s) URL"
    if spec.kind == "domain" and not _DOMAIN.match(text):
        return f"{text!r} is not a lower-case domain name (no scheme, path or port)"
    return None


def validate_table(
    frame: pd.DataFrame,
    schema: TableSchema,
    known_studies: set[str] | None = None,
    source_domains: SourceDomains | None = None,
) -> list[DataIssue]:
    """Check one table against its schema and the provenance rules.

    The primary-domain rule for ``verified`` rows is applied when
    ``source_domains`` is given (:func:`validate_data` always gives it).
    """
    issues: list[DataIssue] = []
    f = schema.file
    missing = [c for c in schema.column_names if c not in frame.columns]
    extra = [c for c in frame.columns if c not in schema.column_names]
    for c in missing:
        issues.append(DataIssue(f, 1, c, "column is missing from the header"))
    for c in extra:
        issues.append(DataIssue(f, 1, c, "column is not in the schema (see data/README.md)"))
    if missing:
        return issues
    for i, row in enumerate(text_records(frame)):
        line = i + 2
        for spec in schema.columns:
            problem = _check_cell(spec, row[spec.name])
            if problem:
                issues.append(DataIssue(f, line, spec.name, problem))
        issues.extend(_row_rules(f, line, row, known_studies))
        if source_domains is not None:
            issues.extend(_primary_source_rule(f, line, row, source_domains))
    keys = frame[list(schema.key)].astype(str).agg("|".join, axis=1)
    for line in (keys[keys.duplicated(keep="first")].index + 2).tolist():
        issues.append(DataIssue(f, int(line), ",".join(schema.key), "duplicate key: " + keys[line - 2]))
    if f == "risk_of_bias.csv":
        issues.extend(_risk_of_bias_rules(frame))
    return issues


def _row_rules(f: str, line: int, row: dict[str, str], known_studies: set[str] | None) -> list[DataIssue]:
    out: list[DataIssue] = []
    status = row.get("status", "")
    if "source_url" in row and row["source_url"] == "" and status not in ("derived", "not_found"):
        out.append(
            DataIssue(
                f,
                line,
                "source_url",
                f"is empty; only derived rows and not_found rows may lack a source (status is {status!r})",
            )
        )
    if status == "derived" and row.get("note", "") == "":
        out.append(DataIssue(f, line, "note", "derived rows must say how they were derived"))
    if "study_id" in row and row["study_id"] and not _ID.match(row["study_id"]):
        out.append(DataIssue(f, line, "study_id", f"{row['study_id']!r} must be lower-case letters, digits and _"))
    if known_studies is not None and row.get("study_id") and row["study_id"] not in known_studies:
        out.append(DataIssue(f, line, "study_id", f"{row['study_id']!r} is not a study_id in studies.csv"))
    if "value" in row and "statistic" in row:
        out.extend(_value_rules(f, line, row))
    if f == "claims.csv" and row["quantity"] in ("count", "estimate") and row["value"] == "":
        out.append(DataIssue(f, line, "value", f"a {row['quantity']} claim needs its number"))
    if f == "screening.csv":
        needs_reason = row["decision"] in ("excluded", "awaiting_classification")
        if needs_reason and row["reason"] == "":
            out.append(DataIssue(f, line, "reason", f"a {row['decision']} study needs a reason"))
        if not needs_reason and row["reason"] != "":
            out.append(DataIssue(f, line, "reason", f"an {row['decision']} study takes no exclusion reason"))
    return out


def _primary_source_rule(f: str, line: int, row: dict[str, str], domains: SourceDomains) -> list[DataIssue]:
    if row.get("status") != "verified" or not row.get("source_url"):
        return []
    if f == "claims.csv" and row.get("synthesis") in _CLAIMANT_IS_SOURCE:
        return []
    problem = domains.why_not_primary(row["source_url"])
    if problem is None:
        return []
    return [
        DataIssue(
            f,
            line,
            "source_url",
            f"{problem}; a 'verified' row must have been read on a primary source "
            "(see source_domains.csv): relabel it 'secondary' and say in the note where it was read, "
            "or cite the primary location where it was read",
        )
    ]


def _value_rules(f: str, line: int, row: dict[str, str]) -> list[DataIssue]:
    out: list[DataIssue] = []
    value, status, relation = row["value"], row["status"], row["relation"]
    if value == "" and status != "not_found":
        out.append(
            DataIssue(
                f, line, "value", f"is empty but status is {status!r}; a missing number must have status 'not_found'"
            )
        )
    if value != "" and status == "not_found":
        out.append(DataIssue(f, line, "value", "has a number but status is 'not_found'"))
    if value != "" and relation == "":
        out.append(DataIssue(f, line, "relation", "is empty; use '=' for an exact value or '<'/'>' for a bound"))
    if value == "" and relation != "":
        out.append(DataIssue(f, line, "relation", "is given for an empty value"))
    if value != "":
        try:
            x = float(value)
        except ValueError:
            return out  # reported by the column check
        if row["statistic"] in _COUNT_STATISTICS and (x < 0 or x != int(x)):
            out.append(
                DataIssue(f, line, "value", f"{value!r} is a {row['statistic']} and must be a whole number >= 0")
            )
        if row["statistic"] in _POSITIVE_STATISTICS and x <= 0:
            out.append(DataIssue(f, line, "value", f"{value!r} is a {row['statistic']} and must be > 0"))
        if row["statistic"] in ("p", "p_one_sided") and not 0 <= x <= 1:
            out.append(DataIssue(f, line, "value", f"{value!r} is a p-value and must lie in [0, 1]"))
    return out


def _risk_of_bias_rules(frame: pd.DataFrame) -> list[DataIssue]:
    """RoB 2 (Sterne et al. 2019) rules across the rows of one assessed result.

    Every assessed result (review version, study, outcome) has all five domains
    and the overall judgement; domain rows give their signalling answers and
    the overall row none; the overall judgement follows RoB 2's algorithm:
    low only if every domain is low, high if any domain is high, otherwise
    some concerns or (a judgement the reason must explain) high.
    """
    f = "risk_of_bias.csv"
    out: list[DataIssue] = []
    rank = {j: i for i, j in enumerate(ROB2_JUDGEMENTS)}
    rows = frame.reset_index(drop=True)
    for line, row in zip(rows.index + 2, text_records(rows), strict=True):
        overall = row["domain"] == "overall"
        if overall and row["signalling"] != "":
            out.append(DataIssue(f, int(line), "signalling", "the overall judgement has no signalling questions"))
        if not overall and row["domain"] in ROB2_DOMAINS and row["signalling"] == "":
            out.append(DataIssue(f, int(line), "signalling", "give the signalling answers the judgement rests on"))
    for key, group in rows.groupby(["review_version", "study_id", "outcome"], sort=True):
        first = int(group.index[0]) + 2
        missing = [d for d in ROB2_DOMAINS if d not in set(group["domain"])]
        if missing:
            out.append(DataIssue(f, first, "domain", f"{'/'.join(key)} lacks RoB 2 domain(s): {', '.join(missing)}"))
            continue
        judged = dict(zip(group["domain"], group["judgement"], strict=True))
        if any(j not in rank for j in judged.values()):
            continue  # reported by the column check
        worst = max((judged[d] for d in ROB2_DOMAINS[:-1]), key=rank.__getitem__)
        overall = judged["overall"]
        line = int(group.index[list(group["domain"]).index("overall")]) + 2
        if rank[overall] < rank[worst] or (worst == "low" and overall != "low"):
            out.append(
                DataIssue(
                    f, line, "judgement", f"overall {overall!r} does not follow RoB 2: the worst domain is {worst!r}"
                )
            )
    return out


def validate_data(data_dir: str | Path) -> list[DataIssue]:
    """Validate every table in ``data_dir``; returns all issues (empty when clean)."""
    root = Path(data_dir)
    issues: list[DataIssue] = []
    frames: dict[str, pd.DataFrame] = {}
    for schema in ALL_TABLES:
        path = root / schema.file
        if not path.is_file():
            issues.append(DataIssue(schema.file, 0, "", f"file is missing from {root}"))
            continue
        try:
            frames[schema.file] = read_table(path)
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            issues.append(DataIssue(schema.file, 0, "", f"cannot be parsed as CSV: {exc}"))
    studies = frames.get("studies.csv")
    known = set(studies["study_id"]) if studies is not None and "study_id" in studies else None
    domain_issues, domains = _read_source_domains(root)
    issues.extend(domain_issues)
    for schema in ALL_TABLES:
        if schema.file in frames:
            fk = known if schema.foreign_keys else None
            issues.extend(validate_table(frames[schema.file], schema, fk, domains))
    return issues


def _read_source_domains(root: Path) -> tuple[list[DataIssue], SourceDomains | None]:
    path = root / SOURCE_DOMAINS.file
    if not path.is_file():
        return [
            DataIssue(SOURCE_DOMAINS.file, 0, "", f"file is missing from {root}; without it no row can be verified")
        ], None
    try:
        frame = read_table(path)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        return [DataIssue(SOURCE_DOMAINS.file, 0, "", f"cannot be parsed as CSV: {exc}")], None
    issues = validate_table(frame, SOURCE_DOMAINS)
    if any(i.line == 1 for i in issues):  # header problems: the list cannot be read
        return issues, None
    return issues, source_domains_from_frame(frame)


def read_source_domains(data_dir: str | Path) -> SourceDomains:
    """The primary-source classification in ``data_dir/source_domains.csv``.

    Raises :class:`AlsmetaInputError` naming the file, line and column when
    the file is missing or invalid.
    """
    issues, domains = _read_source_domains(Path(data_dir))
    if issues or domains is None:
        listing = "\n".join(f"  {issue}" for issue in issues)
        raise AlsmetaInputError(f"{SOURCE_DOMAINS.file} in {data_dir} is not valid:\n{listing}")
    return domains


def check_data(data_dir: str | Path) -> None:
    """Raise :class:`AlsmetaInputError` listing every issue, if there is any."""
    issues = validate_data(data_dir)
    if issues:
        listing = "\n".join(f"  {issue}" for issue in issues)
        raise AlsmetaInputError(f"{len(issues)} problem(s) in {data_dir}:\n{listing}")
