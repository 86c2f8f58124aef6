"""No double rounding: a number printed from figures/results.json shows the digits of the analysis's unrounded value.

results.json stores floats to 10 significant digits. A value such as 0.5449999999999997 would be stored as 0.545,
which prints as 0.55 at 2 decimals while the analysis (formatting the unrounded value) prints 0.54. The store keeps
more digits where the 10-digit decimal would sit on a tie the value is not on (alsmeta.io.reporting.round_significant),
and every printer of results.json (the README block, the report) prints through format_stored, which refuses
digits the file does not settle. These tests check the store (every float, constructed ties, the known case),
the printers, and results.json itself: every number the README and the report print from it, and every stored
number of the analyses cheap enough to recompute here against its unrounded value.
"""

from __future__ import annotations

import json
import math
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alsmeta.als.cochrane.pub3 import CONTINUOUS, RESPONDERS, continuous_outcome, responder_outcome
from alsmeta.als.headlines import HeadlineError, lookup, render
from alsmeta.als.msc2021.transience import transience_analysis
from alsmeta.als.report import display
from alsmeta.als.tables import load_evidence
from alsmeta.cli import README_TEMPLATE
from alsmeta.io.reporting import dumps, format_stored
from alsmeta.jsonsafe import json_safe
from alsmeta.validation import AlsmetaInputError

ROOT = Path(__file__).resolve().parents[1]
RESULTS_TEXT = (ROOT / "figures" / "results.json").read_text(encoding="utf-8")
RESULTS = json.loads(RESULTS_TEXT)

PRINT_SPECS = (".0f", ".1f", ".2f", ".3f", ".0%", ".1%", ".2e", ".3g")
"""Formats a consumer may print a stored number with (the README's and the report's among them)."""


def stored(value: float) -> float:
    """``value`` as a consumer reads it back from a results file."""
    return json.loads(dumps({"x": value}))["x"]


def ten_digit_store(value: float) -> float:
    """The store before this fix: 10 significant digits, whatever the digits."""
    return float(f"{value:.10g}")


def template_specs() -> list[tuple[str, str]]:
    """(key path, format spec) of every placeholder of the README template."""
    template = (ROOT / README_TEMPLATE).read_text(encoding="utf-8")
    return [(field, spec) for _, field, spec, _ in string.Formatter().parse(template) if field]


def rounding_specs() -> set[str]:
    """The formats the README and the report round a number with (a spec without a type prints it as stored)."""
    return {spec for _, spec in template_specs() if spec[-1:] in ("f", "%", "e", "g")} | {display.NUMBER_FORMAT}


