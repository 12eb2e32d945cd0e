"""The one argument check of jaxdiag: an error that names the argument, the expected and the
found value."""

from typing import Any


def require(ok: bool, name: str, expected: str, found: Any) -> None:
    """Raises ``ValueError("name: expected ..., found ...")`` unless ``ok``.

    ``name`` is what the caller called the argument: ``"hparams['momentum']"``, or for a config
    key ``"config key 'train.steps'"`` (``jaxdiag.experiment.config.require_key``)."""
    if not ok:
        raise ValueError(f"{name}: expected {expected}, found {found!r}.")
