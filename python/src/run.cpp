// python/src/run.cpp - Model.run: hamux::run with the GIL released, progress, Ctrl-C.
//
// The progress hook of hamux::RunOptions is called by the integration loop after every chunk
// of steps (at most 64). Reaching Python from there costs taking the GIL, so the hook first
// looks at the clock and goes to Python only every `progress_interval` seconds: there it
// checks for signals (Ctrl-C: PyErr_CheckSignals) and calls the user's callback. Either one
// raising stops the run by throwing Cancelled through hamux::run (the states then hold the
// last completed chunk), and the Python exception is raised again once the GIL is back.
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <chrono>

#include "binding.h"
#include "frontend/model.h"

namespace hamuxpy {

namespace {

using Clock = std::chrono::steady_clock;

struct Cancelled {};  // thrown through hamux::run; not a std::exception, so nothing catches it

// The report as hamux::run returned it; the trace becomes arrays when it is asked for (making
// NumPy arrays costs about a microsecond each, more than a short run's own overhead).
struct PyRunReport {
  hamux::RunReport r;
  int64_t batch = 0;
  bool f64 = false;
};

nb::object trace_steps(const PyRunReport& p) {
  std::vector<int64_t> steps;
  for (const hamux::TraceRow& row : p.r.trace) steps.push_back(row.step);
  const int64_t rows = static_cast<int64_t>(steps.size());
  return owned_array(std::move(steps), {rows});
}

nb::object trace_energy(const PyRunReport& p) {
  std::vector<double> energy;
  for (const hamux::TraceRow& row : p.r.trace) energy.insert(energy.end(), row.energy.begin(), row.energy.end());
  const int64_t rows = static_cast<int64_t>(p.r.trace.size());
  return to_array(hamux::Tensor<double>({rows, p.batch}, std::move(energy)), p.f64);
}

// {term: [rows, batch]} with "total" last; empty without record_tree.
nb::dict trace_tree(const PyRunReport& p) {
  nb::dict tree;
  const std::vector<hamux::TraceRow>& trace = p.r.trace;
  if (trace.empty() || trace[0].tree.terms.empty()) return tree;
  const int64_t rows = static_cast<int64_t>(trace.size());
  const hamux::EnergyBreakdown& first = trace[0].tree;
  for (size_t t = 0; t <= first.terms.size(); ++t) {
    std::vector<double> v;
    for (const hamux::TraceRow& row : trace) {
      const std::vector<double>& src = t < first.terms.size() ? row.tree.values[t] : row.tree.total;
      v.insert(v.end(), src.begin(), src.end());
    }
    const std::string key = t < first.terms.size() ? first.terms[t] : "total";
    tree[key.c_str()] = to_array(hamux::Tensor<double>({rows, p.batch}, std::move(v)), p.f64);
  }
  return tree;
}

PyRunReport run(PyModel& m, PyStates& s, int64_t steps, double dt, double tol, int threads, int64_t record_every,
                bool record_tree, bool energy_guard, double state_bound, nb::object progress,
                double progress_interval) {
  if (s.model != &m) throw hamux::Error(m.ham.model().file, "the states were made by another model");
  if (!(progress_interval >= 0)) {
    throw hamux::Error(m.ham.model().file, "progress_interval must be >= 0, got " + std::to_string(progress_interval));
  }
  // progress=True: a tqdm bar (tqdm.auto picks the notebook widget in Jupyter).
  nb::object bar;
  if (progress.is(nb::handle(Py_True))) {
    bar = nb::module_::import_("tqdm.auto").attr("tqdm")(nb::arg("total") = steps, nb::arg("unit") = "step");
    progress = bar.attr("update");
  } else if (progress.is(nb::handle(Py_False))) {
    progress = nb::none();
  }
  const bool has_callback = !progress.is_none();
  int64_t reported = 0;  // steps the callback has been told of
  auto report = [&](int64_t done, int64_t total) {
    if (bar.is_valid()) {
      progress(done - reported);
    } else {
      progress(done, total);
    }
    reported = done;
  };

  hamux::RunOptions o;
  o.steps = steps;
  o.dt = dt;
  o.tol = tol;
  o.threads = threads;
  o.record_every = record_every;
  o.record_tree = record_tree;
  o.energy_guard = energy_guard;
  o.state_bound = state_bound;
  std::optional<nb::python_error> raised;
  const auto interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(progress_interval));
  Clock::time_point last = Clock::now();
  o.progress = [&](int64_t done, int64_t total) {
    const Clock::time_point now = Clock::now();
    // The last step goes to the callback always; signals are looked at only every interval.
    if (now - last < interval && !(has_callback && done == total)) return;
    last = now;
    nb::gil_scoped_acquire gil;
    try {
      if (PyErr_CheckSignals() != 0) throw nb::python_error();
      if (has_callback) report(done, total);
    } catch (nb::python_error& e) {
      raised.emplace(std::move(e));
      throw Cancelled{};
    }
  };

