"""PRISMA 2020 flow diagram: counts shown as given, None shown as "not reported", never invented."""

from __future__ import annotations

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from alsmeta import AlsmetaInputError, AlsmetaWarning
from alsmeta.plots import PrismaCounts, prisma_flow
from alsmeta.plots.artists import find, texts

# Morata-Tarifa et al. 2021 abstract: 670 records, 90 full texts, 11 studies; nothing else reported
MSC2021 = PrismaCounts(identified={"Databases": 670, "Registers": None}, assessed=90, included_studies=11)


def box_text(fig, key):
    return "\n".join(texts(fig, f"prisma-text:{key}"))


def test_reported_counts_are_printed_in_their_boxes():
    fig = prisma_flow(MSC2021)
    assert "Databases (n = 670)" in box_text(fig, "identified")
    assert box_text(fig, "assessed") == "Reports assessed for eligibility (n = 90)"
    assert "Studies included in review (n = 11)" in box_text(fig, "included")


def test_unreported_counts_say_not_reported_and_are_dashed():
    fig = prisma_flow(MSC2021)
    assert box_text(fig, "screened") == "Records screened (n = not reported)"
    assert "Registers (n = not reported)" in box_text(fig, "identified")
    # 90 assessed - 11 included is NOT shown as 79 excluded: it was not reported
    assert box_text(fig, "excluded_full_text").startswith("Reports excluded (n = not reported)")
    assert "79" not in "\n".join(t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")))
    (screened,) = find(fig, "prisma:screened")
    (assessed,) = find(fig, "prisma:assessed")
    assert screened.get_linestyle() != "solid" and assessed.get_linestyle() == "solid"
    assert {p.get_gid() for p in find(fig, "prisma")} >= {
        "prisma:identified",
        "prisma:removed",
        "prisma:screened",
        "prisma:excluded_screening",
        "prisma:sought",
        "prisma:not_retrieved",
        "prisma:assessed",
        "prisma:excluded_full_text",
        "prisma:included",
        "prisma:ongoing",
    }


def test_empty_review_with_ongoing_studies():
    counts = PrismaCounts(identified={"CENTRAL": None, "MEDLINE": None}, included_studies=0, ongoing=4)
    fig = prisma_flow(counts)
    assert "Studies included in review (n = 0)" in box_text(fig, "included")
    assert box_text(fig, "ongoing") == "Ongoing studies (n = 4)"
    (included,) = find(fig, "prisma:included")
    assert included.get_linestyle() == "solid"  # zero is a reported count, not a missing one


def test_exclusion_reasons_are_listed():
    counts = PrismaCounts(
        assessed=20,
        excluded_full_text=15,
        exclusion_reasons={"Not randomised": 12, "No control": 3},
        included_studies=5,
    )
    text = box_text(prisma_flow(counts), "excluded_full_text")
    assert "Not randomised (n = 12)" in text and "No control (n = 3)" in text


def test_long_texts_wrap_inside_their_boxes():
    counts = PrismaCounts(
        identified={"Databases (Specialised Register, CENTRAL, MEDLINE, Embase)": None, "Trials registers (2)": None}
    )
    fig = prisma_flow(counts)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    for key in ("identified", "removed"):
        (box,) = find(fig, f"prisma:{key}")
        frame = box.get_window_extent(renderer)
        for text in find(fig, f"prisma-text:{key}"):
            bb = text.get_window_extent(renderer)
            assert frame.x0 < bb.x0 and bb.x1 < frame.x1 and frame.y0 < bb.y0 and bb.y1 < frame.y1, text.get_text()
    lines = texts(fig, "prisma-text:identified")
    assert lines[2].endswith("MEDLINE, Embase) (n = not reported)")  # the count is never split
    assert sum(line.count("(n = not reported)") for line in lines) == 2


def test_arrows_connect_the_flow():
    gids = {a.get_gid() for a in find(prisma_flow(MSC2021), "arrow")}
    assert "arrow:identified->screened" in gids and "arrow:assessed->included" in gids
    assert "arrow:screened->excluded_screening" in gids


def test_counts_that_do_not_add_up_are_reported():
    counts = PrismaCounts(screened=100, excluded_screening=80, sought=30)
    assert counts.inconsistencies() == ["screened minus excluded_screening is 20, but 30 reports sought"]
    with pytest.warns(AlsmetaWarning, match="do not add up"):
        prisma_flow(counts)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"screened": -1}, "'screened'"),
        ({"screened": 2.5}, "whole number"),
        ({"screened": "12"}, "not a whole number"),
        ({"screened": float("nan")}, "use None"),
        ({"identified": {"Databases": True}}, "identified"),
    ],
)
def test_bad_counts_raise(kwargs, match):
    with pytest.raises(AlsmetaInputError, match=match):
        PrismaCounts(**kwargs)


def test_awaiting_classification_is_drawn_only_when_given_and_the_diagram_is_183_mm():
    with_awaiting = prisma_flow(PrismaCounts(included_studies=5, ongoing=2, awaiting_classification=1))
    assert box_text(with_awaiting, "ongoing") == "Ongoing studies (n = 2)\nStudies awaiting classification (n = 1)"
    assert box_text(prisma_flow(MSC2021), "ongoing") == "Ongoing studies (n = not reported)"
    assert with_awaiting.get_figwidth() == pytest.approx(183 / 25.4)
    sizes = [
        t.get_fontsize()
        for t in with_awaiting.findobj(lambda a: hasattr(a, "get_fontsize") and hasattr(a, "get_text"))
        if t.get_text()
    ]
    assert min(sizes) >= 7.0
