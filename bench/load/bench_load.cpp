// bench/load/bench_load.cpp - load time against the number of neuron layers (issue 19).
//
// The model is the one bench/make_scaling_model.py writes: N layers of shape [4] (softmax,
// tanh, sigmoid and identity Lagrangians in turn), each with a bias synapse, joined in a
// chain by one `linear` synapse per neighbour pair with its own weight matrix (`chain`), or
// every layer joined to the first (`star`: one neuron with N-1 connections). The JSON text is
// built in memory before timing. One iteration of
//   load/parse/<shape>/neurons:N    parses and checks the text (frontend: graphs of the
//                                   Lagrangians and connection energies)
//   load/derive/<shape>/neurons:N   derives and simplifies the parsed model (autodiff, passes)
//   load/codegen/<shape>/neurons:N  lowers and JIT-compiles the derived model (StepKernel,
//                                   disk cache off, memory cache cleared)
// Load time is the sum; docs/performance.md ("Load time scaling") has the numbers. The
// counter nodes is the number of distinct nodes of the derived graphs.
#include <benchmark/benchmark.h>

#include <string>

#include "autodiff/derive.h"
#include "codegen/jit/jit.h"
#include "frontend/model.h"
#include "passes/simplify.h"
#include "step/step.h"

namespace hamux::bench {
namespace {

std::string scaling_model_json(int64_t n, bool star) {
  static const char* const kLagrangians[] = {"\"softmax\"", "{\"tanh\": {\"beta\": 1.0}}",
                                             "{\"sigmoid\": {\"beta\": 1.0}}", "\"identity\""};
  std::string params, neurons, synapses, connections;
  auto sep = [](std::string& s) { s += s.empty() ? "" : ","; };
  for (int64_t i = 0; i < n; ++i) {
    const std::string k = std::to_string(i);
    sep(neurons);
    neurons += "\"n" + k + "\":{\"shape\":[4],\"lagrangian\":" + kLagrangians[i % 4] + "}";
    sep(params);
    params += "\"b" + k + "\":{\"shape\":[4],\"init\":{\"normal\":{\"std\":0.1}}}";
    sep(synapses);
    synapses += "\"s_b" + k + "\":{\"bias\":{\"b\":\"b" + k + "\"}}";
    sep(connections);
    connections += "{\"neurons\":[\"n" + k + "\"],\"synapse\":\"s_b" + k + "\"}";
  }
  for (int64_t i = 1; i < n; ++i) {
    const std::string k = std::to_string(i);
    const std::string j = std::to_string(star ? 0 : i - 1);
    params += ",\"W" + k + "\":{\"shape\":[4,4],\"init\":{\"normal\":{\"std\":0.1}}}";
    synapses += ",\"s" + k + "\":{\"linear\":{\"W\":\"W" + k + "\"}}";
    connections += ",{\"neurons\":[\"n" + j + "\",\"n" + k + "\"],\"synapse\":\"s" + k + "\"}";
  }
  return "{\"hamux\":\"1\",\"name\":\"scaling-" + std::to_string(n) + "\",\"seed\":0,\"params\":{" +
         params + "},\"neurons\":{" + neurons + "},\"synapses\":{" + synapses +
         "},\"connections\":[" + connections + "]}";
}

void set_counters(benchmark::State& st, const Derivation& d) {
  std::vector<ir::NodePtr> all;
  for (const auto* list : {&d.activation, &d.update, &d.neuron_energy, &d.connection_energy})
    all.insert(all.end(), list->begin(), list->end());
  all.push_back(d.total_energy);
  st.counters["nodes"] = static_cast<double>(passes::node_count(all));
  st.counters["neurons"] = static_cast<double>(st.range(0));
}

void BM_parse(benchmark::State& st, bool star) {
  const std::string text = scaling_model_json(st.range(0), star);
  for (auto _ : st) benchmark::DoNotOptimize(parse_model(text, "<json>", "."));
  st.counters["neurons"] = static_cast<double>(st.range(0));
}

void BM_derive(benchmark::State& st, bool star) {
  const Model model = parse_model(scaling_model_json(st.range(0), star), "<json>", ".");
  Derivation d;
  for (auto _ : st) {
    d = derive(model);
    benchmark::ClobberMemory();
  }
  set_counters(st, d);
}

void BM_codegen(benchmark::State& st, bool star) {
  const Model model = parse_model(scaling_model_json(st.range(0), star), "<json>", ".");
  const Derivation d = derive(model);
  codegen::StepOptions o;
  o.energy = true;  // what Ham::load builds
  o.compile.disk_cache = false;
  for (auto _ : st) {
    st.PauseTiming();
    codegen::clear_memory_cache();  // every iteration compiles (a hit would take microseconds)
    st.ResumeTiming();
    codegen::StepKernel k(model, d, o);
  }
  set_counters(st, d);
}

constexpr int64_t kMin = 1024, kMax = 65536;
// Code generation costs about 25 ms per layer (docs/codegen.md, "Models of many layers"):
// 64 to 1024 layers keep a run of the benchmark within minutes.
constexpr int64_t kCodegenMin = 64, kCodegenMax = 1024;

BENCHMARK_CAPTURE(BM_parse, chain, false)->Name("load/parse/chain/neurons")->RangeMultiplier(4)->Range(kMin, kMax)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_derive, chain, false)->Name("load/derive/chain/neurons")->RangeMultiplier(4)->Range(kMin, kMax)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_codegen, chain, false)->Name("load/codegen/chain/neurons")->RangeMultiplier(4)->Range(kCodegenMin, kCodegenMax)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_parse, star, true)->Name("load/parse/star/neurons")->RangeMultiplier(4)->Range(kMin, kMax)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_derive, star, true)->Name("load/derive/star/neurons")->RangeMultiplier(4)->Range(kMin, kMax)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_codegen, star, true)->Name("load/codegen/star/neurons")->RangeMultiplier(4)->Range(kCodegenMin, kCodegenMax)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace hamux::bench

BENCHMARK_MAIN();
