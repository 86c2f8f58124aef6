"""alsmeta: metafor-grade meta-analysis in Python, applied to cell therapy for ALS/MND."""

from alsmeta.validation import AlsmetaInputError

__version__ = "0.1.0"

__all__ = ["AlsmetaInputError", "__version__"]
