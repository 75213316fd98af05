// bench/bench_main.cpp - step time of W1-W5 (hamux JIT, AOT and runtime vs the interpreter
// and a hand-written Eigen step) and the compile latency of every contract model. Google
// Benchmark; see docs/performance.md.
//
// Step benchmarks (step/W<n>/<engine>/threads:<t>): one measured iteration runs the
// workload's whole step count on its whole batch; the counter `per_step` is the time of ONE
// step of the whole batch. Engines:
//   jit    StepKernel: bind once (the parameter-only prologue), then every thread runs its
//          contiguous slice of the batch through all the steps in one call
//   aot    the `hamux compile` object of the model, called like its C header does
//   aotlib the same with `--kernels library` (contractions through the kernels library)
//   run    the public API, hamux::run (the runtime's blocks, chunks and NaN checks)
//   eigen  the hand-written Eigen step (eigen_reference.h), same slices as jit
//   interp the reference interpreter, one step of one sample, scaled by the batch size (it
//          is far too slow for the full workload)
// Before anything is measured, every engine is checked against the JIT; the program aborts
// if one disagrees.
//
// Convolution benchmarks (conv/C<in>_O<out>/<way>): conv2d and its input gradient, 3x3 SAME on
// 32x32 images, batch 32, run as loops emitted into the kernel or as im2col + Eigen GEMM
// (CompileOptions::conv_loops_max_channels), for the channel counts around the crossover;
// the two ways are checked against each other first.
//
// Compile benchmarks (per contract model, StepKernel construction = lowering + LLVM O3 +
// object code + JIT linking): cold (empty memory cache, fresh empty disk cache directory),
// disk (empty memory cache, entry on disk) and memory (in-memory hit).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "aot_step.h"
#include "codegen/loops/lower.h"
#include "step/step.h"
#include "eigen_reference.h"
#include "hamux/hamux.h"
#include "interp/interpreter.h"
#include "parallel.h"
#include "workloads.h"

