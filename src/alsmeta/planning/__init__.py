"""How much evidence is needed: power and sample size for a trial and a meta-analysis,
optimal information size, and trial sequential monitoring of a cumulative meta-analysis."""
