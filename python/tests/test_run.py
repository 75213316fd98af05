"""Model.run: every RunOptions field, the report and trace arrays, progress callbacks, errors."""
import numpy as np
import pytest

import hamuxc
from conftest import cached_model, model_path


def test_steps_and_dt_are_explicit_euler_on_a_closed_form():
    # One identity neuron with no synapse: E = x^2 / 2, dE/dxhat = x, so x_k = x_0 (1 - dt)^k.
    m = hamuxc.load({"hamux": "1", "dtype": "float64", "neurons": {"v": {"shape": [3], "lagrangian": "identity"}},
                     "synapses": {"b": {"bias": {"b": "c"}}}, "params": {"c": {"shape": [3], "init": {"zeros": {}}}},
                     "connections": [{"neurons": ["v"], "synapse": "b"}]})
    s = m.zeros(2)
    s["v"] = [1.0, -2.0, 0.5]
    r = m.run(s, steps=7, dt=0.25)
    assert (r.steps, r.converged, r.dt) == (7, False, 0.25)
    np.testing.assert_allclose(s["v"], np.array([[1.0, -2.0, 0.5]] * 2) * 0.75 ** 7, rtol=1e-14)


def test_record_every_traces_the_energy(readme):
    s = readme.normal(3, 1)
    r = readme.run(s, steps=25, record_every=10)
    np.testing.assert_array_equal(r.trace_steps, [0, 10, 20, 25])
    assert r.trace_steps.dtype == np.int64
    assert r.trace_energy.shape == (4, 3) and r.trace_energy.dtype == np.float32
    np.testing.assert_array_equal(r.trace_energy[-1], s.energy())
    assert np.all(np.diff(r.trace_energy.astype(np.float64), axis=0) <= 1e-6)  # the energy descends
    assert r.trace_tree == {}


def test_record_tree_traces_the_energy_tree(readme):
    s = readme.normal(2, 1)
    r = readme.run(s, steps=4, record_every=2, record_tree=True)
    assert list(r.trace_tree)[-1] == "total" and len(r.trace_tree) == 6
    for v in r.trace_tree.values():
        assert v.shape == (3, 2)
    np.testing.assert_allclose(r.trace_tree["total"], r.trace_energy, rtol=1e-5, atol=1e-6)


def test_no_trace_without_record_every(readme):
    r = readme.run(readme.zeros(2), steps=3)
    assert r.trace_steps.shape == (0,) and r.trace_energy.shape == (0, 2)
    assert repr(r) == "RunReport(steps=3, converged=False, dt=0.1, guard events=0, trace rows=0)"


def test_tol_stops_a_converged_run(readme):
    s = readme.normal(2, 1)
    r = readme.run(s, steps=100000, tol=1e-4)
    assert r.converged and 0 < r.steps < 100000 and r.max_dx < 1e-4


def test_threads_do_not_change_the_results():
    m = cached_model("dense_am")
    a, b = m.normal(48, 3), m.normal(48, 3)
    m.run(a, steps=20, threads=1)
    m.run(b, steps=20, threads=0)
    for n in m.neuron_names:
        assert a[n].tobytes() == b[n].tobytes()


def test_energy_guard_halves_dt_when_the_energy_rises(readme):
    s = readme.normal(2, 4, std=3.0)
    r = readme.run(s, steps=20, dt=3.0, energy_guard=True)
    assert r.guard and r.dt < 3.0
    g = r.guard[0]
    assert g.energy_after > g.energy_before and g.new_dt == 1.5 and g.step == 1
    assert repr(g).startswith("GuardEvent(step=1, sample=")
    unguarded = readme.normal(2, 4, std=3.0)
    r2 = readme.run(unguarded, steps=1, dt=3.0, record_every=1)
    assert r2.trace_energy[1, g.sample] > r2.trace_energy[0, g.sample]  # the step the guard undid


