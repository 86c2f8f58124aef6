"""A ``cli-example`` directive: run a shell command of the documentation at build time.

The directive's content is a command line (``$ alsmeta ...``) followed by the output the page
promises. The build runs the command in the repository root, as a user of a clone would (with
this Python's ``alsmeta``), shows the command with its real output, and warns - an error under
``sphinx-build -W`` - when the exit status or the output differs from what the page says
(numbers to a relative 1e-9), so a command-line example cannot rot.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from text_checks import normalise, same_output

logger = logging.getLogger(__name__)

#: how ``alsmeta`` is run: this interpreter's package, whatever is on PATH
ALSMETA = [sys.executable, "-c", "import sys; from alsmeta.cli import main; sys.exit(main())"]


class CliExample(SphinxDirective):
    """``$ alsmeta ARGS`` then the expected output; option ``:returncode:`` (default 0)."""

    has_content = True
    option_spec: ClassVar[dict[str, Any]] = {"returncode": directives.nonnegative_int}

    def run(self) -> list[nodes.Node]:
        lines = list(self.content)
        if not lines or not lines[0].startswith("$ alsmeta"):
            raise self.error("cli-example: the first line must be a command starting with '$ alsmeta'")
        command, expected = lines[0][2:], "\n".join(lines[1:])
        argv = shlex.split(command)
        env = {**os.environ, "MPLBACKEND": "Agg", "COLUMNS": "100"}
        repo_root = Path(self.env.srcdir).parent
        done = subprocess.run(
            [*ALSMETA, *argv[1:]], cwd=repo_root, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        actual = normalise(done.stdout + done.stderr)
        location = self.get_location()
        want_code = self.options.get("returncode", 0)
        if done.returncode != want_code:
            logger.warning(
                "cli-example %r exited with %d, the page says %d:\n%s",
                command,
                done.returncode,
                want_code,
                actual,
                location=location,
            )
        elif not same_output(expected, actual):
            logger.warning(
                "cli-example %r printed something else than the page shows:\n--- page\n%s\n--- actual\n%s",
                command,
                normalise(expected),
                actual,
                location=location,
            )
        block = nodes.literal_block(text=f"$ {command}\n{actual}", language="console")
        return [block]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("cli-example", CliExample)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
