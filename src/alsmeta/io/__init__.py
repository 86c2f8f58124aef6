"""Reading tables and writing results safely.

* :func:`read_effects_csv` - one CSV reader for user tables (delimiter and
  decimal mark detected, clear one-line errors, only the needed columns).
* :func:`atomic_write`, :func:`write_text`, :func:`write_csv` - every output
  is written to a temporary file in the destination folder and renamed into
  place, so an interrupted run never leaves a half-written file.
* :func:`figures_dir` - where analysis scripts write (``ALSMETA_FIGURES``).
"""

from alsmeta.io.atomic import atomic_write, write_bytes, write_csv, write_text
from alsmeta.io.paths import FIGURES_ENV, figures_dir
from alsmeta.io.tables import CsvFormat, CsvInputError, EffectsTable, read_effects_csv, sniff_format

__all__ = [
    "FIGURES_ENV",
    "CsvFormat",
    "CsvInputError",
    "EffectsTable",
    "atomic_write",
    "figures_dir",
    "read_effects_csv",
    "sniff_format",
    "write_bytes",
    "write_csv",
    "write_text",
]
