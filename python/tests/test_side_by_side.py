"""hamuxc and the JAX library hamux in one process (optional: needs `pip install hamux==0.2.2`)."""
import importlib.metadata

import numpy as np
import pytest

import hamuxc
from conftest import model_path


def jax_hamux():
    try:
        version = importlib.metadata.version("hamux")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("the JAX library hamux is not installed (pip install hamux==0.2.2 fastcore equinox)")
    if version != "0.2.2":
        pytest.skip(f"the JAX library hamux {version} is installed; this test is for 0.2.2")
    return pytest.importorskip("hamux")


def test_both_import_in_one_process_and_keep_their_names():
    hmx = jax_hamux()
    assert hmx.__name__ == "hamux" and hamuxc.__name__ == "hamuxc"
    assert hmx is not hamuxc
    # Both work after the other is loaded: hamuxc's LLVM and jaxlib's are kept apart.
    import jax.numpy as jnp
    m = hamuxc.load(model_path("readme"))
    s = m.normal(2, 1)
    m.run(s, steps=10)
    assert np.isfinite(s.energy()).all()
    assert float(jnp.sum(jnp.ones(3))) == 3.0


def test_jax_hamux_first_then_hamuxc_in_a_fresh_process():
    jax_hamux()
    import subprocess
    import sys
    code = ("import hamux, jax.numpy as jnp, hamuxc; m = hamuxc.load(%r); s = m.normal(1, 1); m.run(s, steps=5); "
            "print(hamux.__name__, hamuxc.__name__, float(jnp.sum(jnp.arange(4.0))), s.energy().shape)" % model_path("readme"))
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "hamux hamuxc 6.0 (1,)"


def test_stubs_name_every_public_member():
    import pathlib
    stub = pathlib.Path(hamuxc.__file__).with_name("_core.pyi").read_text()
    for cls in (hamuxc.Model, hamuxc.States, hamuxc.RunReport, hamuxc.Neuron, hamuxc.GuardEvent):
        assert f"class {cls.__name__}" in stub
        for name in dir(cls):
            if not name.startswith("_"):
                assert f"def {name}(" in stub, f"{cls.__name__}.{name} is missing from _core.pyi"
    # Methods that make States or arrays say so (editor completion on their results).
    assert "def zeros(self, batch: int) -> States:" in stub
    assert "def get(self, neuron: str) -> numpy.ndarray:" in stub
    package = pathlib.Path(hamuxc.__file__).with_name("__init__.pyi").read_text()
    for name in hamuxc.__all__:
        assert name in package, name
