"""Floor 1: built-in and user data, the synthetic target domain, splits and normalization."""

from jaxdiag.data.augment import random_translations, with_random_translations
from jaxdiag.data.builtin import BUILTIN_NAMES, load_digits
from jaxdiag.data.dataset import Dataset
from jaxdiag.data.files import SUPPORTED_SUFFIXES, load_file
from jaxdiag.data.normalize import Normalizer, fit_normalizer, normalize
from jaxdiag.data.shift import DomainShift, apply_shift
from jaxdiag.data.splits import SOURCE, TARGET, Split, make_splits
from jaxdiag.data.synthesis import SHIFT_PARAMETERS, random_shift
from jaxdiag.data.tags import read_dev_tags

__all__ = [
    "BUILTIN_NAMES",
    "SHIFT_PARAMETERS",
    "SOURCE",
    "SUPPORTED_SUFFIXES",
    "TARGET",
    "Dataset",
    "DomainShift",
    "Normalizer",
    "Split",
    "apply_shift",
    "fit_normalizer",
    "load_digits",
    "load_file",
    "make_splits",
    "normalize",
    "random_shift",
    "random_translations",
    "read_dev_tags",
    "with_random_translations",
]
