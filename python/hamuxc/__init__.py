"""hamuxc: the hamux compiler and runtime from Python, on NumPy arrays.

    import hamuxc
    model = hamuxc.load("examples/models/readme.json")   # or hamuxc.load({... the JSON as a dict ...})
    states = model.normal(batch=8, seed=1)                # or model.zeros(8)
    states["input"] = images                               # [batch, 7] or [7]
    states.clamp("input")
    report = model.run(states, steps=100, dt=0.1, record_every=10, progress=True)
    labels = states.activation("labels")                   # numpy array [8, 8], model dtype

The import name is ``hamuxc`` so that it and the JAX library ``hamux`` can be used side by
side in one process. Everything is computed by the hamux C++ library (include/hamux/hamux.h);
this package converts arrays and releases the GIL. See docs/python.md.
"""
from __future__ import annotations

import json as _json
import os as _os
from typing import Any, Mapping, Union

from ._core import Error, GuardEvent, Model, Neuron, RunReport, States

__all__ = ["Error", "GuardEvent", "Model", "Neuron", "RunReport", "States", "load", "loads"]
__version__ = "0.1.0"


def load(source: Union[str, "_os.PathLike[str]", Mapping[str, Any]], *, base_dir: Union[str, "_os.PathLike[str]", None] = None,
         disk_cache: bool = True) -> Model:
    """Loads, validates, derives and compiles a model: a path to its JSON file, or the JSON as a dict.

    For a dict, relative ``{"file": ...}`` param paths are read from ``base_dir`` (default: the
    current directory) and error messages name the file ``<json>``. ``disk_cache`` reuses compiled
    kernels from ``$HAMUX_CACHE_DIR`` (default ``~/.cache/hamux``). Raises ``hamuxc.Error``.
    """
    if isinstance(source, Mapping):
        return loads(_json.dumps(source), base_dir=base_dir, disk_cache=disk_cache)
    if base_dir is not None:
        raise TypeError("base_dir is for a model given as a dict or JSON text; a file's params are read beside it")
    return Model._load(_os.fspath(source), disk_cache)


def loads(json_text: str, *, base_dir: Union[str, "_os.PathLike[str]", None] = None, disk_cache: bool = True) -> Model:
    """Like :func:`load`, from the model's JSON text."""
    return Model._from_json(json_text, _os.fspath(base_dir) if base_dir is not None else ".", disk_cache)
