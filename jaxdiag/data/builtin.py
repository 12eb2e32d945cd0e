"""The built-in data set: UCI optical handwritten digits, shipped inside the package."""

from importlib import resources

import numpy as np

from jaxdiag.data.dataset import Dataset

BUILTIN_NAMES = ("digits",)


def load_digits() -> Dataset:
    """The 1,797 UCI optical digits as 8x8 single-channel images.

    Returns:
      Dataset with x float32 of shape (1797, 8, 8, 1), pixel counts in [0, 16], and y int32
      of shape (1797,) with the digit 0..9. Read offline from ``jaxdiag/data/digits.npz``
      (CC BY 4.0, attribution in ``DIGITS_LICENSE.txt`` beside it).

    References:
      Alpaydin & Kaynak (1998), Optical Recognition of Handwritten Digits, UCI ML Repository.
    """
    with resources.files("jaxdiag.data").joinpath("digits.npz").open("rb") as f:
        arrays = np.load(f)
        x, y = arrays["x"], arrays["y"]
    return Dataset(
        x=x[..., None].astype(np.float32),
        y=y.astype(np.int32),
        class_names=tuple(str(d) for d in range(10)),
        origin="digits",
    )
