"""Stress test of the within-patient (pre-post) design behind Morata-Tarifa et al. 2021.

One module per concept: ``settings`` (seeds, replicate counts, assumptions), ``rates``
(Monte-Carlo rates), ``mechanisms`` (the null by design and the mechanisms one at a time),
``empirical_null`` (Oh 2018's untreated arm against the simulated null), ``missing_studies``
(added null studies), ``specifications`` and ``multiverse`` (every defensible analysis of the
rebuild) and ``figures``. ``analyses/prepost_stress_test.py`` runs it and writes the outputs.
"""