  hamux::RunReport r;
  bool cancelled = false;
  {
    auto guard = take(s);
    nb::gil_scoped_release nogil;
    std::shared_lock lock(m.params_lock);
    models_running_here.push_back(&m);
    struct Pop {
      ~Pop() { models_running_here.pop_back(); }
    } pop;
    try {
      r = hamux::run(m.ham, s.states, o);
    } catch (Cancelled&) {
      cancelled = true;
    }
  }
  if (cancelled) {
    if (bar.is_valid()) bar.attr("close")();
    throw std::move(*raised);
  }
  // A run that converged early, or whose last chunk fell inside the interval, ends here.
  if (has_callback && reported != r.steps) report(r.steps, steps);
  if (bar.is_valid()) bar.attr("close")();

  PyRunReport out;
  out.r = std::move(r);
  out.batch = s.states.batch();
  out.f64 = m.ham.is_float64();
  return out;
}

// Times `reps` calls of hamux::run from C++ (no Python in the loop): the baseline of the
// per-call overhead benchmark (python/bench/overhead.py). Returns seconds per call.
double time_cpp_runs(PyModel& m, PyStates& s, int64_t steps, int64_t reps) {
  auto guard = take(s);
  nb::gil_scoped_release nogil;
  hamux::RunOptions o;
  o.steps = steps;
  const Clock::time_point t0 = Clock::now();
  for (int64_t i = 0; i < reps; ++i) hamux::run(m.ham, s.states, o);
  return std::chrono::duration<double>(Clock::now() - t0).count() / static_cast<double>(reps);
}

}  // namespace