def test_progress_callback_sees_every_chunk_with_interval_zero(readme):
    calls = []
    readme.run(readme.zeros(1), steps=200, progress=lambda d, t: calls.append((d, t)), progress_interval=0)
    assert calls == [(64, 200), (128, 200), (192, 200), (200, 200)]


def test_progress_callback_is_called_once_at_the_end_with_a_long_interval(readme):
    calls = []
    readme.run(readme.zeros(1), steps=300, progress=lambda d, t: calls.append((d, t)), progress_interval=1e6)
    assert calls == [(300, 300)]


def test_progress_reports_the_steps_of_a_converged_run(readme):
    calls = []
    r = readme.run(readme.normal(1, 1), steps=10 ** 6, tol=1e-4, progress=lambda d, t: calls.append(d),
                   progress_interval=1e6)
    assert r.converged and calls == [r.steps]


def test_progress_with_a_tqdm_bar(readme):
    tqdm = pytest.importorskip("tqdm")
    import io
    out = io.StringIO()
    with tqdm.tqdm(total=500, file=out) as bar:
        readme.run(readme.zeros(1), steps=500, progress=lambda d, t: bar.update(d - bar.n), progress_interval=0)
        assert bar.n == 500
    assert "500/500" in out.getvalue()


def test_progress_true_shows_a_tqdm_bar(readme, capsys):
    pytest.importorskip("tqdm")
    readme.run(readme.zeros(1), steps=100, progress=True)
    assert "100/100" in capsys.readouterr().err


def test_an_exception_in_the_callback_stops_the_run(readme):
    s = readme.normal(1, 1)
    seen = []

    def stop(done, total):
        seen.append(done)
        if done >= 128:
            raise RuntimeError("enough")

    with pytest.raises(RuntimeError, match="enough"):
        readme.run(s, steps=10 ** 6, progress=stop, progress_interval=0)
    assert seen == [64, 128]
    # The states hold step 128: the same as a 128-step run.
    ref = readme.normal(1, 1)
    readme.run(ref, steps=128)
    for n in readme.neuron_names:
        assert s[n].tobytes() == ref[n].tobytes()
    readme.run(s, steps=1)  # and the states are usable again


def test_option_errors_have_the_exact_messages(readme):
    s = readme.zeros(1)
    f = model_path("readme")
    cases = [({"steps": -1}, "steps must be >= 0, got -1"),
             ({"dt": 0.0}, "dt must be a positive number, got 0.000000"),
             ({"tol": -1.0}, "tol must be >= 0, got -1.000000"),
             ({"threads": -1}, "threads must be >= 0, got -1"),
             ({"record_every": -1}, "record_every must be >= 0, got -1"),
             ({"progress_interval": -1.0}, "progress_interval must be >= 0, got -1.000000")]
    for kwargs, cause in cases:
        with pytest.raises(hamuxc.Error) as e:
            readme.run(s, **kwargs)
        assert (str(e.value), e.value.where, e.value.cause) == (f"{f}: {cause}", f, cause)
    with pytest.raises(hamuxc.Error) as e:
        readme.run(cached_model("dense_am").zeros(1))
    assert str(e.value) == f"{f}: the states were made by another model"
    with pytest.raises(TypeError):
        readme.run(s, 10)  # options are keyword-only


def test_a_diverging_run_names_neuron_sample_and_step(readme):
    s = readme.zeros(2)
    s.set("input", np.full(7, 1e30), sample=1)
    with pytest.raises(hamuxc.Error) as e:
        readme.run(s, steps=10, dt=100, state_bound=0)
    assert e.value.cause == "neuron 'input', sample 1: state is inf at step 5 (try a smaller dt)"
    s = readme.zeros(2)
    s.set("input", np.full(7, 1e30), sample=1)
    with pytest.raises(hamuxc.Error) as e:
        readme.run(s, steps=10, dt=100)  # the default state_bound stops it at the first step
    assert e.value.cause.startswith(
        "neuron 'input', sample 1: state grows without limit (|x| = 9.9e+31 > state_bound 1e+08) at step 1; "
        "either dt is too large")
