"""The GIL is released while kernels run; Ctrl-C stops a long run cleanly; one States per call."""
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import _thread

import numpy as np
import pytest

import hamuxc
from conftest import cached_model, model_path


def long_run_steps(model, batch, seconds):
    """Steps that take about `seconds` for this model and batch on this machine."""
    s = model.normal(batch, 1)
    t0 = time.perf_counter()
    model.run(s, steps=200)
    per_step = max((time.perf_counter() - t0) / 200, 1e-7)
    return int(seconds / per_step) + 1


def test_other_python_threads_run_while_a_model_runs():
    m = cached_model("dense_am")
    steps = long_run_steps(m, 64, 0.6)
    times = {}

    def worker():
        s = m.normal(64, 2)
        times["start"] = time.perf_counter()
        m.run(s, steps=steps)
        times["end"] = time.perf_counter()

    t = threading.Thread(target=worker)
    ticks = []
    t.start()
    while t.is_alive():
        ticks.append(time.perf_counter())
        time.sleep(0.001)
    t.join()
    start, end = times["start"], times["end"]
    assert end - start > 0.2
    # With the GIL held for the whole run the main thread could not tick inside it.
    inside = [x for x in ticks if start + 0.05 < x < end - 0.05]
    assert len(inside) > 10, (len(inside), end - start)


def test_concurrent_runs_give_the_sequential_results():
    m = cached_model("readme")
    seeds = list(range(6))
    ref = []
    for seed in seeds:
        s = m.normal(16, seed)
        m.run(s, steps=300)
        ref.append(s.to_dict())
    out = [None] * len(seeds)

    def worker(i):
        s = m.normal(16, seeds[i])
        m.run(s, steps=300)
        out[i] = s.to_dict()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(seeds))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for a, b in zip(ref, out):
        for n in m.neuron_names:
            assert a[n].tobytes() == b[n].tobytes()


def test_one_states_serves_one_call_at_a_time():
    m = cached_model("dense_am")
    s = m.normal(64, 1)
    steps = long_run_steps(m, 64, 2.0)
    started = threading.Event()

    def worker():
        m.run(s, steps=steps, progress=lambda d, t: started.set(), progress_interval=0)

    t = threading.Thread(target=worker)
    t.start()
    assert started.wait(10)
    with pytest.raises(hamuxc.Error) as e:
        s.get(m.neuron_names[0])
    assert str(e.value) == "states: in use by another thread (one States serves one call at a time; use clone())"
    with pytest.raises(hamuxc.Error):
        m.run(s, steps=1)
    t.join()
    s.get(m.neuron_names[0])  # free again


def test_set_param_waits_for_running_runs(readme):
    s = readme.normal(4, 1)
    steps = long_run_steps(readme, 4, 0.5)
    started = threading.Event()
    done = {}

    def progress(d, t):
        started.set()
        if d == t:  # the last step; called while the run still holds the params
            done["run"] = time.perf_counter()

    def worker():
        readme.run(s, steps=steps, progress=progress, progress_interval=0)

    t = threading.Thread(target=worker)
    t.start()
    assert started.wait(10)
    readme.set_param("W1", np.zeros((7, 9)))
    done["set"] = time.perf_counter()
    t.join()
    assert done["set"] >= done["run"]


@pytest.fixture
def default_sigint():
    """Python's own SIGINT handler (other libraries, e.g. dask.distributed, may have replaced it)."""
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, old)


def test_keyboard_interrupt_stops_a_long_run_cleanly(readme, default_sigint):
    s = readme.normal(2, 1)
    steps = long_run_steps(readme, 2, 60.0)  # bounded: a lost interrupt fails, it does not hang
    timer = threading.Timer(0.3, _thread.interrupt_main)  # what Ctrl-C does to the main thread
    timer.start()
    t0 = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        readme.run(s, steps=steps, progress_interval=0.05)
    elapsed = time.perf_counter() - t0
    timer.join()
    assert 0.25 < elapsed < 10.0
    assert all(np.isfinite(v).all() for v in s.to_dict().values())
    r = readme.run(s, steps=3)  # the states are free and usable
    assert r.steps == 3


def test_sigint_stops_a_run_in_a_subprocess():
    script = textwrap.dedent(f"""
        import signal, sys, hamuxc
        # Python's own Ctrl-C handler even when this process inherited SIGINT ignored (a
        # job started in the background by a non-interactive shell), as a terminal gives it.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        m = hamuxc.load({model_path('readme')!r})
        s = m.normal(2, 1)
        def started(done, total):
            if done == 64:
                print("running", flush=True)
        try:
            m.run(s, steps=10 ** 9, progress=started, progress_interval=0)
        except KeyboardInterrupt:
            print("interrupted", s.energy().shape, flush=True)
            sys.exit(0)
        sys.exit(3)
    """)
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "running"
        time.sleep(0.2)
        p.send_signal(signal.SIGINT)
        out, _ = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0
    assert out.strip() == "interrupted (2,)"


def test_changing_params_from_the_runs_own_callback_is_refused(readme):
    def change(done, total):
        readme.set_param("W1", np.zeros((7, 9)))

    with pytest.raises(hamuxc.Error) as e:
        readme.run(readme.zeros(1), steps=100, progress=change, progress_interval=0)
    assert e.value.cause == "params cannot change during a run of the model (called from its progress callback)"
    readme.set_param("W1", np.zeros((7, 9)))  # after the run it may
