"""The reproduction as one web page (``alsmeta report``): claims, verdicts, figures and provenance.

:func:`build_report` turns ``figures/results.json`` and the figures of
``alsmeta reproduce`` into ``report/index.html``, with every result linked to
its rows in ``data/`` (``report/provenance.html``). Needs Jinja2
(``pip install 'alsmeta[report]'``).
"""

from alsmeta.als.report.builder import build_report, load_results
from alsmeta.als.report.provenance import DataRow, ProvenanceIndex, read_data_rows

__all__ = ["DataRow", "ProvenanceIndex", "build_report", "load_results", "read_data_rows"]
