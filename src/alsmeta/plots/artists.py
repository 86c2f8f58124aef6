"""Find the artists of an alsmeta figure by their ``gid`` (for tests and post-editing).

Every element that carries meaning - study squares, diamonds, prediction
bars, reference lines, funnel contours, PRISMA boxes - has a ``gid`` such as
``"diamond:random"`` or ``"prisma:screened"``. These helpers return them, so
that a figure's content can be checked (or restyled) without parsing images.
"""

from __future__ import annotations

from matplotlib.artist import Artist
from matplotlib.figure import Figure


def find(fig: Figure, prefix: str) -> list[Artist]:
    """All artists of ``fig`` whose gid equals ``prefix`` or starts with ``prefix + ":"``.

    Artists are returned in drawing-tree order (deterministic).
    """
    out = []
    for artist in fig.findobj(lambda a: a.get_gid() is not None):
        gid = artist.get_gid()
        if gid is not None and (gid == prefix or gid.startswith(prefix + ":")):
            out.append(artist)
    return out


def texts(fig: Figure, prefix: str) -> list[str]:
    """The strings of the text artists whose gid matches ``prefix`` (see :func:`find`)."""
    return [_text_of(a) for a in find(fig, prefix) if hasattr(a, "get_text")]


def all_text(fig: Figure) -> str:
    """Every visible string of the figure, joined by newlines (tick labels included)."""
    parts = [_text_of(t) for t in fig.findobj(lambda a: hasattr(a, "get_text") and a.get_visible())]
    return "\n".join(p for p in parts if p)


def _text_of(artist: Artist) -> str:
    """The string of an artist that has one (a Text, or an offset box holding text)."""
    get_text = getattr(artist, "get_text", None)
    return str(get_text()) if callable(get_text) else ""
