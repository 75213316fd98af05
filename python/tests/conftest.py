"""Shared fixtures of the hamuxc tests: the repository's models, a private kernel cache."""
import os
import pathlib
import tempfile

# Kernels compiled by the tests go to a cache of their own (nothing outside the repository
# is read); set before hamuxc is imported, and inherited by subprocesses and Dask workers.
if "HAMUX_CACHE_DIR" not in os.environ:
    import atexit
    import shutil

    os.environ["HAMUX_CACHE_DIR"] = tempfile.mkdtemp(prefix="hamuxc-test-cache-")
    atexit.register(shutil.rmtree, os.environ["HAMUX_CACHE_DIR"], True)

import pytest  # noqa: E402

import hamuxc  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]
MODELS = REPO / "examples" / "models"
GOLDEN = REPO / "tests" / "golden" / "data"
CONTRACT_MODELS = ["readme", "dense_am", "classical_hopfield", "conv", "custom_energies", "energy_transformer"]


def model_path(name: str) -> str:
    return str(MODELS / f"{name}.json")


_cache = {}


def cached_model(name: str) -> hamuxc.Model:
    """One compiled Model per contract model for the tests that do not change its params."""
    if name not in _cache:
        _cache[name] = hamuxc.load(model_path(name))
    return _cache[name]


@pytest.fixture
def readme():
    """A fresh readme model (W3): its params may be changed by the test."""
    return hamuxc.load(model_path("readme"))


@pytest.fixture
def hamux_binary():
    """The hamux command built by the C++ build (scripts/test.sh builds it first)."""
    path = REPO / "build" / "hamux"
    if not path.exists():
        pytest.skip("build/hamux is not built (run scripts/test.sh, or cmake --build build --target hamux)")
    return str(path)
