"""The Cochrane review CD011742 (Abdul Wahid et al., cell-based therapies for ALS/MND), version by version.

``pub2`` is the 2016 review (no study eligible, four ongoing trials), ``pub3``
the 2019 update (two RCTs, only Oh 2018 with data) and ``living`` this
project's living update with the evidence known in 2026. Each module holds the
analysis definitions and the rows of its tables; the ``*_figures`` modules
draw them; ``analyses/cochrane_*.py`` only load, call and write.
"""
