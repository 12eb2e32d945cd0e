"""Scrambled Sobol points: low-discrepancy samples of the unit cube, in NumPy.

Direction numbers are Joe and Kuo's (new-joe-kuo-6.21201) for the first 21 dimensions;
points come in Gray-code order, as in scipy.stats.qmc.Sobol, so that any prefix of 2^m points
is balanced. Scrambling is a random linear matrix scramble followed by a random digital
shift (Matousek 1998; Owen 2003), the same family as scipy's ``scramble=True``.

References:
  S. Joe and F. Y. Kuo, "Constructing Sobol sequences with better two-dimensional
  projections", SIAM J. Sci. Comput. 30 (2008).
"""

import numpy as np

BITS = 30
# (degree s, coefficients a, initial m_1..m_s) of dimensions 2..21; dimension 1 is m_j = 1.
_JOE_KUO = (
    (1, 0, (1,)), (2, 1, (1, 3)), (3, 1, (1, 3, 1)), (3, 2, (1, 1, 1)), (4, 1, (1, 1, 3, 3)),
    (4, 4, (1, 3, 5, 13)), (5, 2, (1, 1, 5, 5, 17)), (5, 4, (1, 1, 5, 5, 5)),
    (5, 7, (1, 1, 7, 11, 19)), (5, 11, (1, 1, 5, 1, 1)), (5, 13, (1, 1, 1, 3, 11)),
    (5, 14, (1, 3, 5, 5, 31)), (6, 1, (1, 3, 3, 9, 7, 49)), (6, 13, (1, 1, 1, 15, 21, 21)),
    (6, 16, (1, 3, 1, 13, 27, 49)), (6, 19, (1, 1, 1, 15, 7, 5)),
    (6, 22, (1, 3, 1, 15, 13, 25)), (6, 25, (1, 1, 5, 5, 19, 61)),
    (7, 1, (1, 3, 7, 11, 23, 15, 103)), (7, 4, (1, 3, 7, 13, 13, 15, 69)),
)
MAX_DIMENSION = len(_JOE_KUO) + 1


def _direction_numbers(dimension: int) -> np.ndarray:
    """uint64 array (dimension, BITS): V[d, j] = v_j * 2^BITS."""
    v = np.zeros((dimension, BITS), np.uint64)
    v[0] = [1 << (BITS - 1 - j) for j in range(BITS)]
    for d in range(1, dimension):
        s, a, m = _JOE_KUO[d - 1]
        row = [m[j] << (BITS - 1 - j) for j in range(s)]
        for j in range(s, BITS):
            value = row[j - s] ^ (row[j - s] >> s)
            for k in range(1, s):
                if (a >> (s - 1 - k)) & 1:
                    value ^= row[j - k]
            row.append(value)
        v[d] = row
    return v


def _scramble(v: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Left-multiplies each dimension's direction numbers by a random unit lower-triangular
    bit matrix (bits from the most significant down)."""
    dimension = v.shape[0]
    lower = np.tril(rng.integers(0, 2, (dimension, BITS, BITS), dtype=np.uint64), -1)
    lower += np.eye(BITS, dtype=np.uint64)
    # bits[d, j, b]: bit b (0 = most significant) of v[d, j]
    shifts = np.arange(BITS - 1, -1, -1, dtype=np.uint64)
    bits = (v[:, :, None] >> shifts) & np.uint64(1)
    scrambled = np.einsum("dbc,djc->djb", lower, bits) & np.uint64(1)
    return (scrambled << shifts).sum(axis=-1, dtype=np.uint64)


def sobol(n: int, dimension: int, *, start: int = 0, scramble: bool = True,
          seed: int = 0) -> np.ndarray:
    """Points ``start .. start + n - 1`` of a (scrambled) Sobol sequence.

    Args:
      n: number of points.
      dimension: 1 to ``MAX_DIMENSION``.
      start: index of the first point; asking for [0, a) then [a, b) gives [0, b).
      scramble: apply a linear matrix scramble and a digital shift drawn from ``seed``.
      seed: the scramble's seed; the same seed gives the same points.

    Returns:
      float64 array of shape (n, dimension) in [0, 1).
    """
    if not 1 <= dimension <= MAX_DIMENSION:
        raise ValueError(f"dimension: expected 1 to {MAX_DIMENSION}, found {dimension}.")
    if n < 0 or start < 0 or start + n > 1 << BITS:
        raise ValueError(f"n, start: expected 0 <= start and start + n <= 2^{BITS}, "
                         f"found n={n}, start={start}.")
    v = _direction_numbers(dimension)
    shift = np.zeros(dimension, np.uint64)
    if scramble:
        rng = np.random.default_rng(seed)
        v = _scramble(v, rng)
        shift = rng.integers(0, 1 << BITS, dimension, dtype=np.uint64)
    index = np.arange(start, start + n, dtype=np.uint64)
    gray = index ^ (index >> np.uint64(1))
    points = np.tile(shift, (n, 1))
    for j in range(BITS):
        on = ((gray >> np.uint64(j)) & np.uint64(1)).astype(bool)
        points[on] ^= v[:, j]
    return points.astype(np.float64) / float(1 << BITS)
