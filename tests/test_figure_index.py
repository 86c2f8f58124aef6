"""figures/README.md: every figure, the question it answers and the analysis that makes it."""

from __future__ import annotations

import pytest

from alsmeta.io.reporting import figure_entry, figure_index, write_figure_index, write_numbers
from alsmeta.validation import AlsmetaInputError


def _analysis(root, folder, figures, pngs=None, svg=True):
    out = root / folder
    out.mkdir(parents=True)
    for stem in figures if pngs is None else pngs:
        (out / f"{stem}.png").write_bytes(b"png")
        if svg:
            (out / f"{stem}.svg").write_text("<svg/>")
    write_numbers(out, {"x": 1, "figures": {stem: figure_entry(q, c, script=s) for stem, (q, c, s) in figures.items()}})


def test_entry_names_the_script_under_analyses_and_refuses_empty_or_multiline_text():
    e = figure_entry("Is it so?", "It is.", script="/somewhere/analyses/cochrane_2019_pub3.py")
    assert e == {"question": "Is it so?", "caption": "It is.", "script": "analyses/cochrane_2019_pub3.py"}
    with pytest.raises(AlsmetaInputError, match="question"):
        figure_entry(" ", "c", script="a.py")
    with pytest.raises(AlsmetaInputError, match="caption"):
        figure_entry("q", "two\nlines", script="a.py")
    with pytest.raises(AlsmetaInputError, match="script"):
        figure_entry("q", "c", script="notes.txt")


def test_index_lists_every_figure_with_its_question_caption_and_script(tmp_path):
    _analysis(
        tmp_path,
        "cochrane_pub3",
        {
            "prisma": ("How many studies were found?", "Counts | not reported shown as such.", "cochrane_2019_pub3.py"),
            "forest_continuous": ("Did the cells change ALSFRS-R?", "MD with 95% CI.", "cochrane_2019_pub3.py"),
        },
    )
    _analysis(
        tmp_path,
        "summary",
        {"summary_forest": ("What is known across outcomes?", "One row per result.", "summary_forest.py")},
        svg=False,
    )
    text = figure_index(tmp_path)
    assert text.startswith("# Figures\n")
    assert "## cochrane_pub3/" in text and "Made by `analyses/cochrane_2019_pub3.py`." in text
    assert (
        "| [prisma](cochrane_pub3/prisma.png) ([svg](cochrane_pub3/prisma.svg)) | How many studies were found? | "
        "Counts \\| not reported shown as such. |"
    ) in text
    assert "| [summary_forest](summary/summary_forest.png) | What is known across outcomes? |" in text
    # sections and rows in a stable order
    assert text.index("## cochrane_pub3/") < text.index("## summary/")
    assert text.index("[forest_continuous]") < text.index("[prisma]")
    path = write_figure_index(tmp_path)
    assert path == tmp_path / "README.md" and path.read_text(encoding="utf-8") == text


def test_a_png_without_an_entry_is_an_error(tmp_path):
    _analysis(tmp_path, "pub3", {"prisma": ("q", "c", "a.py")}, pngs=["prisma", "forest_forgotten"])
    with pytest.raises(AlsmetaInputError, match=r"pub3/forest_forgotten\.png"):
        figure_index(tmp_path)


def test_a_png_of_an_analysis_without_figures_entries_or_outside_any_analysis_is_an_error(tmp_path):
    (tmp_path / "gallery").mkdir()
    (tmp_path / "gallery" / "funnel.png").write_bytes(b"png")
    write_numbers(tmp_path / "gallery", {"x": 1})
    with pytest.raises(AlsmetaInputError, match=r"gallery/funnel\.png"):
        figure_index(tmp_path)
    (tmp_path / "gallery" / "funnel.png").unlink()
    (tmp_path / "summary_forest.png").write_bytes(b"png")
    with pytest.raises(AlsmetaInputError, match=r"summary_forest\.png"):
        figure_index(tmp_path)


def test_an_entry_without_its_png_is_an_error(tmp_path):
    _analysis(tmp_path, "pub3", {"prisma": ("q", "c", "a.py"), "gone": ("q", "c", "a.py")}, pngs=["prisma"])
    with pytest.raises(AlsmetaInputError, match=r"figure 'gone'.*does not exist"):
        figure_index(tmp_path)


def test_a_hand_written_entry_missing_a_field_is_an_error(tmp_path):
    (tmp_path / "pub3").mkdir()
    (tmp_path / "pub3" / "prisma.png").write_bytes(b"png")
    write_numbers(tmp_path / "pub3", {"figures": {"prisma": {"question": "q"}}})
    with pytest.raises(AlsmetaInputError, match="use figure_entry"):
        figure_index(tmp_path)
