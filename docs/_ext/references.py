"""Show each reference of a docstring's ``References`` section as its own paragraph.

alsmeta's docstrings list references one after another without blank lines between them::

    References
    ----------
    Egger M, Davey Smith G, Schneider M, Minder C (1997). Bias in meta-analysis
    detected by a simple, graphical test. BMJ 315:629-634.
    Sterne JAC, Egger M (2005). Regression methods ...

which reStructuredText reads as one paragraph. Before numpydoc parses a docstring, this hook
puts a blank line before each line of that section that opens a reference (an author's surname
and initials followed by a comma or the year in brackets), so each reference reads on its own.
The docstrings themselves are left as they are.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sphinx.application import Sphinx

#: a surname (possibly two words or hyphenated) and initials, then ", " or " (" - "Egger M,", "Davey Smith G,"
OPENS_REFERENCE = re.compile(r"^(?:[A-Z][\w'\-]+ ){1,3}[A-Z]{1,4}(?:,| \(| et al)")
SECTION_RULE = re.compile(r"^-{3,}\s*$")


def split_references(lines: list[str]) -> list[str]:
    """The docstring's lines with a blank line before each reference of its ``References`` section."""
    out: list[str] = []
    in_references = False
    for i, line in enumerate(lines):
        stripped = line.strip()
        next_line = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if SECTION_RULE.match(next_line) and stripped:
            in_references = stripped == "References"
        elif (
            in_references
            and OPENS_REFERENCE.match(stripped)
            and out
            and out[-1].strip()
            and not SECTION_RULE.match(out[-1].strip())
        ):
            out.append("")
        out.append(line)
    return out


def _process(app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    lines[:] = split_references(lines)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("autodoc-process-docstring", _process, priority=100)  # before numpydoc's (priority 500)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
