"""A model named in a config: a built-in name or a Python entry point ``package.module:function``.

As big_vision names its models, a config's ``model = "mypackage.nets:make_net"`` names a
function ``make_net(key) -> model`` (a Flax NNX module, a ``(linen_module, variables)`` pair or
an ``(apply_fn, params)`` pair) that the run imports and calls once per population member.
"""

import importlib
from collections.abc import Callable
from typing import Any

import jax


def model_factory(spec: str, key_name: str = "model") -> Callable[[jax.Array], Any]:
    """The function ``package.module:function`` names.

    Raises:
      ValueError: a spec without one ``:``, a module that does not import or a name it does
        not have, or something not callable; naming ``key_name`` and the spec.
    """
    module_name, colon, function_name = spec.partition(":")
    if not colon or not module_name or not function_name or ":" in function_name:
        raise ValueError(f"config key {key_name!r}: expected a built-in model name or a Python "
                         f"entry point 'package.module:function', found {spec!r}.")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise ValueError(f"config key {key_name!r}: could not import {module_name!r} of "
                         f"{spec!r} ({type(e).__name__}: {e}); is its package installed or on "
                         "PYTHONPATH?") from None
    factory = getattr(module, function_name, None)
    if not callable(factory):
        raise ValueError(f"config key {key_name!r}: expected {module_name!r} to define a function "
                         f"{function_name!r} (key -> model), found "
                         f"{type(factory).__name__ if factory is not None else 'no such name'}.")
    return factory
