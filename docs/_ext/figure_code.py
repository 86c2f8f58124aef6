"""A ``figure-code`` directive: run a page's plotting code at build time and show the figure it draws.

alsmeta's plots return :class:`matplotlib.figure.Figure` objects without pyplot, which
matplotlib's own ``plot`` directive cannot collect. The directive's content is Python code,
complete on its own (it starts from the data), that leaves the figure in a variable ``fig``. The
build runs it, writes the PNG into ``docs/_generated/`` (not tracked) and shows the code above
the figure. An exception, or code that leaves no ``fig``, is an error under ``sphinx-build -W``,
so a plotting example cannot rot.
"""

from __future__ import annotations

import os
import traceback
from pathlib import Path
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

GENERATED = "_generated"


class FigureCode(SphinxDirective):
    """Argument: the figure's file name (no suffix); options ``:alt:`` and ``:width:``."""

    required_arguments = 1
    has_content = True
    option_spec: ClassVar[dict[str, Any]] = {"alt": directives.unchanged_required, "width": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        code = "\n".join(self.content)
        name = self.arguments[0]
        srcdir = Path(self.env.srcdir)
        out = srcdir / GENERATED / f"{name}.png"
        out.parent.mkdir(exist_ok=True)
        shown: list[nodes.Node] = [nodes.literal_block(text=code, language="python")]
        os.environ.setdefault("MPLBACKEND", "Agg")
        namespace: dict[str, Any] = {"__name__": f"figure_code_{name}"}
        cwd = Path.cwd()
        try:
            os.chdir(srcdir)  # the code reads examples/ relative to docs/, as the page says
            exec(compile(code, f"<figure-code {name}>", "exec"), namespace)
            fig = namespace.get("fig")
            if fig is None or not hasattr(fig, "savefig"):
                raise RuntimeError("the code leaves no matplotlib figure in `fig`")
            fig.savefig(out, dpi=150)
        except Exception:
            logger.warning(
                "figure-code %r failed:\n%s", name, traceback.format_exc(limit=-3), location=self.get_location()
            )
            return shown
        finally:
            os.chdir(cwd)
        self.env.note_dependency(str(out))
        image = nodes.image(uri=f"/{GENERATED}/{name}.png", alt=self.options.get("alt", name))
        if "width" in self.options:
            image["width"] = self.options["width"]
        return [*shown, image]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("figure-code", FigureCode)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
