"""na_action on the per-measure effect-size functions: a missing input is refused naming the study, or dropped."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import alsmeta as am
from alsmeta.validation import AlsmetaInputError, AlsmetaWarning

K = 5
TWO_GROUPS = {
    "m1": [5.0, 6.0, 5.5, 7.0, 6.2],
    "sd1": [1.0, 1.2, 0.9, 1.5, 1.1],
    "n1": [20, 25, 18, 30, 22],
    "m2": [4.0, 5.5, 5.0, 6.1, 6.0],
    "sd2": [1.1, 1.0, 1.0, 1.4, 1.2],
    "n2": [21, 24, 19, 29, 23],
}
COUNTS = {
    "events1": [4, 6, 3, 9, 5],
    "n1": [40, 50, 30, 60, 45],
    "events2": [8, 9, 5, 12, 10],
    "n2": [41, 52, 33, 58, 44],
}
MEASURES = {
    "mean_difference": (am.mean_difference, TWO_GROUPS),
    "standardized_mean_difference": (am.standardized_mean_difference, TWO_GROUPS),
    "log_ratio_of_means": (am.log_ratio_of_means, TWO_GROUPS),
    "log_odds_ratio": (am.log_odds_ratio, COUNTS),
    "log_risk_ratio": (am.log_risk_ratio, COUNTS),
    "risk_difference": (am.risk_difference, COUNTS),
}
LABELS = [f"trial {c}" for c in "ABCDE"]


def _call(func, columns, **kwargs):
    return func(*[np.asarray(v, dtype=float) for v in columns.values()], labels=LABELS, **kwargs)


@pytest.mark.parametrize("name", sorted(MEASURES))
def test_a_missing_input_is_refused_naming_the_study(name):
    func, columns = MEASURES[name]
    first = next(iter(columns))
    holed = {**columns, first: [*columns[first][:2], np.nan, *columns[first][3:]]}
    with pytest.raises(AlsmetaInputError, match="trial C"):
        _call(func, holed)


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(sorted(MEASURES)), st.sets(st.integers(0, K - 1), min_size=1, max_size=K - 2), st.data())
def test_drop_equals_the_measure_on_the_complete_studies(name, holes, data):
    func, columns = MEASURES[name]
    names = list(columns)
    holed = {n: list(map(float, v)) for n, v in columns.items()}
    for i in holes:
        holed[data.draw(st.sampled_from(names))][i] = np.nan
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dropped = _call(func, holed, na_action="drop")
    assert any(issubclass(w.category, AlsmetaWarning) and f"{len(holes)} of {K}" in str(w.message) for w in caught)
    keep = [i for i in range(K) if i not in holes]
    complete = func(*[np.asarray(v, dtype=float)[keep] for v in columns.values()], labels=[LABELS[i] for i in keep])
    assert list(dropped.labels) == [LABELS[i] for i in keep]
    np.testing.assert_array_equal(dropped.yi, complete.yi)
    np.testing.assert_array_equal(dropped.vi, complete.vi)


def test_nothing_missing_changes_nothing_and_a_bad_na_action_is_refused():
    func, columns = MEASURES["mean_difference"]
    a, b = _call(func, columns), _call(func, columns, na_action="drop")
    np.testing.assert_array_equal(a.yi, b.yi)
    with pytest.raises(AlsmetaInputError, match="na_action"):
        _call(func, columns, na_action="omit")
