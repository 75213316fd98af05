"""A large batch split over a two-worker dask.distributed.LocalCluster: exactly the single-process states."""
import numpy as np
import pytest

from conftest import cached_model

distributed = pytest.importorskip("dask.distributed")

from hamuxc.parallel import make_states, run_split, slice_states  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster, distributed.Client(cluster) as c:
        yield c


def test_split_batch_gives_exactly_the_single_process_states(client):
    m = cached_model("dense_am")
    s = m.normal(256, 5)
    mask = np.zeros((256,) + m.neurons[0].shape)
    mask[::3, :10] = 1  # per-sample clamps travel with their samples
    s.clamp(m.neuron_names[0], mask)
    result, reports = run_split(client, m, s, chunk_size=64, steps=40, dt=0.1, record_every=20)
    assert len(reports) == 4 and all(r["steps"] == 40 for r in reports)
    # Both workers took part (the chunks are spread over them).
    assert len(client.scheduler_info()["workers"]) == 2
    single = s.clone()
    r = m.run(single, steps=40, dt=0.1, record_every=20)
    for n in m.neuron_names:
        assert result[n].tobytes() == single[n].tobytes(), n
    np.testing.assert_array_equal(np.concatenate([x["trace_energy"] for x in reports], axis=1), r.trace_energy)
    assert result.clamps.keys() == s.clamps.keys()


def test_uneven_last_chunk_and_a_float64_model(client):
    m = cached_model("custom_energies")
    s = m.normal(100, 1)
    result, reports = run_split(client, m, s, chunk_size=32, steps=25, dt=0.05)
    assert [len(r["trace_steps"]) for r in reports] == [0, 0, 0, 0]
    single = s.clone()
    m.run(single, steps=25, dt=0.05)
    for n in m.neuron_names:
        assert result[n].dtype == np.float64
        assert result[n].tobytes() == single[n].tobytes(), n


def test_slices_round_trip(readme):
    s = readme.normal(10, 1)
    s.clamp("input")
    part = slice_states(s, 2, 7)
    t = make_states(readme, part)
    assert t.batch == 5 and t.clamps == {"input": None}
    np.testing.assert_array_equal(t["hidden"], s["hidden"][2:7])


def test_bad_arguments(client, readme):
    with pytest.raises(ValueError, match="chunk_size must be at least 1, got 0"):
        run_split(client, readme, readme.zeros(1), chunk_size=0)
    with pytest.raises(ValueError, match="progress is not available"):
        run_split(client, readme, readme.zeros(1), progress=True)