def float_leaves(node: Any, path: str = "") -> Iterator[tuple[str, float]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from float_leaves(value, f"{path}/{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from float_leaves(value, f"{path}/{i}")
    elif isinstance(node, float):
        yield path, node


# --- the known case, constructed -----------------------------------------------------------------------------------


def test_the_known_case_prints_the_unrounded_digits():
    value = 0.5449999999999997  # Oh 2018's slowing of the gain (msc2021/transience), as the analysis computes it
    assert f"{value:.2f}" == "0.54"
    assert f"{ten_digit_store(value):.2f}" == "0.55", "the failure this file guards against"
    assert f"{stored(value):.2f}" == "0.54"
    assert dumps({"x": value}) == '{\n  "x": 0.5449999999999997\n}\n'


def test_a_tie_made_by_the_ten_digit_rounding_keeps_one_more_digit():
    assert dumps({"x": 0.54499999997}) == '{\n  "x": 0.54499999997\n}\n'
    assert f"{stored(0.54499999997):.2f}" == f"{0.54499999997:.2f}" == "0.54"
    assert f"{stored(0.54500000003):.2f}" == "0.55"
    assert f"{stored(-0.1249999999999):.2f}" == f"{-0.1249999999999:.2f}" == "-0.12"


def test_a_value_that_is_its_short_decimal_keeps_it():
    # the double nearest to the decimal: the file's text reads back as the analysis's value itself
    for value in (0.545, 2.98 / 4, 31 / 2000, 0.05, 0.95, 0.125, 2.5):
        assert stored(value) == value and len(repr(stored(value))) <= 6, value
    assert f"{stored(2.98 / 4):.2f}" == "0.74"
    # last-bit noise off a decimal that is no tie is still rounded away (two runs of make reproduce, same text)
    assert repr(stored(1.0799999999999998)) == repr(stored(1.0800000000000003)) == "1.08"


def test_a_fraction_is_never_stored_as_a_whole_number():
    # the report prints a whole number as '3' and a fraction as '3.00'
    for value in (2.9999999999999996, 3.0000000000000004, 41.99999999999):
        assert not stored(value).is_integer() and display.fmt(stored(value)) == display.fmt(value) == f"{value:.2f}"
    assert stored(3.0) == 3.0 and display.fmt(stored(3.0)) == "3"


def ulps_away(value: float, steps: int) -> float:
    """The double ``steps`` units in the last place above (below, if negative) ``value``."""
    for _ in range(abs(steps)):
        value = math.nextafter(value, math.copysign(math.inf, steps))
    return value


def near_ties() -> st.SearchStrategy[float]:
    """Doubles on, next to and around decimal ties (k + 1/2) * 10**-d, the values a plain 10-digit store breaks."""
    tie = st.builds(
        lambda k, d, sign: sign * (k + 0.5) / 10**d,
        st.integers(0, 10**6),
        st.integers(0, 6),
        st.sampled_from([1.0, -1.0]),
    )
    nudged = st.builds(
        lambda t, rel: t * (1 + rel), tie, st.sampled_from([0.0, 1e-16, -3e-16, 4e-12, -4e-12, 3e-10, -3e-10, 1e-8])
    )
    stepped = st.builds(ulps_away, tie, st.integers(-4, 4))
    eleven_places = st.decimals(-1000, 1000, places=11).map(float)  # 10-digit ties next to an 11th digit
    return st.one_of(nudged, stepped, eleven_places)


def beyond_ten_digits(value: float, spec: str) -> bool:
    """Whether ``spec`` prints a digit past the 10th significant digit of ``value`` (only fixed-point formats can)."""
    decimals = int(spec[1:-1]) + (2 if spec.endswith("%") else 0)
    return spec[-1] in "f%" and abs(value) >= 10.0 ** (9 - decimals)


@settings(max_examples=400, deadline=None)
@given(
    value=st.one_of(st.floats(allow_nan=False, allow_infinity=False), near_ties()), spec=st.sampled_from(PRINT_SPECS)
)
def test_stored_numbers_print_as_the_value_or_are_refused(value, spec):
    back = stored(value)
    try:
        shown = format_stored(back, spec)
    except AlsmetaInputError:  # more digits than stored: refused, never printed wrong
        assert beyond_ten_digits(value, spec)
        return
    assert shown == format(value + 0.0, spec)  # (the store writes -0.0 as 0.0, by design)


@settings(max_examples=300, deadline=None)
@given(value=st.one_of(st.floats(allow_nan=False, allow_infinity=False), near_ties()))
def test_storing_a_stored_file_again_changes_no_byte(value):
    assert dumps({"x": stored(value)}) == dumps({"x": value})


def test_a_kept_digit_5_is_not_rounded_again_when_results_json_stores_numbers_json():
    # not 1.5500000005 (11 digits): rounded to 10 again when results.json is written, that would be 1.550000001
    assert dumps({"x": 1.5500000004501828}) == '{\n  "x": 1.5500000004502\n}\n'
    assert dumps({"x": stored(1.5500000004501828)}) == dumps({"x": 1.5500000004501828})


def test_a_plain_ten_digit_store_fails_the_property():
    """The property above can fail: at 10 digits, ties near every decimal break it."""
    broken = (0.5449999999999997, 0.54499999997, 1.2349999999999999, 0.0144999999999)
    assert all(f"{ten_digit_store(v):.2f}" != f"{v:.2f}" or f"{ten_digit_store(v):.3f}" != f"{v:.3f}" for v in broken)
    assert all(f"{stored(v):.2f}" == f"{v:.2f}" and f"{stored(v):.3f}" == f"{v:.3f}" for v in broken)


# --- the printers ---------------------------------------------------------------------------------------------------


def test_format_stored_refuses_digits_the_file_does_not_hold():
    with pytest.raises(
        AlsmetaInputError, match=r"a/b: 1234567\.891 printed with '\.4f'.*1234567\.8905 or 1234567\.8915"
    ):
        format_stored(1234567.891, ".4f", name="a/b")
    assert format_stored(1234567.891, ".3f") == "1234567.891"
    assert format_stored(stored(0.5449999999999997), ".12f") == "0.545000000000"  # stored in full: all digits settled
    assert format_stored(171, ",d") == "171" and format_stored("text", "") == "text"


def test_readme_placeholders_refuse_unsettled_digits_naming_the_key():
    with pytest.raises(HeadlineError, match=r"results\.json a/x: 1234567\.891 printed with '\.4f'"):
        render("{a/x:.4f}", {"a": {"x": 1234567.891}})
    assert render("{a/x:.2f} {a/y:.2f}", {"a": {"x": stored(0.5449999999999997), "y": stored(0.54499999997)}}) == (
        "0.54 0.54"
    )


def test_report_prints_through_the_settled_formatter():
    assert display.fmt(stored(0.5449999999999997)) == "0.54"
    assert display.interval(stored(0.745), stored(0.5449999999999997), 2.0) == "0.74 (0.54 to 2)"
    with pytest.raises(AlsmetaInputError):
        display.fmt(stored(123456789.123))  # stored as 123456789.1


# --- figures/results.json and what is printed from it --------------------------------------------------------------


def test_every_readme_number_prints_settled_digits():
    checked = 0
    for path, spec in template_specs():
        value = lookup(RESULTS, path)
        if isinstance(value, float):
            format_stored(value, spec, name=path)  # raises on digits the file does not settle
            checked += 1
    assert checked > 60, "the README prints far fewer numbers than its template has placeholders"


def test_every_stored_number_prints_settled_in_the_report():
    """The report prints any number of results.json it shows at 2 decimals: every stored number settles them."""
    leaves = list(float_leaves(RESULTS))
    assert len(leaves) > 3000
    unsettled = []
    for path, value in leaves:
        try:
            display.fmt(value)
        except AlsmetaInputError as exc:
            unsettled.append(f"{path}: {exc}")
    assert not unsettled, unsettled[:5]


def recomputed() -> dict[str, Any]:
    """Entries of results.json that the library recomputes here in a second, unrounded (as the analyses hold them)."""
    ev = load_evidence(ROOT / "data")
    return json_safe(
        {
            "msc2021/transience": transience_analysis(ev).to_dict(),
            "cochrane_pub3/continuous": {spec.key: continuous_outcome(ev, *spec)[0] for spec in CONTINUOUS},
            "cochrane_pub3/responders": {spec.key: responder_outcome(ev, *spec)[0] for spec in RESPONDERS},
        }
    )


def test_stored_numbers_print_as_the_analyses_unrounded_values():
    """Walks recomputable entries of results.json beside the unrounded values: same printed digits at every format.

    Fails on the results.json of the 10-digit store (msc2021/transience/*/slowing/estimate stored 0.545: 0.55).
    """
    specs = rounding_specs() | set(PRINT_SPECS[:6])
    differ, checked = [], 0
    for entry, unrounded in recomputed().items():
        stored_entry = lookup(RESULTS, entry)
        for path, value in float_leaves(unrounded):
            kept = lookup(stored_entry, path)
            assert isinstance(kept, (int, float)), f"{entry}/{path}: {kept!r}"
            for spec in specs:
                try:
                    shown = format_stored(float(kept), spec)
                except AlsmetaInputError:
                    continue
                checked += 1
                if shown != format(value, spec):
                    differ.append(f"{entry}/{path} {spec}: stored {kept!r} prints {shown}, the analysis {value!r}")
    assert checked > 500
    assert not differ, differ


def test_results_json_is_what_the_store_writes():
    """Stored again, results.json is byte-identical (no number in it bypassed the store)."""
    assert dumps(json.loads(RESULTS_TEXT)) == RESULTS_TEXT
