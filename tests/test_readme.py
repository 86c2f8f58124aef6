"""The README's result numbers come from figures/results.json, never from a hand-typed copy."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from alsmeta.als.headlines import (
    BEGIN,
    END,
    HeadlineError,
    build_block,
    current_block,
    lookup,
    render,
    replace_block,
    update_readme,
)
from alsmeta.cli import README_TEMPLATE

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "figures" / "results.json"


def test_render_fills_key_paths_with_format_specs():
    results = {"a": {"0.1": {"est": 3.3800000000000003}, "n": 171, "share": 0.4496}, "xs": [1.5, 2.5]}
    text = render("MD {a/0.1/est:.2f}; n = {a/n:d}; {a/share:.0%}; {xs/1}; {{literal}}", results)
    assert text == "MD 3.38; n = 171; 45%; 2.5; {literal}"


@pytest.mark.parametrize(
    ("path", "message"),
    [("a/missing", "no 'a/missing'"), ("a/none", "null"), ("xs/5", "no 'xs/5'"), ("a/n/deeper", "no 'a/n/deeper'")],
)
def test_missing_or_null_values_are_errors_naming_the_path(path, message):
    results = {"a": {"none": None, "n": 3}, "xs": [1]}
    with pytest.raises(HeadlineError, match=re.escape(message)):
        lookup(results, path)
    with pytest.raises(HeadlineError):
        render("{" + path + "}", results)


def test_a_format_that_does_not_fit_the_value_is_an_error():
    with pytest.raises(HeadlineError, match="cannot format"):
        render("{a:.2f}", {"a": "text"})


def test_replace_block_needs_each_marker_once_in_order():
    text = f"intro\n{BEGIN}\nold\n{END}\noutro\n"
    assert replace_block(text, "new") == f"intro\n{BEGIN}\nnew\n{END}\noutro\n"
    assert current_block(replace_block(text, "new")) == "new"
    for bad in ("no markers", f"{END}\n{BEGIN}", f"{BEGIN}{BEGIN}{END}"):
        with pytest.raises(HeadlineError, match="must contain"):
            replace_block(bad, "new")


def test_update_readme_rewrites_only_the_block(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# t\n{BEGIN}\nstale 1.00\n{END}\n## after\n", encoding="utf-8")
    template = tmp_path / "t.md"
    template.write_text("MD {x:.2f}\n", encoding="utf-8")
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"x": 3.385}), encoding="utf-8")
    assert update_readme(readme, template, results, root=tmp_path) is True
    text = readme.read_text(encoding="utf-8")
    assert "stale" not in text and "MD 3.38" in text and text.endswith("## after\n")
    assert update_readme(readme, template, results, root=tmp_path) is False


def test_readme_block_is_what_results_json_produces():
    """Fails when README.md was edited by hand or results.json changed without `make reproduce`."""
    results = json.loads(RESULTS.read_text(encoding="utf-8"))
    expected = build_block(ROOT / README_TEMPLATE, results, root=ROOT)
    assert current_block((ROOT / "README.md").read_text(encoding="utf-8")) == expected


def test_readme_results_sections_are_inside_the_generated_block():
    """The sections that report results hold no text outside the block (so no hand-typed number)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("## The analyses")
    end = text.index("\n## ", start + 1)
    section = text[start:end]
    outside = section.split(BEGIN)[0] + section.split(END)[1]
    assert BEGIN in section and END in section
    assert not re.search(r"\d", outside.replace("## The analyses", "")), outside
