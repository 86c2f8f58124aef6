"""The helpers of the documentation build (docs/_ext): the API page, CLI output checks, references.

`make docs` runs the build itself; these tests pin what its helpers decide, without Sphinx.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs" / "_ext"))

from api_page import api_page_text
from references import split_references
from text_checks import same_output

import alsmeta


def _autosummary_entries(text: str) -> list[str]:
    """The names listed under the page's autosummary directives."""
    return re.findall(r"^   (?!:)(\S+)$", text, flags=re.MULTILINE)


def test_api_page_lists_every_public_name_once() -> None:
    entries = _autosummary_entries(api_page_text())
    modules = {module.removeprefix("alsmeta.") for module in alsmeta._LAZY_MODULES.values()}
    expected = (set(alsmeta.__all__) - set(alsmeta._LAZY_MODULES) - {"__version__"}) | modules
    assert sorted(entries) == sorted(expected)


def test_api_page_refuses_a_public_name_without_a_module(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(alsmeta, "__all__", [*alsmeta.__all__, "not_mapped"])
    with pytest.raises(RuntimeError, match="not_mapped"):
        api_page_text()


def test_api_page_puts_a_name_of_a_new_layer_in_its_own_section(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(alsmeta._LAZY_NAMES, "new_thing", "alsmeta.newlayer.module")
    monkeypatch.setattr(alsmeta, "__all__", sorted([*alsmeta.__all__, "new_thing"]))
    text = api_page_text()
    section = text[text.index("``alsmeta.newlayer``") :]
    assert "   new_thing\n" in section.split("Submodules")[0]


@pytest.mark.parametrize(
    ("expected", "actual", "same"),
    [
        ("Q(df = 12) = 152.2330", "Q(df = 12) = 152.2330   \n\n", True),  # trailing spaces and blank lines
        ("estimate -0.7145323421581395", "estimate -0.7145323421581396", True),  # last digit of a float
        ("Q(df = 12) = 152.2330", "Q(df = 12) = 152.2268", False),  # a number that changed
        ("p-val <.0001", "p-val < .0001", False),  # text that changed
        ("k = 13", "k = 14", False),  # whole numbers compare as text
        ("a 1.0 b 2.0", "a 1.0", False),  # a number went missing
    ],
)
def test_cli_output_comparison(expected: str, actual: str, same: bool) -> None:
    assert same_output(expected, actual) is same


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).filter(lambda x: abs(x) > 1e-3))
def test_cli_output_comparison_catches_any_change_above_the_tolerance(value: float) -> None:
    shown = f"estimate {value:.6f}"
    assert same_output(shown, f"estimate {value:.6f}")
    assert not same_output(shown, f"estimate {value * (1 + 1e-4) + 1e-3:.6f}")


def test_references_are_split_into_paragraphs_only_in_their_section() -> None:
    lines = [
        "Summary.",
        "",
        "Notes",
        "-----",
        "Egger M, Smith G (1997) is cited in running text here.",
        "",
        "References",
        "----------",
        "Egger M, Davey Smith G, Schneider M, Minder C (1997). Bias in meta-analysis",
        "detected by a simple, graphical test. BMJ 315:629-634.",
        "Sterne JAC, Egger M (2005). Regression methods to detect publication and",
        "other bias in meta-analysis.",
        "Stat Med 21:1539-1558.",
    ]
    out = split_references(lines)
    assert out[:8] == lines[:8]  # nothing changes before References, nor its heading
    assert out[8:] == [lines[8], lines[9], "", lines[10], lines[11], lines[12]]
