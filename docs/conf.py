"""Sphinx configuration of the alsmeta documentation (built by ``make docs`` with warnings as errors).

The API reference is generated from ``alsmeta.__all__`` on every build (:mod:`api_page`), so a
name added to the package appears in the docs without editing them. Guide examples run as
doctests (``make docs`` runs the doctest builder before the HTML one) and command-line examples
run during the HTML build (:mod:`cli_example`), and so does the code that draws each figure
(:mod:`figure_code`), so the docs cannot drift from the code.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))

from api_page import write_api_page  # noqa: E402

import alsmeta  # noqa: E402

project = "alsmeta"
author = "the alsmeta authors"
copyright = "the alsmeta authors, MIT licence"
release = version = alsmeta.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "myst_parser",
    "sphinx_design",
    "cli_example",
    "figure_code",
    "references",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "_templates", "_generated"]
templates_path = ["_templates"]
root_doc = "index"

# --- API reference --------------------------------------------------------------------------
write_api_page(DOCS / "api.rst")
autosummary_generate = True
autosummary_ignore_module_all = False  # a submodule page lists that submodule's __all__
# a class exported at the top level is indexed there, not again on its submodule's page
autosummary_context = {"top_level_names": list(alsmeta.__all__)}
autodoc_typehints = "none"  # the numpydoc sections give the types; signatures stay readable
autodoc_member_order = "bysource"
numpydoc_show_class_members = False  # class pages list their members through the template
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# --- MyST (Markdown pages: the guide and ARCHITECTURE.md) -------------------------------------
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3

# --- doctests --------------------------------------------------------------------------------
# examples read files relative to docs/ (examples/bcg.csv, ../data), wherever sphinx-build runs
doctest_global_setup = f"""
import os
os.chdir({str(DOCS)!r})
os.environ.setdefault("MPLBACKEND", "Agg")
"""
# The guide's examples are ``doctest`` directives and run here. Plain ``>>>`` blocks in docstrings are
# not run by this build: they are written in their module's namespace, which pytest's
# --doctest-modules provides and Sphinx's doctest builder does not.
doctest_test_doctest_blocks = ""

intersphinx_mapping: dict[str, tuple[str, str | None]] = {}  # offline build: no inventories fetched

# --- HTML --------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"alsmeta {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "github_url": None,
}
# the guide's pages have no section navigation: give their code the width instead
html_sidebars = {page: [] for page in ("index", "getting-started", "guide/*", "cli", "reproduction", "ARCHITECTURE")}
html_static_path: list[str] = []
html_show_sourcelink = False
