"""The examples in examples/python run and produce what they say."""
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO

EXAMPLES = REPO / "examples" / "python"


def test_fashion_retrieval_writes_the_plot(tmp_path):
    pytest.importorskip("matplotlib")
    p = subprocess.run([sys.executable, str(EXAMPLES / "fashion_retrieval.py"), "--count", "8", "--steps", "120",
                        "--synthetic", "--out", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "storing 8 synthetic shapes"
    # Retrieval lowers the error of both corruptions.
    for line in lines[1:3]:
        before, after = (float(x) for x in line.split("rms error ")[1].split(",")[0].split(" -> "))
        assert after < before, line
    import matplotlib.image
    img = matplotlib.image.imread(tmp_path / "retrieval.png")
    assert img.shape[0] > 300 and img.shape[1] > 300 and np.std(img) > 0.05


def test_synthetic_shapes_are_distinct():
    sys.path.insert(0, str(EXAMPLES))
    from fashion_retrieval import synthetic_shapes
    s = synthetic_shapes(24)
    assert s.shape == (24, 784) and set(np.unique(s)) == {-1.0, 1.0}
    assert len({row.tobytes() for row in s}) == 24