namespace hamux::bench {
namespace {

namespace fs = std::filesystem;
using codegen::StepKernel;
using codegen::StepOptions;

// Time per step of the whole batch, from the time of `scale` steps per iteration.
benchmark::Counter per_step(double steps_per_iteration) {
  return benchmark::Counter(steps_per_iteration,
                            benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

[[noreturn]] void fail(const std::string& msg) {
  std::fprintf(stderr, "hamux_bench: %s\n", msg.c_str());
  std::abort();
}

// A fresh, empty directory under the system temp dir.
std::string fresh_dir() {
  std::string t = (fs::temp_directory_path() / "hamux-bench-XXXXXX").string();
  if (!mkdtemp(t.data())) fail("cannot create a temporary directory");
  return t;
}

// The state of one engine: its own copy of x and xhat.
struct State {
  std::vector<Tensor<float>> x, xhat;
  explicit State(const Workload& w) : x(w.x0) {
    for (const Tensor<float>& t : x) xhat.emplace_back(t.shape);
  }
  std::vector<float*> xp() {
    std::vector<float*> p;
    for (auto& t : x) p.push_back(t.data.data());
    return p;
  }
  std::vector<float*> xhatp() {
    std::vector<float*> p;
    for (auto& t : xhat) p.push_back(t.data.data());
    return p;
  }
};

StepKernel::Bindings bind(const Workload& w, State& s) {
  StepKernel::Bindings b;
  for (float* p : s.xp()) b.x.push_back(p);
  for (float* p : s.xhatp()) b.xhat.push_back(p);
  b.params = w.param_pointers();
  return b;
}

// max |a - b| <= tol * max(1, max |b|) for every neuron.
void check_close(const std::vector<Tensor<float>>& a, const std::vector<Tensor<float>>& b, double tol,
                 const std::string& what) {
  for (size_t i = 0; i < a.size(); ++i) {
    double scale = 1, err = 0;
    for (int64_t e = 0; e < b[i].size(); ++e) {
      scale = std::max(scale, std::abs(double(b[i][e])));
      err = std::max(err, std::abs(double(a[i][e]) - double(b[i][e])));
    }
    if (!(err <= tol * scale))
      fail(what + ": neuron " + std::to_string(i) + " differs by " + std::to_string(err) + " (scale " +
           std::to_string(scale) + ")");
  }
}

struct Entry {
  Workload w;
  std::unique_ptr<StepKernel> jit, jit_scalar;  // libmvec on / off
  std::unique_ptr<EigenStep> eigen;
  std::unique_ptr<AotStep> aot, aot_library;
  std::unique_ptr<Ham> ham;  // the public API's compiled model
};

// States of the public API holding the workload's initial state.
States initial_states(const Entry& e) {
  States s = e.ham->zeros(e.w.spec.batch);
  for (size_t i = 0; i < e.w.x0.size(); ++i) {
    Tensor<double> t(e.w.x0[i].shape);
    t.data.assign(e.w.x0[i].data.begin(), e.w.x0[i].data.end());
    s.set(e.w.model.neurons[i].name, t);
  }
  return s;
}

RunOptions run_options(const Workload& w, int64_t steps, int threads) {
  RunOptions o;
  o.steps = steps;
  o.dt = w.spec.dt;
  o.threads = threads;
  return o;
}

// The interpreter's step on samples of `s` (all of its batch): synchronous Euler.
void interp_step(const Workload& w, std::vector<Tensor<float>>& x, int64_t batch) {
  auto xhat = interp::evaluate<float>(w.derivation.activation, x, w.params, batch);
  std::vector<Tensor<float>> in = x;
  in.insert(in.end(), xhat.begin(), xhat.end());
  auto u = interp::evaluate<float>(w.derivation.update, in, w.params, batch);
  for (size_t i = 0; i < x.size(); ++i) {
    const float rate = static_cast<float>(w.spec.dt / w.model.neurons[i].tau);
    for (int64_t e = 0; e < x[i].size(); ++e) x[i][e] -= rate * u[i][e];
  }
}

// The first sample of the workload's initial state, as a batch of one.
std::vector<Tensor<float>> first_sample(const Workload& w) {
  std::vector<Tensor<float>> x;
  for (const Tensor<float>& t : w.x0) {
    Shape s = t.shape;
    s[0] = 1;
    const int64_t n = num_elements(s);
    x.emplace_back(s, std::vector<float>(t.data.begin(), t.data.begin() + n));
  }
  return x;
}

// Both yardsticks against the JIT, on the workload's own batch, before any timing.
void verify(Entry& e) {
  const Workload& w = e.w;
  const int64_t steps = 3, B = w.spec.batch;
  State a(w), b(w), c(w), g(w);
  auto ba = bind(w, a), bc = bind(w, c);
  e.jit->run(ba, 0, B, w.spec.dt, steps);
  e.jit_scalar->run(bc, 0, B, w.spec.dt, steps);
  e.eigen->run(b.xp(), b.xhatp(), 0, B, static_cast<float>(w.spec.dt), steps);
  e.aot->run(g.xp(), g.xhatp(), 0, B, static_cast<float>(w.spec.dt), steps);
  State l(w);
  e.aot_library->run(l.xp(), l.xhatp(), 0, B, static_cast<float>(w.spec.dt), steps);
  const std::string id = w.spec.id;
  check_close(b.x, a.x, 1e-3, id + " eigen x vs jit");
  check_close(b.xhat, a.xhat, 1e-3, id + " eigen xhat vs jit");
  check_close(c.x, a.x, 1e-4, id + " jit (scalar math) x vs jit");
  check_close(g.x, a.x, 1e-4, id + " aot x vs jit");
  check_close(l.x, a.x, 1e-4, id + " aot (kernels library) x vs jit");
  States s = initial_states(e);
  run(*e.ham, s, run_options(w, steps, 1));
  std::vector<Tensor<float>> rx;
  for (const NeuronDef& n : w.model.neurons) {
    const Tensor<double> t = s.get(n.name);
    rx.emplace_back(t.shape, std::vector<float>(t.data.begin(), t.data.end()));
  }
  check_close(rx, a.x, 1e-4, id + " hamux::run x vs jit");
  // The interpreter: one step of the first sample.
  std::vector<Tensor<float>> xi = first_sample(w);
  interp_step(w, xi, 1);
  State d(w);
  auto bd = bind(w, d);
  e.jit->run(bd, 0, 1, w.spec.dt, 1);
  std::vector<Tensor<float>> xj = first_sample(w);
  for (size_t i = 0; i < xj.size(); ++i)
    std::copy(d.x[i].data.begin(), d.x[i].data.begin() + xj[i].size(), xj[i].data.begin());
  check_close(xj, xi, 1e-4, id + " jit x vs interpreter");
}

void bm_jit(benchmark::State& st, Entry* e, int threads, bool vector_math) {
  const Workload& w = e->w;
  const StepKernel& k = vector_math ? *e->jit : *e->jit_scalar;
  State s(w);
  const StepKernel::Bindings b = bind(w, s);
  Team team(threads);
  std::optional<StepKernel::Bound> bound;
  const std::function<void(int64_t, int64_t)> job = [&](int64_t b0, int64_t b1) {
    k.run(*bound, b0, b1, w.spec.steps);
  };
  auto iteration = [&] {
    bound.emplace(k.bind(b, w.spec.dt));  // once per run, as hamux::run does
    team.run(w.spec.batch, job);
  };
  iteration();  // warm-up: per-thread workspaces, caches
  for (auto _ : st) iteration();
  st.counters["per_step"] = per_step(static_cast<double>(w.spec.steps));
}

void bm_aot(benchmark::State& st, Entry* e, int threads, bool kernels_library) {
  const Workload& w = e->w;
  const AotStep& aot = kernels_library ? *e->aot_library : *e->aot;
  State s(w);
  auto x = s.xp(), xhat = s.xhatp();
  Team team(threads);
  const std::function<void(int64_t, int64_t)> job = [&](int64_t b0, int64_t b1) {
    aot.run(x, xhat, b0, b1, static_cast<float>(w.spec.dt), w.spec.steps);
  };
  team.run(w.spec.batch, job);
  for (auto _ : st) team.run(w.spec.batch, job);
  st.counters["per_step"] = per_step(static_cast<double>(w.spec.steps));
}

void bm_run(benchmark::State& st, Entry* e, int threads) {
  const Workload& w = e->w;
  States s = initial_states(*e);
  const RunOptions o = run_options(w, w.spec.steps, threads);
  run(*e->ham, s, o);
  for (auto _ : st) run(*e->ham, s, o);
  st.counters["per_step"] = per_step(static_cast<double>(w.spec.steps));
}

void bm_eigen(benchmark::State& st, Entry* e, int threads) {
  const Workload& w = e->w;
  State s(w);
  auto x = s.xp(), xhat = s.xhatp();
  Team team(threads);
  const std::function<void(int64_t, int64_t)> job = [&](int64_t b0, int64_t b1) {
    e->eigen->run(x, xhat, b0, b1, static_cast<float>(w.spec.dt), w.spec.steps);
  };
  team.run(w.spec.batch, job);
  for (auto _ : st) team.run(w.spec.batch, job);
  st.counters["per_step"] = per_step(static_cast<double>(w.spec.steps));
}

void bm_interp(benchmark::State& st, Entry* e) {
  const Workload& w = e->w;
  std::vector<Tensor<float>> x = first_sample(w);
  for (auto _ : st) interp_step(w, x, 1);
  // One sample per iteration: a step of the whole batch costs `batch` of them.
  st.counters["per_step"] = per_step(1.0 / static_cast<double>(w.spec.batch));
}

struct ModelEntry {
  std::string name;
  Model model;
  Derivation derivation;
  std::string warm_dir;  // holds this model's kernel (disk-hit benchmark)
};

void bm_compile_cold(benchmark::State& st, ModelEntry* m) {
  for (auto _ : st) {
    st.PauseTiming();
    codegen::clear_memory_cache();
    StepOptions o;
    o.compile.cache_dir = fresh_dir();
    st.ResumeTiming();
    StepKernel k(m->model, m->derivation, o);
    benchmark::DoNotOptimize(&k);
    st.PauseTiming();
    fs::remove_all(o.compile.cache_dir);
    st.ResumeTiming();
  }
}

void bm_compile_disk(benchmark::State& st, ModelEntry* m) {
  StepOptions o;
  o.compile.cache_dir = m->warm_dir;
  for (auto _ : st) {
    st.PauseTiming();
    codegen::clear_memory_cache();
    st.ResumeTiming();
    StepKernel k(m->model, m->derivation, o);
    benchmark::DoNotOptimize(&k);
  }
}

void bm_compile_memory(benchmark::State& st, ModelEntry* m) {
  StepOptions o;
  o.compile.cache_dir = m->warm_dir;
  StepKernel first(m->model, m->derivation, o);
  for (auto _ : st) {
    StepKernel k(m->model, m->derivation, o);
    benchmark::DoNotOptimize(&k);
  }
}

void bm_derive(benchmark::State& st, ModelEntry* m) {
  for (auto _ : st) benchmark::DoNotOptimize(derive(m->model));
}

// ---- the machine's peak: float32 FMA throughput of one core ----
// kChains independent chains of acc = acc * a + b, one vector register each, in functions
// compiled for one ISA each (target attributes), chosen at run time. Why this way: a generic
// 64-byte vector on a machine without AVX-512 is not one register but two halves the compiler
// may spill, which measured 5 GFLOP/s on an AVX2-only EPYC (nominal 72): the loop has to use
// the machine's own vector width. 12 chains cover latency x ports of current x86 cores
// (4-cycle FMA x 2 ports = 8 in flight; Zen 4-cycle x 2 too); more would only spill.
// Measured rather than computed from the nominal clock, which a virtual machine reports as its
// TSC rate, whatever the turbo clock is.
constexpr int kPeakChains = 12, kPeakRounds = 4096;

// The loop is written out in each ISA function below (a macro, not a shared function: a helper
// compiled without the target attribute might not be inlined, and would then run the generic
// vectors in SSE halves).
#define HAMUX_PEAK_LOOP(LANES)                                                  \
  V acc[kPeakChains], a, b;                                                     \
  for (int i = 0; i < LANES; ++i) a[i] = 0.999999f, b[i] = 1e-7f;               \
  for (int k = 0; k < kPeakChains; ++k)                                         \
    for (int i = 0; i < LANES; ++i) acc[k][i] = static_cast<float>(k + i);      \
  for (auto _ : st) {                                                           \
    for (int r = 0; r < kPeakRounds; ++r)                                       \
      for (int k = 0; k < kPeakChains; ++k) acc[k] = acc[k] * a + b; /* FMA */ \
    benchmark::DoNotOptimize(acc);                                              \
  }

// The ISA-specific loops: fp-contract is on by default in GCC; the explicit "fma" in the
// AVX2 target makes the multiply-add one vfmadd instruction.
__attribute__((target("avx512f"))) void peak_run_avx512(benchmark::State& st) {
  typedef float V __attribute__((vector_size(64)));
  HAMUX_PEAK_LOOP(16)
}

__attribute__((target("avx2,fma"))) void peak_run_avx2(benchmark::State& st) {
  typedef float V __attribute__((vector_size(32)));
  HAMUX_PEAK_LOOP(8)
}

// isa: "avx512", "avx2" or "" (the widest this CPU runs). The label (in the JSON as "label")
// says which ISA and vector width ran; bench/summarize.py prints it beside the figure.
void bm_peak(benchmark::State& st, std::string isa) {
  __builtin_cpu_init();
  const bool has512 = __builtin_cpu_supports("avx512f"), has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (isa.empty()) isa = has512 ? "avx512" : has2 ? "avx2" : "none";
  if ((isa == "avx512" && !has512) || (isa == "avx2" && !has2) || isa == "none") {
    st.SkipWithError(("this CPU does not run " + isa).c_str());
    return;
  }
  int lanes = 0;
  if (isa == "avx512") {
    peak_run_avx512(st);
    lanes = 16;
    st.SetLabel("AVX-512, 512-bit vectors, 12 FMA chains");
  } else {
    peak_run_avx2(st);
    lanes = 8;
    st.SetLabel("AVX2+FMA, 256-bit vectors, 12 FMA chains");
  }
  st.counters["flops"] = benchmark::Counter(2.0 * lanes * kPeakChains * kPeakRounds, benchmark::Counter::kIsIterationInvariantRate);
  st.counters["lanes"] = lanes;
}

// ---- convolutions: emitted loops vs im2col + GEMM ----

struct ConvEntry {
  int64_t c, o;
  std::shared_ptr<const codegen::Kernel> loops, gemm;
  std::vector<std::vector<float>> data;  // per external slot of the (shared) buffer layout
};

constexpr int64_t kConvBatch = 32, kConvSide = 32;

// Slots of a kernel's external buffers, bound to e.data (laid out by e.loops' program; both
// kernels come from the same program, so the layouts agree).
std::vector<void*> conv_slots(ConvEntry& e) {
  std::vector<void*> slots;
  for (auto& d : e.data) slots.push_back(d.data());
  return slots;
}

std::unique_ptr<ConvEntry> make_conv_entry(int64_t c, int64_t o) {
  using namespace ir;
  auto e = std::make_unique<ConvEntry>();
  e->c = c;
  e->o = o;
  Attrs a;
  a.strides = {1, 1};
  a.padding = "SAME";
  NodePtr x = input(0, "x", {kConvSide, kConvSide, c}, DType::F32);
  NodePtr g = input(1, "g", {kConvSide, kConvSide, o}, DType::F32);
  NodePtr k = param("K", {3, 3, c, o}, DType::F32);
  Attrs ag = a;
  ag.shape = {kConvSide, kConvSide, c};
  const std::vector<NodePtr> outs{make(Op::Conv2d, {x, k}, a), make(Op::Conv2dInputGrad, {g, k}, ag)};
  codegen::CompileOptions loops, gemm;
  loops.disk_cache = gemm.disk_cache = false;
  loops.conv_loops_max_channels = 1 << 20;  // every convolution whose accumulators fit
  gemm.conv_loops_max_channels = 0;
  e->loops = codegen::compile(codegen::lower_graphs(outs, DType::F32), loops);
  e->gemm = codegen::compile(codegen::lower_graphs(outs, DType::F32), gemm);
  const codegen::Program& p = e->loops->program();
  e->data.resize(p.num_external);
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (const codegen::Buffer& b : p.buffers) {
    if (b.external < 0) continue;
    auto& d = e->data[b.external];
    d.resize(b.elements() * (b.batched ? kConvBatch : 1));
    for (float& v : d) v = nd(rng);
  }
  // The two ways must agree before either is timed.
  std::vector<void*> slots = conv_slots(*e);
  e->gemm->run(slots.data(), 0, kConvBatch);
  std::vector<std::vector<float>> want = e->data;
  e->loops->run(slots.data(), 0, kConvBatch);
  for (const codegen::Buffer& b : p.buffers) {
    if (b.kind != codegen::BufferKind::Output) continue;
    const auto &got = e->data[b.external], &w = want[b.external];
    double worst = 0, scale = 1;
    for (size_t i = 0; i < w.size(); ++i) {
      worst = std::max(worst, static_cast<double>(std::fabs(got[i] - w[i])));
      scale = std::max(scale, static_cast<double>(std::fabs(w[i])));
    }
    if (worst > 1e-4 * scale) {
      std::fprintf(stderr, "hamux_bench: conv C=%lld O=%lld: loops and GEMM differ by %g\n",
                   static_cast<long long>(c), static_cast<long long>(o), worst);
      std::exit(1);
    }
  }
  return e;
}

void bm_conv(benchmark::State& st, ConvEntry* e, bool loops) {
  std::vector<void*> slots = conv_slots(*e);
  const codegen::Kernel& k = loops ? *e->loops : *e->gemm;
  k.run(slots.data(), 0, kConvBatch);
  for (auto _ : st) k.run(slots.data(), 0, kConvBatch);
}

}  // namespace
}  // namespace hamux::bench

int main(int argc, char** argv) {
  using namespace hamux::bench;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  static std::vector<std::unique_ptr<Entry>> entries;
  for (const WorkloadSpec& spec : workloads()) {
    auto e = std::make_unique<Entry>();
    e->w = Workload::load(spec);
    hamux::codegen::StepOptions vec, scalar;
    vec.compile.disk_cache = scalar.compile.disk_cache = false;
    scalar.compile.vector_math = false;
    e->jit = std::make_unique<hamux::codegen::StepKernel>(e->w.model, e->w.derivation, vec);
    e->jit_scalar = std::make_unique<hamux::codegen::StepKernel>(e->w.model, e->w.derivation, scalar);
    e->eigen = make_eigen_step(e->w);
    e->aot = make_aot_step(e->w, false);
    e->aot_library = make_aot_step(e->w, true);
    hamux::LoadOptions lo;
    lo.disk_cache = false;
    e->ham = std::make_unique<hamux::Ham>(hamux::Ham::load(models_dir() + "/" + spec.file, lo));
    verify(*e);
    entries.push_back(std::move(e));
  }
  std::fprintf(stderr, "hamux_bench: AOT, hamux::run, Eigen and interpreter steps agree with the JIT on W1-W5\n");

  for (auto& e : entries) {
    Entry* p = e.get();
    const std::string id = p->w.spec.id;
    for (int t : {1, 2}) {
      const std::string th = "/threads:" + std::to_string(t);
      benchmark::RegisterBenchmark(("step/" + id + "/jit" + th).c_str(), bm_jit, p, t, true)
          ->Unit(benchmark::kMillisecond)->UseRealTime();
      benchmark::RegisterBenchmark(("step/" + id + "/eigen" + th).c_str(), bm_eigen, p, t)
          ->Unit(benchmark::kMillisecond)->UseRealTime();
      benchmark::RegisterBenchmark(("step/" + id + "/aot" + th).c_str(), bm_aot, p, t, false)
          ->Unit(benchmark::kMillisecond)->UseRealTime();
      benchmark::RegisterBenchmark(("step/" + id + "/aotlib" + th).c_str(), bm_aot, p, t, true)
          ->Unit(benchmark::kMillisecond)->UseRealTime();
      benchmark::RegisterBenchmark(("step/" + id + "/run" + th).c_str(), bm_run, p, t)
          ->Unit(benchmark::kMillisecond)->UseRealTime();
    }
    benchmark::RegisterBenchmark(("step/" + id + "/jit_scalar_math/threads:1").c_str(), bm_jit, p, 1, false)
        ->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark(("step/" + id + "/interp/threads:1").c_str(), bm_interp, p)
        ->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.2);
  }

