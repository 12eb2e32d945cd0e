import jiwer
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jaxdiag.metrics as jm

WORDS = st.sampled_from(["a", "b", "cat", "dog", "the", "é", "a\tb"])
SPACES = st.sampled_from([" ", "  ", "\t", " \n ", "", "\u00a0", " \u2003"])


@st.composite
def sentences(draw):
    words = draw(st.lists(WORDS, max_size=8))
    out = draw(SPACES)
    for w in words:
        out += w + draw(SPACES.filter(bool))
    return out


@settings(max_examples=60, deadline=None)
@given(pairs=st.lists(st.tuples(sentences(), sentences()), min_size=1, max_size=12))
def test_wer_and_cer_equal_jiwer(pairs):
    references = [r for r, _ in pairs]
    hypotheses = [h for _, h in pairs]
    for ours, theirs in ((jm.word_error_rate, jiwer.wer), (jm.char_error_rate, jiwer.cer)):
        try:
            expected = theirs(references, hypotheses)
        except ValueError:  # jiwer refuses some all-empty inputs
            continue
        assert abs(float(ours(references, hypotheses)) - expected) < 1e-6


CASED = st.sampled_from(["A", "b,", "Cat", "dog!", "the", "É", "a\tb", "x.y"])


@settings(max_examples=20, deadline=None)
@given(pairs=st.lists(st.tuples(st.lists(CASED, max_size=6).map(" ".join),
                                st.lists(CASED, max_size=6).map("  ".join)),
                      min_size=1, max_size=8),
       which=st.sampled_from(["both", "reference", "hypothesis"]))
def test_jiwer_transforms_are_applied_as_jiwer_applies_them(pairs, which):
    """Issue 26: jiwer's reference_transform / hypothesis_transform (a Compose run on the
    host); the side given none keeps jiwer's default."""
    references = [r for r, _ in pairs]
    hypotheses = [h for _, h in pairs]
    words = jiwer.Compose([jiwer.ToLowerCase(), jiwer.RemovePunctuation(),
                           jiwer.RemoveMultipleSpaces(), jiwer.Strip(),
                           jiwer.ReduceToListOfListOfWords()])
    characters = jiwer.Compose([jiwer.ToLowerCase(), jiwer.RemovePunctuation(), jiwer.Strip(),
                                jiwer.ReduceToListOfListOfChars()])
    for ours, theirs, transform in ((jm.word_error_rate, jiwer.wer, words),
                                    (jm.char_error_rate, jiwer.cer, characters)):
        kwargs = {f"{side}_transform": transform for side in ("reference", "hypothesis")
                  if which in (side, "both")}
        try:
            expected = theirs(references, hypotheses, **kwargs)
        except ValueError:  # jiwer refuses empty references
            continue
        assert abs(float(ours(references, hypotheses, **kwargs)) - expected) < 1e-6
    with pytest.raises(ValueError, match="reference_transform: expected a transform returning "
                                         "a list of lists of strings"):
        jm.word_error_rate(["a b"], ["a"], reference_transform=lambda s: [x.upper() for x in s])


def test_edit_distances_match_a_python_dynamic_program():
    def reference(a, b):
        d = np.arange(len(b) + 1)
        for i, x in enumerate(a, 1):
            prev, d[0] = d[0], i
            for j, y in enumerate(b, 1):
                prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (x != y))
        return d[-1]

    rng = np.random.default_rng(0)
    refs = [list(rng.integers(0, 4, rng.integers(0, 40))) for _ in range(300)]
    hyps = [list(rng.integers(0, 4, rng.integers(0, 40))) for _ in range(300)]
    got = jm.edit_distances(refs, hyps)
    np.testing.assert_array_equal(got, [reference(a, b) for a, b in zip(refs, hyps, strict=True)])


def test_mismatched_lengths_and_non_strings_are_errors():
    with pytest.raises(ValueError, match="hypothesis: expected 2 sentences"):
        jm.word_error_rate(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="reference: expected strings, found int at index 1"):
        jm.char_error_rate(["a", 3], ["a", "b"])
