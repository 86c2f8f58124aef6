"""Study labels (alsmeta.validation): the fast defaults and the all-text fast path agree with the general path."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from alsmeta.validation import AlsmetaInputError, AlsmetaWarning, default_labels, missing_labels, study_labels


@given(st.integers(min_value=0, max_value=3000))
def test_default_labels_are_study_one_to_k(k):
    assert default_labels(k) == [f"Study {i + 1}" for i in range(k)]
    assert study_labels(None, k) == default_labels(k)


def test_default_labels_at_a_large_k():
    k = 100_000
    labels = default_labels(k)
    assert len(labels) == k and labels[0] == "Study 1" and labels[-1] == "Study 100000"
    assert study_labels(labels, k) == labels  # unique: no warning, unchanged


text = st.text(alphabet=st.sampled_from(["a", "B", " ", "\t", "\n", "\u00a0", "1", "."]), max_size=4)


@given(st.lists(text, max_size=30))
def test_text_fast_path_agrees_with_the_general_path(labels):
    fast = missing_labels(labels)
    # the general (pandas) path, forced by one label that is not a str: an int label is never missing
    general = missing_labels([*labels, 7])[:-1]
    np.testing.assert_array_equal(fast, general)
    np.testing.assert_array_equal(fast, np.array([not x.strip() for x in labels], dtype=bool))


@given(st.lists(st.sampled_from(["a", "b", "c", "a.1"]), min_size=1, max_size=12))
def test_duplicates_are_made_unique_with_a_warning_only_when_there_are_some(labels):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = study_labels(labels, len(labels))
    duplicated = len(set(labels)) < len(labels)
    assert len(set(out)) == len(out)
    assert any(issubclass(w.category, AlsmetaWarning) for w in caught) == duplicated
    if not duplicated:
        assert out == labels


def test_mixed_labels_become_text_and_missing_ones_are_named():
    assert study_labels([1, "b", 2.5], 3) == ["1", "b", "2.5"]
    with pytest.raises(AlsmetaInputError, match=r"studies 2, 4"):
        study_labels(["a", "  ", "c", None], 4)
    with pytest.raises(AlsmetaInputError, match=r"studies 2\)"):
        study_labels(["a", " \t"], 2)
    assert missing_labels(pd.Series(["a", None, float("nan"), ""])).tolist() == [False, True, True, True]