  // peak/fma_f32: the widest ISA of this CPU (what "% of peak" uses); the other two name theirs.
  benchmark::RegisterBenchmark("peak/fma_f32/threads:1", bm_peak, std::string())->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("peak/fma_f32_avx512/threads:1", bm_peak, std::string("avx512"))->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("peak/fma_f32_avx2/threads:1", bm_peak, std::string("avx2"))->Unit(benchmark::kMicrosecond);

  static std::vector<std::unique_ptr<ConvEntry>> convs;
  for (auto [c, o] : std::vector<std::pair<int64_t, int64_t>>{{3, 16}, {8, 8}, {16, 16}, {32, 32}, {64, 64}}) {
    convs.push_back(make_conv_entry(c, o));
    ConvEntry* p = convs.back().get();
    const std::string id = "conv/C" + std::to_string(c) + "_O" + std::to_string(o);
    benchmark::RegisterBenchmark((id + "/loops").c_str(), bm_conv, p, true)->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark((id + "/gemm").c_str(), bm_conv, p, false)->Unit(benchmark::kMillisecond)->UseRealTime();
  }

  static std::vector<std::unique_ptr<ModelEntry>> models;
  std::vector<fs::path> files;
  for (const auto& f : fs::directory_iterator(models_dir()))
    if (f.path().extension() == ".json") files.push_back(f.path());
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    auto m = std::make_unique<ModelEntry>();
    m->name = f.stem().string();
    m->model = hamux::load_model(f.string());
    m->derivation = hamux::derive(m->model);
    m->warm_dir = fresh_dir();
    hamux::codegen::StepOptions o;
    o.compile.cache_dir = m->warm_dir;
    hamux::codegen::StepKernel k(m->model, m->derivation, o);  // fills the disk entry
    models.push_back(std::move(m));
  }
  for (auto& m : models) {
    ModelEntry* p = m.get();
    benchmark::RegisterBenchmark(("compile/" + p->name + "/cold").c_str(), bm_compile_cold, p)
        ->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark(("compile/" + p->name + "/disk").c_str(), bm_compile_disk, p)
        ->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark(("compile/" + p->name + "/memory").c_str(), bm_compile_memory, p)
        ->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark(("derive/" + p->name).c_str(), bm_derive, p)
        ->Unit(benchmark::kMillisecond)->UseRealTime();
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  for (auto& m : models) std::filesystem::remove_all(m->warm_dir);
  return 0;
}
