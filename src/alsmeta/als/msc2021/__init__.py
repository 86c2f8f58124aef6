"""Morata-Tarifa et al. 2021 (npj Regen Med 6:20), rebuilt from the candidate primary studies.

One module per concept: ``protocol`` (the pre-specified choices), ``cohorts`` (candidate
reports and the published counts), ``effects`` (within-patient slope changes from data/),
``pooling`` (the primary analysis and agreement), ``transience`` (Oh 2018's gain per window),
``verdicts`` (the claim rows), ``reconstruction`` (the whole analysis as one result),
``report`` (the readable report and headline numbers) and ``figures`` (the analysis's figures).
``analyses/msc2021_reconstruction.py`` runs it and writes the outputs.
"""
