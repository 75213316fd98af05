"""Model.train / Model.evaluate (include/hamux/training.h): a small classifier learns, the result
does not depend on threads, and bad data is refused with its message before training."""
import numpy as np
import pytest

import hamuxc

CLASSIFIER = {
    "hamux": "1", "name": "py-classifier", "seed": 3,
    "params": {"W1": {"shape": [8, 16], "init": {"normal": {"std": 0.2}}},
               "W2": {"shape": [4, 16], "init": {"normal": {"std": 0.2}}}},
    "neurons": {"input": {"shape": [8], "lagrangian": "identity"},
                "labels": {"shape": [4], "lagrangian": "softmax"},
                "hidden": {"shape": [16], "lagrangian": "relu"}},
    "synapses": {"dense1": {"linear": {"W": "W1"}}, "dense2": {"linear": {"W": "W2"}}},
    "connections": [{"neurons": ["input", "hidden"], "synapse": "dense1"},
                    {"neurons": ["labels", "hidden"], "synapse": "dense2"}],
}
LOSS = {"neuron": "labels", "loss": "cross_entropy"}
KW = dict(feeds={"x": "input"}, loss=LOSS, target="y", steps=6, dt=0.5, batch=16)


def blobs(n, seed):
    protos = np.where(np.random.default_rng(7).random((4, 8)) < 0.5, -1.0, 1.0)
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    return {"x": protos[y] + 0.6 * rng.standard_normal((n, 8)), "y": y}


def test_a_classifier_learns_and_evaluate_agrees_with_the_history():
    m = hamuxc.load(CLASSIFIER)
    train, held = blobs(320, 1), blobs(160, 2)
    before = m.evaluate(held, **KW)
    assert before["loss"] == pytest.approx(np.log(4), abs=0.1)
    h = m.train(train, validation=held, optimizer={"name": "adam", "lr": 0.03}, epochs=2, seed=1, **KW)
    after = m.evaluate(held, **KW)
    assert [e["epoch"] for e in h["epochs"]] == [1, 2] and h["steps"] == 40 and not h["interrupted"]
    assert after["loss"] < before["loss"] / 4
    assert after["accuracy"] >= 0.95
    assert h["epochs"][1]["validation_loss"] == after["loss"]
    assert h["epochs"][1]["validation_accuracy"] == after["accuracy"]


def test_params_do_not_depend_on_threads_and_out_writes_the_run(tmp_path):
    data = blobs(200, 3)
    results = []
    for threads in (1, 2):
        m = hamuxc.load(CLASSIFIER)
        m.train(data, epochs=1, threads=threads, out=str(tmp_path / f"t{threads}"), **{**KW, "batch": 50})
        results.append(m.params()["W1"])
    assert np.array_equal(results[0], results[1])
    for f in ("checkpoint.npz", "params.npz", "log.csv", "curves.svg"):
        assert (tmp_path / "t1" / f).exists()


def test_bad_data_is_named_and_the_params_are_kept():
    m = hamuxc.load(CLASSIFIER)
    before = m.params()["W1"].copy()
    data = blobs(40, 1)
    data["y"][5] = 4
    with pytest.raises(hamuxc.Error) as e:
        m.train(data, **KW)
    assert str(e.value) == ("train data: array 'y': sample 5: class index 4 is out of range for neuron 'labels' "
                            "(4 elements: 0 to 3)")
    data = blobs(40, 1)
    data["x"][3, 2] = np.nan
    with pytest.raises(hamuxc.Error, match=r"^train data: array 'x': sample 3, element 2 is nan$"):
        m.train(data, **KW)
    with pytest.raises(hamuxc.Error, match=r"^optimizer: unknown key 'learning_rate'"):
        m.train(blobs(40, 1), optimizer={"learning_rate": 0.1}, **KW)
    assert np.array_equal(m.params()["W1"], before)
