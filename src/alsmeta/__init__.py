"""alsmeta: metafor-grade meta-analysis in Python, applied to cell therapy for ALS/MND.

The public interface (see the README): ``pool`` for one meta-analysis,
``pool_many`` for many at once, and the effect-size, diagnostic and plotting
functions built on them.
"""

from alsmeta.batch import BatchResult, pool_many
from alsmeta.estimators import METHODS
from alsmeta.pooling import AlsmetaWarning, PooledResult, pool
from alsmeta.validation import AlsmetaInputError

__version__ = "0.1.0"

__all__ = [
    "METHODS",
    "AlsmetaInputError",
    "AlsmetaWarning",
    "BatchResult",
    "PooledResult",
    "__version__",
    "pool",
    "pool_many",
]
