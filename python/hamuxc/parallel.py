"""Splitting a large batch over Dask workers (or any executor with ``submit``).

    from dask.distributed import Client, LocalCluster
    from hamuxc.parallel import run_split

    with LocalCluster(n_workers=2, threads_per_worker=1) as cluster, Client(cluster) as client:
        result, reports = run_split(client, model, states, chunk_size=256, steps=100, dt=0.1)

The model travels to each worker once (pickled as its JSON and params; a worker compiles it
or takes the kernel from its disk cache), each chunk of samples as plain arrays. Every sample
is computed alone by the same code, so the result is the single-process one bit for bit when
each chunk is a multiple of 16 samples (the kernel treats samples in groups of 4 and blocks of
up to 16; the last chunk may be shorter). See docs/python.md.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from ._core import Model, States


def slice_states(states: States, begin: int, end: int) -> Dict[str, Any]:
    """Samples [begin, end) of ``states`` as a picklable dict: arrays and clamp masks."""
    values = {name: arr[begin:end] for name, arr in states.to_dict().items()}
    clamps = {}
    for name, mask in states.clamps.items():
        shape = states.model.neuron(name).shape
        # A per-sample mask [batch, ...shape] is cut with the samples; the others apply to all.
        if mask is not None and mask.shape != tuple(shape):
            mask = mask[begin:end]
        clamps[name] = mask
    return {"batch": end - begin, "values": values, "clamps": clamps}


def make_states(model: Model, part: Dict[str, Any]) -> States:
    """The States of a dict made by :func:`slice_states`."""
    s = model.zeros(part["batch"])
    for name, value in part["values"].items():
        s.set(name, value)
    for name, mask in part["clamps"].items():
        s.clamp(name, mask)
    return s


def run_chunk(model: Model, part: Dict[str, Any], run_options: Dict[str, Any]) -> Dict[str, Any]:
    """Runs one chunk (on a worker): returns its final states and what its run reported."""
    s = make_states(model, part)
    r = model.run(s, **run_options)
    return {
        "values": s.to_dict(),
        "report": {"steps": r.steps, "converged": r.converged, "max_dx": r.max_dx, "dt": r.dt,
                   "guard": [(g.step, g.sample, g.energy_before, g.energy_after, g.new_dt) for g in r.guard],
                   "trace_steps": r.trace_steps, "trace_energy": r.trace_energy},
    }


def run_split(client: Any, model: Model, states: States, *, chunk_size: int = 64,
              model_future: Optional[Any] = None, **run_options: Any) -> Tuple[States, List[Dict[str, Any]]]:
    """Runs ``states`` in chunks of ``chunk_size`` samples on ``client`` (a dask.distributed Client).

    ``run_options`` are those of :meth:`Model.run` except ``progress``. Returns new States with
    the final states of every sample (and the clamps of ``states``) and one report dict per chunk
    (steps, converged, max_dx, dt, guard, trace_steps, trace_energy). ``states`` is not changed.
    ``model_future``: the model already scattered to the workers (``client.scatter(model,
    broadcast=True)``), to ship it once for many calls.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    if "progress" in run_options:
        raise ValueError("progress is not available for runs on workers")
    if model_future is None:
        model_future = client.scatter(model, broadcast=True)
    futures = [client.submit(run_chunk, model_future, slice_states(states, b, min(b + chunk_size, states.batch)),
                             run_options, pure=False)
               for b in range(0, states.batch, chunk_size)]
    results = client.gather(futures)
    out = states.clone()
    for name in model.neuron_names:
        out.set(name, np.concatenate([r["values"][name] for r in results]))
    return out, [r["report"] for r in results]