void bind_run(nb::module_& m) {
  nb::class_<hamux::GuardEvent>(m, "GuardEvent", "A step the energy guard undid (RunReport.guard).")
      .def_ro("step", &hamux::GuardEvent::step, "The step that was undone (1-based).")
      .def_ro("sample", &hamux::GuardEvent::sample, "The first sample whose energy rose.")
      .def_ro("energy_before", &hamux::GuardEvent::energy_before, "Its energy before the step.")
      .def_ro("energy_after", &hamux::GuardEvent::energy_after, "Its energy after the step.")
      .def_ro("new_dt", &hamux::GuardEvent::new_dt, "The step size from then on.")
      .def("__repr__", [](const hamux::GuardEvent& g) {
        return "GuardEvent(step=" + std::to_string(g.step) + ", sample=" + std::to_string(g.sample) +
               ", new_dt=" + nb::cast<std::string>(nb::repr(nb::float_(g.new_dt))) + ")";
      });

  nb::class_<PyRunReport>(m, "RunReport", "What Model.run did (hamux::RunReport), the trace as arrays.")
      .def_prop_ro("steps", [](const PyRunReport& p) { return p.r.steps; }, "Steps taken.")
      .def_prop_ro("converged", [](const PyRunReport& p) { return p.r.converged; },
                   "Whether the run stopped because max |dx| < tol.")
      .def_prop_ro("max_dx", [](const PyRunReport& p) { return p.r.max_dx; },
                   "max |dx| of the last step (with tol > 0 or the energy guard).")
      .def_prop_ro("dt", [](const PyRunReport& p) { return p.r.dt; },
                   "dt at the end (smaller than asked when the energy guard halved it).")
      .def_prop_ro("guard", [](const PyRunReport& p) { return p.r.guard; },
                   "The steps the energy guard undid (list of GuardEvent).")
      .def_prop_ro("trace_steps", &trace_steps, "The recorded steps, [rows] int64 (with record_every).")
      .def_prop_ro("trace_energy", &trace_energy, "The energy of each sample at those steps, [rows, batch].")
      .def_prop_ro("trace_tree", &trace_tree,
                   "With record_tree: the energy tree at those steps, {term: [rows, batch]} with 'total'.")
      .def("__repr__", [](const PyRunReport& r) {
        return "RunReport(steps=" + std::to_string(r.r.steps) + ", converged=" + (r.r.converged ? "True" : "False") +
               ", dt=" + nb::cast<std::string>(nb::repr(nb::float_(r.r.dt))) + ", guard events=" +
               std::to_string(r.r.guard.size()) + ", trace rows=" + std::to_string(r.r.trace.size()) + ")";
      });

  nb::handle model = m.attr("Model");
  nb::setattr(model, "run",
              nb::cpp_function(&run, nb::is_method(), nb::scope(model), nb::name("run"),
                               nb::arg("states"), nb::kw_only(), nb::arg("steps") = 100, nb::arg("dt") = 0.1,
                               nb::arg("tol") = 0.0, nb::arg("threads") = 1, nb::arg("record_every") = 0,
                               nb::arg("record_tree") = false, nb::arg("energy_guard") = false,
                               nb::arg("state_bound") = hamux::RunOptions{}.state_bound,
                               nb::arg("progress") = nb::none(), nb::arg("progress_interval") = 0.1,
                               "Integrates tau dx/dt = -dE/dxhat by explicit Euler steps, in place (hamux::run).\n\n"
                               "steps: the most steps to take. dt: the step size. tol > 0: stop after the first\n"
                               "step whose max |dx| over all samples is below tol. threads: split the batch over\n"
                               "this many threads (0: all cores; results do not depend on it). record_every > 0:\n"
                               "record the energy at step 0, every k steps and the last step (record_tree: the\n"
                               "energy tree too, slow). energy_guard: undo a step that raises a sample's energy\n"
                               "and halve dt for the rest of the run (RunReport.guard). state_bound > 0: a state\n"
                               "element with |x| above it stops the run (the energy is likely unbounded or dt too\n"
                               "large; 0 turns it off).\n\n"
                               "progress: a callable progress(steps_done, steps) (e.g. lambda d, t: bar.update(d -\n"
                               "bar.n) for a tqdm bar), or True for a tqdm bar of its own. It is called at most\n"
                               "every progress_interval seconds and after the last step.\n\n"
                               "The GIL is released while the kernels run, so other Python threads go on (and\n"
                               "may run other States). Ctrl-C (KeyboardInterrupt), or an exception raised by the\n"
                               "callback, stops the run within about progress_interval seconds; the states then\n"
                               "hold the last completed chunk of steps. A NaN or inf state raises hamuxc.Error."));
  nb::setattr(model, "_time_cpp_runs",
              nb::cpp_function(&time_cpp_runs, nb::is_method(), nb::scope(model), nb::name("_time_cpp_runs"),
                               nb::arg("states"), nb::arg("steps"), nb::arg("reps"),
                               "Benchmark helper: seconds per hamux::run call made from C++."));
}

}  // namespace hamuxpy
