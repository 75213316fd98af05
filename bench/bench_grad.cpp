// bench/bench_grad.cpp - loss + parameter gradient through the dynamics (hamux::gradients),
// against the forward run of the same loss (GradientOptions::backward = false).
//
// grad/<case>/<way>/threads:<t>: one iteration is one hamux::gradients call on the whole
// batch; the counter samples_per_s is batch / time. Cases:
//   fashion   examples/training/fashion_classifier.json as the training of
//             docs/performance.md ("Training against the JAX library") runs it: batch 100,
//             image clamped (uniform pixels), 6 BPTT steps of dt 0.5, mean cross entropy of
//             the labels' activation against seeded classes
//   W2_t10    dense_am.json, batch 128 of normal states, 10 BPTT steps of dt 0.1, mean
//             squared error of the last neuron's activation against 0.5
//   W1, W2, W4, W5   the workloads of the brief (workloads.h: model, batch, steps, dt) from
//             normal states, mean squared error of the last neuron's activation against 0.5,
//             gradients of every param: what tools/golden/bench_jax.py --grad times with
//             jax.jit(value_and_grad) (docs/performance.md, "Gradients against the JAX library")
//   W2_T1000, W2_T1000_checkpoint32   the W2 workload with T = 1000 (at 1 thread, one
//             iteration), keeping all states or every 32nd (GradientOptions::checkpoint_every):
//             the counter memory_MB is GradientResult::memory_bytes
// Ways: bptt (loss and gradients), forward (loss only), bptt_recompute (bptt without the
// stored forward residuals, GradientOptions::store_residuals = false: what they save).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <string>

#include "hamux/gradients.h"
#include "hamux/hamux.h"
#include "workloads.h"

namespace hamux::bench {
namespace {

struct GradCase {
  Ham ham;
  States states;
  Loss loss;
  GradientOptions options;
  int64_t batch;
};

GradCase fashion_case() {
  LoadOptions lo;
  lo.disk_cache = false;
  Ham ham = Ham::load(models_dir() + "/../training/fashion_classifier.json", lo);
  const int64_t batch = 100;
  States s = ham.zeros(batch);
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> pixel(0.0, 1.0);
  Tensor<double> images({batch, 784});
  for (double& v : images.data) v = pixel(rng);
  s.set("image", images);
  s.clamp("image");
  Loss loss;
  loss.spec = R"({"neuron": "labels", "loss": "cross_entropy"})";
  loss.target = Tensor<double>({batch});
  for (int64_t i = 0; i < batch; ++i) loss.target.data[i] = static_cast<double>(rng() % 10);
  GradientOptions o;
  o.steps = 6;
  o.dt = 0.5;
  return {std::move(ham), std::move(s), std::move(loss), o, batch};
}

// `file` from normal states, `steps` BPTT steps of `dt`, the mean squared error of the last
// neuron's activation against 0.5.
GradCase last_activation_case(const std::string& file, int64_t batch, int64_t steps, double dt) {
  LoadOptions lo;
  lo.disk_cache = false;
  Ham ham = Ham::load(models_dir() + "/" + file, lo);
  States s = ham.normal(batch, 3);
  const NeuronInfo& last = ham.neurons().back();
  Loss loss;
  loss.spec = R"({"neuron": ")" + last.name + R"(", "of": "activation", "loss": "squared_error"})";
  loss.target = Tensor<double>(last.shape, 0.5);
  GradientOptions o;
  o.steps = steps;
  o.dt = dt;
  return {std::move(ham), std::move(s), std::move(loss), o, batch};
}

GradCase w2_t10_case() { return last_activation_case("dense_am.json", 128, 10, 0.1); }

template <int W>  // 1-based index into workloads()
GradCase workload_case() {
  const WorkloadSpec& w = workloads()[W - 1];
  return last_activation_case(w.file, w.batch, w.steps, w.dt);
}

GradCase w2_t1000_case(int64_t checkpoint_every) {
  const WorkloadSpec& w = workloads()[1];
  GradCase c = last_activation_case(w.file, w.batch, 1000, w.dt);
  c.options.checkpoint_every = checkpoint_every;
  return c;
}
GradCase w2_t1000_all() { return w2_t1000_case(0); }
GradCase w2_t1000_checkpoint32() { return w2_t1000_case(32); }

// What a benchmark times: the forward call, the gradient call, or the gradient call that
// recomputes the forward values its backward steps read (GradientOptions::store_residuals).
enum class Mode { Forward, Bptt, BpttRecompute };

void bm_grad(benchmark::State& st, GradCase (*make)(), Mode mode, int threads) {
  GradCase c = make();
  c.options.threads = threads;
  c.options.backward = mode != Mode::Forward;
  c.options.store_residuals = mode != Mode::BpttRecompute;
  // Compiles the kernels. A whole call, not one step: after it, glibc serves the call's
  // large buffers from its heap instead of fresh zeroed pages (W5's bptt: 85 against 104 ms
  // after a one-step warm-up); T = 1000 warms up on 100 steps.
  GradientOptions warm = c.options;
  warm.steps = std::min<int64_t>(warm.steps, 100);
  gradients(c.ham, c.states, c.loss, warm);
  int64_t memory = 0;
  for (auto _ : st) {
    GradientResult r = gradients(c.ham, c.states, c.loss, c.options);
    benchmark::DoNotOptimize(r.loss);
    memory = r.memory_bytes;
  }
  st.counters["samples_per_s"] =
      benchmark::Counter(static_cast<double>(c.batch), benchmark::Counter::kIsIterationInvariantRate);
  st.counters["memory_MB"] = static_cast<double>(memory) / 1e6;
}

int register_grad_benchmarks() {
  for (int t : {1, 2}) {
    const std::string th = "/threads:" + std::to_string(t);
    for (auto [name, make] : {std::pair{"fashion", &fashion_case}, std::pair{"W2_t10", &w2_t10_case},
                              std::pair{"W1", &workload_case<1>}, std::pair{"W2", &workload_case<2>},
                              std::pair{"W4", &workload_case<4>}, std::pair{"W5", &workload_case<5>}}) {
      for (auto [suffix, mode] : {std::pair{"/bptt", Mode::Bptt}, std::pair{"/forward", Mode::Forward},
                                  std::pair{"/bptt_recompute", Mode::BpttRecompute}})
        benchmark::RegisterBenchmark(("grad/" + std::string(name) + suffix + th).c_str(), bm_grad, make, mode, t)
            ->Unit(benchmark::kMillisecond)->UseRealTime();
    }
  }
  for (auto [name, make] : {std::pair{"W2_T1000", &w2_t1000_all}, std::pair{"W2_T1000_checkpoint32", &w2_t1000_checkpoint32}})
    benchmark::RegisterBenchmark(("grad/" + std::string(name) + "/bptt/threads:1").c_str(), bm_grad, make, Mode::Bptt, 1)
        ->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
  return 0;
}

const int registered = register_grad_benchmarks();

}  // namespace
}  // namespace hamux::bench
