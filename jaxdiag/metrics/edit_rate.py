"""Word and character error rates, equal to jiwer's ``wer`` and ``cer``.

Sentences are turned into padded token-id arrays on the host (jiwer's default transforms:
collapse runs of whitespace, strip, split on spaces for words; strip for characters) and the
edit distances of all pairs come from one compiled kernel, ``jaxdiag.kernels.levenshtein``.
"""

import re
from collections.abc import Callable, Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxdiag.kernels import levenshtein

_WHITESPACE_RUN = re.compile(r"\s\s+")
_SEPARATOR = "\x00"
_EDGE_WHITESPACE = re.compile(r"\s*\x00\s*")
_CHUNK = 2048  # pairs per kernel call: keeps the working set in cache


def _sentences(name: str, value) -> list[str]:
    sentences = [value] if isinstance(value, str) else list(value)
    for i, s in enumerate(sentences):
        if not isinstance(s, str):
            raise ValueError(f"{name}: expected strings, found {type(s).__name__} at index {i}")
    return sentences


def _bucket(length: int) -> int:
    """Round a width up to a power of two (at least 8), so few shapes are compiled."""
    return max(8, 1 << int(np.ceil(np.log2(max(length, 1)))))


class _Tokens(NamedTuple):
    """Token ids of N sentences, concatenated: ``ids`` (sum of lengths,), ``lengths`` (N,)."""

    ids: np.ndarray
    lengths: np.ndarray

    def padded(self, rows: np.ndarray, width: int, num_rows: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows ``rows`` as an int32 array (num_rows, width) padded with -1, and their lengths."""
        offsets = np.cumsum(self.lengths) - self.lengths
        lengths = np.zeros(num_rows, np.int32)
        lengths[: len(rows)] = self.lengths[rows]
        starts = np.zeros(num_rows, np.int64)
        starts[: len(rows)] = offsets[rows]
        index = starts[:, None] + np.arange(width)
        valid = np.arange(width) < lengths[:, None]
        ids = np.append(self.ids, -1)  # a safe target for padding positions
        return np.where(valid, ids[np.where(valid, index, len(self.ids))], -1), lengths


def _word_tokens(sentences: list[str]) -> _Tokens:
    """jiwer's ``wer_default`` over a whole corpus at once: one regex pass and one split.

    Sentences are joined by NUL (not whitespace, so no run of whitespace crosses it); runs of
    two or more whitespace characters become one space, whitespace next to a sentence end is
    stripped, and the words are split on single spaces (so a lone tab stays inside a word).
    """
    corpus = _SEPARATOR.join(sentences) + _SEPARATOR
    # printable text has no whitespace but the space (str.isprintable is a fast scan)
    if not " ".join(sentences).isprintable():
        corpus = _WHITESPACE_RUN.sub(" ", corpus)
        corpus = _EDGE_WHITESPACE.sub(_SEPARATOR, corpus).lstrip()
        tokens = [t for t in corpus.replace(_SEPARATOR, f" {_SEPARATOR} ").split(" ") if t]
    else:  # only spaces: collapsing, stripping and splitting is exactly str.split()
        tokens = corpus.replace(_SEPARATOR, f" {_SEPARATOR} ").split()
    vocabulary = {token: i for i, token in enumerate(dict.fromkeys(tokens))}
    ids = np.fromiter(map(vocabulary.__getitem__, tokens), np.int32, len(tokens))
    ends = np.flatnonzero(ids == vocabulary[_SEPARATOR])
    return _Tokens(ids[ids != vocabulary[_SEPARATOR]], np.diff(ends, prepend=-1) - 1)


_distances = jax.jit(levenshtein)


def _edit_distances(references: _Tokens, hypotheses: _Tokens) -> np.ndarray:
    """Levenshtein distance of each pair, in chunks of pairs of similar length."""
    order = np.argsort(references.lengths + hypotheses.lengths, kind="stable")
    result = np.zeros(len(order), np.int64)
    chunks = [order[start:start + _CHUNK] for start in range(0, len(order), _CHUNK)]
    pending = []  # dispatched asynchronously: the next chunk is padded while one runs
    for chunk in chunks:
        size = _bucket(len(chunk))  # pad the pair count too: one shape per bucket
        ref, ref_len = references.padded(chunk, _bucket(references.lengths[chunk].max()), size)
        hyp, hyp_len = hypotheses.padded(chunk, _bucket(hypotheses.lengths[chunk].max()), size)
        pending.append(_distances(ref, ref_len, hyp, hyp_len))
    for chunk, distances in zip(chunks, pending, strict=True):
        result[chunk] = np.asarray(distances)[:len(chunk)]
    return result


def _tokens(token_lists: list[np.ndarray]) -> _Tokens:
    lengths = np.array([len(t) for t in token_lists], np.int32)
    ids = np.concatenate(token_lists).astype(np.int32) if token_lists else np.zeros(0, np.int32)
    return _Tokens(ids, lengths)


def edit_distances(references: Sequence[Sequence[int]],
                   hypotheses: Sequence[Sequence[int]]) -> np.ndarray:
    """Levenshtein distance of each pair of int token sequences (host lists, any lengths).

    Returns:
      int64 array, shape (N,).
    """
    if len(references) != len(hypotheses):
        raise ValueError(f"hypotheses: expected {len(references)} sequences (as many as "
                         f"references), found {len(hypotheses)}")
    as_arrays = [np.asarray(t, np.int32).reshape(-1) for t in references]
    return _edit_distances(_tokens(as_arrays), _tokens([np.asarray(t, np.int32).reshape(-1)
                                                        for t in hypotheses]))


def _error_rate(references: _Tokens, hypotheses: _Tokens) -> jax.Array:
    edits = int(_edit_distances(references, hypotheses).sum())
    total = int(references.lengths.sum())
    # jiwer's convention for empty references: the rate is the number of insertions
    return jnp.asarray(edits / total if total else float(edits), jnp.result_type(float))


def _check_pairs(reference, hypothesis) -> tuple[list[str], list[str]]:
    references = _sentences("reference", reference)
    hypotheses = _sentences("hypothesis", hypothesis)
    if len(references) != len(hypotheses):
        raise ValueError(f"hypothesis: expected {len(references)} sentences (as many as "
                         f"reference), found {len(hypotheses)}")
    return references, hypotheses


Transform = Callable[[list[str]], list[list[str]]]


def _transformed(name: str, sentences: list[str], transform: Transform) -> list[list[str]]:
    """``transform(sentences)``, checked to be one list of string tokens per sentence."""
    tokens = transform(sentences)
    if not (isinstance(tokens, list) and all(
            isinstance(t, list) and all(isinstance(w, str) for w in t) for t in tokens)):
        raise ValueError(f"{name}: expected a transform returning a list of lists of strings "
                         f"(one per sentence, as jiwer's ReduceToListOfListOfWords or "
                         f"ReduceToListOfListOfChars returns), found {type(tokens).__name__}")
    if len(tokens) != len(sentences):
        raise ValueError(f"{name}: expected {len(sentences)} token lists (one per sentence), "
                         f"found {len(tokens)}")
    return tokens


def _transformed_rate(references: list[str], hypotheses: list[str], default: Transform,
                      reference_transform: Transform | None,
                      hypothesis_transform: Transform | None) -> jax.Array:
    """The error rate over the tokens the transforms make (each the ``default`` when None)."""
    ref = _transformed("reference_transform", references, reference_transform or default)
    hyp = _transformed("hypothesis_transform", hypotheses, hypothesis_transform or default)
    vocabulary: dict[str, int] = {}
    ids = [np.array([vocabulary.setdefault(w, len(vocabulary)) for w in t], np.int32)
           for t in ref + hyp]
    return _error_rate(_tokens(ids[:len(ref)]), _tokens(ids[len(ref):]))


def _default_words(sentences: list[str]) -> list[list[str]]:
    """jiwer's ``wer_default`` transform, one sentence at a time."""
    return [[w for w in _WHITESPACE_RUN.sub(" ", s).strip().split(" ") if w] for s in sentences]


def _default_characters(sentences: list[str]) -> list[list[str]]:
    """jiwer's ``cer_default`` transform: strip, then characters."""
    return [list(s.strip()) for s in sentences]


def word_error_rate(reference: str | Sequence[str], hypothesis: str | Sequence[str], *,
                    reference_transform: Transform | None = None,
                    hypothesis_transform: Transform | None = None) -> jax.Array:
    """Corpus word error rate: total word edits over total reference words, as ``jiwer.wer``.

    Args:
      reference: a sentence or a sequence of sentences.
      hypothesis: the same number of sentences.
      reference_transform, hypothesis_transform: as jiwer's: a callable from the list of
        sentences to one list of words per sentence (a ``jiwer.Compose`` ending in
        ``ReduceToListOfListOfWords`` is one), run on the host; None: jiwer's default
        (collapse whitespace, strip, split on spaces), on a fast path.

    Returns:
      0-d float array (may exceed 1).
    """
    references, hypotheses = _check_pairs(reference, hypothesis)
    if reference_transform is not None or hypothesis_transform is not None:
        return _transformed_rate(references, hypotheses, _default_words, reference_transform,
                                 hypothesis_transform)
    tokens = _word_tokens(references + hypotheses)
    split = int(tokens.lengths[: len(references)].sum())
    ref = _Tokens(tokens.ids[:split], tokens.lengths[: len(references)])
    hyp = _Tokens(tokens.ids[split:], tokens.lengths[len(references):])
    return _error_rate(ref, hyp)


def char_error_rate(reference: str | Sequence[str], hypothesis: str | Sequence[str], *,
                    reference_transform: Transform | None = None,
                    hypothesis_transform: Transform | None = None) -> jax.Array:
    """Corpus character error rate (spaces count as characters), as ``jiwer.cer``.

    Args and Returns: as ``word_error_rate``; a transform returns one list of characters
    per sentence (``ReduceToListOfListOfChars``), and the default strips each sentence.
    """
    references, hypotheses = _check_pairs(reference, hypothesis)
    if reference_transform is not None or hypothesis_transform is not None:
        return _transformed_rate(references, hypotheses, _default_characters,
                                 reference_transform, hypothesis_transform)

    def characters(sentences: list[str]) -> _Tokens:
        stripped = [s.strip() for s in sentences]
        ids = np.frombuffer("".join(stripped).encode("utf-32-le"), np.uint32).astype(np.int32)
        return _Tokens(ids, np.array([len(s) for s in stripped], np.int32))

    return _error_rate(characters(references), characters(hypotheses))


__all__ = ["char_error_rate", "edit_distances", "word_error_rate"]
