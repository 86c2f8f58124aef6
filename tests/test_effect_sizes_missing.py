"""effect_sizes(na_action=): a study with a missing input raises naming it and the column, or is dropped with a
warning that counts it; the studies kept get exactly the values they get on their own."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import alsmeta as am
from alsmeta import AlsmetaInputError, effect_sizes

MISSING = [None, np.nan, pd.NA]

rows = st.lists(
    st.tuples(
        st.integers(0, 20),  # ai
        st.integers(1, 30),  # bi
        st.integers(0, 20),  # ci
        st.integers(1, 30),  # di
        st.sampled_from([None, "ai", "bi", "ci", "di"]),  # which input is missing (None: complete)
        st.sampled_from(range(len(MISSING))),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=40, deadline=None)
@given(rows, st.sampled_from(["OR", "RR", "RD", "PETO"]))
def test_dropping_keeps_exactly_the_complete_studies(table, measure):
    cols = {c: [float(r[i]) for r in table] for i, c in enumerate(("ai", "bi", "ci", "di"))}
    for j, r in enumerate(table):
        if r[4] is not None:
            cols[r[4]][j] = MISSING[r[5]]
    complete = [j for j, r in enumerate(table) if r[4] is None]
    n_missing = len(table) - len(complete)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        es = effect_sizes(measure, na_action="drop", **cols)
    said = [str(w.message) for w in caught if issubclass(w.category, am.AlsmetaWarning)]
    if n_missing:
        assert any(f"{n_missing} of {len(table)} studies dropped" in m for m in said)
        with pytest.raises(AlsmetaInputError, match=r"study 'Study \d+', column '(ai|bi|ci|di)': value is missing"):
            effect_sizes(measure, **cols)
    else:
        assert not any("dropped" in m for m in said)
    assert es.labels == [f"Study {j + 1}" for j in complete]  # the kept studies keep their row numbers
    if complete:
        alone = effect_sizes(measure, **{c: [v[j] for j in complete] for c, v in cols.items()})
        np.testing.assert_array_equal(es.yi, alone.yi)
        np.testing.assert_array_equal(es.vi, alone.vi)
    else:
        assert es.yi.size == 0


def test_missing_value_in_a_data_column_and_a_missing_label():
    df = pd.DataFrame({"study": ["A", "B", None, "D"], "m": [1.0, None, 2.0, 3.0], "s": [1.0, 1, 1, 1]})
    kw = dict(data=df, m1i="m", sd1i="s", n1i=[10] * 4, m2i=[0.0] * 4, sd2i="s", n2i=[12] * 4, labels="study")
    with pytest.raises(AlsmetaInputError, match=re.escape("row 3, column 'labels': value is missing")):
        effect_sizes("SMD", **kw)
    with pytest.raises(AlsmetaInputError, match=re.escape("study 'B', column 'm1i': value is missing (NaN)")) as err:
        effect_sizes("SMD", **{**kw, "data": df.fillna({"study": "C"})})
    assert "data column 'm'" in str(err.value) and "na_action='drop'" in str(err.value)
    with pytest.warns(am.AlsmetaWarning, match=r"2 of 4 studies dropped .*labels: 1.*m1i: 1"):
        es = effect_sizes("SMD", na_action="drop", **kw)
    assert es.labels == ["A", "D"]
    fit = am.pool(es)
    assert fit.k == 2 and fit.labels == ("A", "D")


def test_na_action_is_checked():
    with pytest.raises(AlsmetaInputError, match="na_action"):
        effect_sizes("PR", xi=[1], ni=[2], na_action="omit")
