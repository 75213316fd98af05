// tests/step/step_test.cpp - the fused step kernel vs an interpreter-driven Euler loop,
// for every contract model, in float32 and float64.
#include <gtest/gtest.h>

#include <llvm/ADT/StringMap.h>
#include <llvm/TargetParser/Host.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "autodiff/backward_step.h"
#include "codegen/llvm/emit.h"
#include "graph/internal_error.h"
#include "step/step.h"
#include "codegen/compare.h"
#include "step/many_layers.h"

namespace hamux::codegen {
namespace {

using testing::expect_close;

// The contract model, optionally re-typed (the same model with "dtype" replaced).
Model model_as(const std::string& file, const char* dtype) {
  std::string path = std::string(HAMUX_MODELS_DIR) + "/" + file;
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(ss.str());
  j["dtype"] = dtype;
  return parse_model(j.dump(), file, HAMUX_MODELS_DIR);
}

template <class T>
std::vector<Tensor<T>> concat(std::vector<Tensor<T>> a, const std::vector<Tensor<T>>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Runs k_steps steps with the kernel and with the interpreter and compares x, xhat and
// the energy of the final state. Neuron 0 is half clamped (alternate elements masked).
// Without `energy` the kernel has no energy output and runs its final activations as an
// extra pass over the body's first stages (Program::epilogue_is_body_prefix).
template <class T>
void check_step(const Model& m, int64_t batch, int64_t k_steps, double dt, unsigned seed, bool energy_out = true,
                const CompileOptions& compile = {}, const std::string& target = "") {
  const std::string what = m.file + " " + ir::dtype_name(m.dtype) + " batch " + std::to_string(batch) +
                           (energy_out ? "" : " no energy") + target;
  Derivation d = derive(m);
  const size_t n = m.neurons.size();
  auto params = interp::param_values<T>(m);
  std::mt19937 rng(seed);
  std::vector<Tensor<T>> x, mask;
  for (const NeuronDef& nd : m.neurons) {
    Shape s{batch};
    s.insert(s.end(), nd.shape.begin(), nd.shape.end());
    x.push_back(testing::random_tensor<T>(s, rng, -1.0, 1.0));
    mask.emplace_back(nd.shape, T(1));
  }
  for (int64_t e = 0; e < mask[0].size(); e += 2) mask[0][e] = 0;

  // Interpreter: synchronous explicit Euler.
  std::vector<Tensor<T>> xr = x;
  for (int64_t k = 0; k < k_steps; ++k) {
    auto xhat = interp::evaluate<T>(d.activation, xr, params, batch);
    auto u = interp::evaluate<T>(d.update, concat(xr, xhat), params, batch);
    for (size_t i = 0; i < n; ++i) {
      const int64_t per = mask[i].size();
      for (int64_t e = 0; e < xr[i].size(); ++e)
        xr[i][e] -= static_cast<T>(dt / m.neurons[i].tau) * mask[i][e % per] * u[i][e];
    }
  }
  auto xhat_r = interp::evaluate<T>(d.activation, xr, params, batch);
  auto energy_r = interp::evaluate<T>({d.total_energy}, concat(xr, xhat_r), params, batch);

  // Kernel.
  StepOptions opt;
  opt.energy = energy_out;
  opt.compile = compile;
  StepKernel kernel(m, d, opt);
  std::vector<Tensor<T>> xhat;
  Tensor<T> energy({batch});
  StepKernel::Bindings b;
  for (size_t i = 0; i < n; ++i) {
    xhat.emplace_back(x[i].shape);
    b.x.push_back(x[i].data.data());
    b.mask.push_back(mask[i].data.data());
  }
  for (size_t i = 0; i < n; ++i) b.xhat.push_back(xhat[i].data.data());
  for (const ParamDef& pd : m.params) b.params.push_back(params.at(pd.name).data.data());
  if (energy_out) b.energy = energy.data.data();
  kernel.run(b, 0, batch, dt, k_steps);

  const double tol = testing::tolerance<T>() * (sizeof(T) == 4 ? 10 : 1) ;  // f32: k steps compound
  expect_close(x, xr, tol, what + " x");
  expect_close(xhat, xhat_r, tol, what + " xhat");
  if (energy_out)
    expect_close(std::vector<Tensor<T>>{energy}, {Tensor<T>({batch}, energy_r[0].data)}, tol, what + " energy");
}

struct Case {
  const char* file;
  std::vector<int64_t> batches;
  int64_t steps;
};

const std::vector<Case> kCases = {
    {"readme.json", {1, 3, 17, 256}, 5},
    {"custom_energies.json", {1, 3, 17, 256}, 5},
    {"classical_hopfield.json", {1, 3, 17}, 3},
    {"dense_am.json", {1, 3, 17}, 3},
    {"conv.json", {1, 3}, 2},
    {"energy_transformer.json", {1, 3}, 2},
};

TEST(StepKernel, MatchesInterpreterFloat64) {
  for (const Case& c : kCases)
    for (int64_t batch : c.batches) check_step<double>(model_as(c.file, "float64"), batch, c.steps, 0.1, 7);
}

TEST(StepKernel, MatchesInterpreterFloat32) {
  for (const Case& c : kCases)
    for (int64_t batch : c.batches) check_step<float>(model_as(c.file, "float32"), batch, c.steps, 0.1, 8);
}

TEST(StepKernel, WithoutEnergyMatchesInterpreter) {
  // The final activations come from one extra pass over the body's activation stages.
  for (const Case& c : kCases)
    for (int64_t steps : {int64_t{0}, int64_t{1}, c.steps}) {
      check_step<double>(model_as(c.file, "float64"), 3, steps, 0.1, 9, false);
      check_step<float>(model_as(c.file, "float32"), 3, steps, 0.1, 10, false);
    }
}

TEST(StepKernel, WithoutEnergyActivationsAreEmittedOnce) {
  // readme: the epilogue (final activations) is the body's activation prefix, not a copy.
  Model m = model_as("readme.json", "float64");
  Derivation d = derive(m);
  Program with = lower_step(m, d, true), without = lower_step(m, d, false);
  EXPECT_EQ(with.epilogue_is_body_prefix, 0u);
  ASSERT_GT(without.epilogue_is_body_prefix, 0u);
  EXPECT_TRUE(without.epilogue.empty());
  // The energy-less epilogue would have been the energy kernel's epilogue minus the energy.
  EXPECT_LT(without.epilogue_is_body_prefix, with.epilogue.size());
  EXPECT_LT(without.epilogue_is_body_prefix, without.body.size());
  // Its stages write the activation outputs xhat[...] last.
  EXPECT_EQ(without.buffers[without.body[without.epilogue_is_body_prefix - 1].out].kind, BufferKind::Output);
}

TEST(StepKernel, ZeroStepsOnlyEvaluates) {
  // k_steps = 0 leaves x untouched and writes the activations and energy of that state.
  Model m = model_as("readme.json", "float64");
  Derivation d = derive(m);
  auto params = interp::param_values<double>(m);
  std::mt19937 rng(3);
  std::vector<Tensor<double>> x, xhat;
  StepKernel::Bindings b;
  for (const NeuronDef& nd : m.neurons) {
    x.push_back(testing::random_tensor<double>({2, nd.shape[0]}, rng));
    xhat.emplace_back(Shape{2, nd.shape[0]});
  }
  for (size_t i = 0; i < x.size(); ++i) {
    b.x.push_back(x[i].data.data());
    b.xhat.push_back(xhat[i].data.data());
  }
  for (const ParamDef& pd : m.params) b.params.push_back(params.at(pd.name).data.data());
  Tensor<double> energy({2});
  b.energy = energy.data.data();
  std::vector<Tensor<double>> x0 = x;
  StepOptions opt;
  opt.energy = true;
  StepKernel(m, d, opt).run(b, 0, 2, 0.1, 0);
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(x[i].data, x0[i].data);
  expect_close(xhat, interp::evaluate<double>(d.activation, x0, params, 2), 1e-12, "xhat");
  auto e = interp::evaluate<double>({d.total_energy}, concat(x0, xhat), params, 2);
  expect_close(std::vector<Tensor<double>>{energy}, {Tensor<double>({2}, e[0].data)}, 1e-12, "energy");
}

// Issue 14 (JIT target choice): one model's kernel for AVX2 at 256 bits (x86-64-v3) and
// for the host's own CPU and width (AVX-512 on the development machine), each against the
// interpreter; the dense and convolution models exercise the GEMM calls, the emitted
// convolution loops and the vectorised elementwise code.
TEST(StepKernel, AvxTwoAndHostWidthsMatchTheInterpreter) {
  if (!llvm::sys::getHostCPUFeatures().lookup("avx2")) GTEST_SKIP() << "the host cannot run AVX2 code";
  CompileOptions avx2;
  avx2.cpu = "x86-64-v3";
  avx2.vector_width = 256;
  for (const char* file : {"dense_am.json", "conv.json", "energy_transformer.json"})
    for (const char* dtype : {"float32", "float64"}) {
      const Model m = model_as(file, dtype);
      if (m.dtype == ir::DType::F32) {
        check_step<float>(m, 3, 2, 0.1, 21, true, {}, " host");
        check_step<float>(m, 3, 2, 0.1, 21, true, avx2, " x86-64-v3/256");
      } else {
        check_step<double>(m, 3, 2, 0.1, 21, true, {}, " host");
        check_step<double>(m, 3, 2, 0.1, 21, true, avx2, " x86-64-v3/256");
      }
    }
}

// Issue 13: dt and the masks are kernel arguments. No prologue stage of any contract model
// reads a rate or a mask (directly or through a buffer), so the prologue depends on the
// model's params only.
TEST(StepKernel, PrologueReadsNoRateAndNoMask) {
  for (const Case& c : kCases) {
    const Model m = model_as(c.file, "float32");
    const Program p = lower_step(m, derive(m), true);
    auto per_call = [](const std::string& name) { return name.rfind("$rate[", 0) == 0 || name.rfind("$mask[", 0) == 0; };
    for (const Stage& st : p.prologue) {
      for (int a : st.args) EXPECT_FALSE(per_call(p.buffers[a].name)) << c.file << "\n" << to_string(p);
      for (const auto& [node, buffer] : st.bound) EXPECT_FALSE(per_call(p.buffers[buffer].name)) << c.file;
      if (!st.expr) continue;
      for (const ir::Node* n : ir::topological_order({st.expr})) {
        if (n->op == ir::Op::Param) {
          EXPECT_FALSE(per_call(n->attrs.name)) << c.file << "\n" << to_string(p);
        }
      }
    }
    // The rates and masks are read in the body (the state updates).
    EXPECT_NE(to_string(p).find("load $rate["), std::string::npos) << c.file;
  }
}

// A new dt on a bound kernel (nothing prepared again) gives the bits of a kernel bound with
// that dt from the start, and both match the interpreter (check_step's other tests).
TEST(StepKernel, SetDtGivesTheBitsOfAFreshBinding) {
  for (const char* file : {"classical_hopfield.json", "dense_am.json", "conv.json"}) {
    const Model m = model_as(file, "float32");
    const Derivation d = derive(m);
    StepOptions opt;
    opt.energy = true;
    StepKernel kernel(m, d, opt);
    const int64_t batch = 5;
    auto params = interp::param_values<float>(m);
    std::mt19937 rng(31);
    auto state = [&](std::vector<Tensor<float>>& x, std::vector<Tensor<float>>& xhat, Tensor<float>& energy) {
      StepKernel::Bindings b;
      for (size_t i = 0; i < x.size(); ++i) {
        b.x.push_back(x[i].data.data());
        b.xhat.push_back(xhat[i].data.data());
      }
      for (const ParamDef& pd : m.params) b.params.push_back(params.at(pd.name).data.data());
      b.energy = energy.data.data();
      return b;
    };
    std::vector<Tensor<float>> x1, xhat1, x2, xhat2;
    for (const NeuronDef& nd : m.neurons) {
      Shape s{batch};
      s.insert(s.end(), nd.shape.begin(), nd.shape.end());
      x1.push_back(testing::random_tensor<float>(s, rng, -1.0, 1.0));
      xhat1.emplace_back(s);
      xhat2.emplace_back(s);
    }
    x2 = x1;
    Tensor<float> e1({batch}), e2({batch});
    StepKernel::Bound fresh = kernel.bind(state(x1, xhat1, e1), 0.05);
    kernel.run(fresh, 0, batch, 3);
    StepKernel::Bound moved = kernel.bind(state(x2, xhat2, e2), 0.4);
    kernel.set_dt(moved, 0.05);
    kernel.run(moved, 0, batch, 3);
    for (size_t i = 0; i < x1.size(); ++i) {
      EXPECT_EQ(x1[i].data, x2[i].data) << file << " x[" << i << "]";
      EXPECT_EQ(xhat1[i].data, xhat2[i].data) << file << " xhat[" << i << "]";
    }
    EXPECT_EQ(e1.data, e2.data) << file;
  }
}

// The residual outputs (StepOptions::residuals, written for hamux::gradients' backward pass)
// hold the values of their graphs at the state the step started from, the step itself is
// unchanged, and writing them costs no contraction of its own: the residual is the node the
// update reads.
TEST(StepKernel, ResidualOutputsAreTheValuesAtTheStartingStateAndShareTheStepsWork) {
  for (const char* file : {"dense_am.json", "energy_transformer.json", "custom_energies.json"}) {
    SCOPED_TRACE(file);
    const Model m = model_as(file, "float64");
    const Derivation d = derive(m);
    StepOptions with;
    with.residuals = autodiff::derive_backward_step(m, d, {}, true).residuals;
    ASSERT_FALSE(with.residuals.empty());
    auto contractions = [](const Program& p) {
      int c = 0;
      for (const auto* phase : {&p.prologue, &p.body})
        for (const Stage& s : *phase) c += s.kind == StageKind::Einsum || s.kind == StageKind::Conv;
      return c;
    };
    EXPECT_EQ(contractions(lower_step(m, d, false)),
              contractions(lower_step_program(m, d, false, kSmallEinsumWork, with.residuals).program));
    const int64_t batch = 3;
    const size_t n = m.neurons.size();
    auto params = interp::param_values<double>(m);
    std::mt19937 rng(5);
    std::vector<Tensor<double>> x, xhat, x_plain, xhat_plain, residual;
    for (const NeuronDef& nd : m.neurons) {
      Shape s{batch};
      s.insert(s.end(), nd.shape.begin(), nd.shape.end());
      x.push_back(testing::random_tensor<double>(s, rng, -1.0, 1.0));
      xhat.emplace_back(s);
    }
    x_plain = x;
    xhat_plain = xhat;
    const std::vector<Tensor<double>> x0 = x;
    for (const ir::NodePtr& r : with.residuals) {
      Shape s{batch};
      s.insert(s.end(), r->shape.begin(), r->shape.end());
      residual.emplace_back(s);
    }
    auto bindings = [&](std::vector<Tensor<double>>& xs, std::vector<Tensor<double>>& xhats, bool residuals) {
      StepKernel::Bindings b;
      for (size_t i = 0; i < n; ++i) {
        b.x.push_back(xs[i].data.data());
        b.xhat.push_back(xhats[i].data.data());
      }
      for (const ParamDef& pd : m.params) b.params.push_back(params.at(pd.name).data.data());
      if (residuals)
        for (Tensor<double>& r : residual) b.residual.push_back(r.data.data());
      return b;
    };
    StepKernel(m, d, with).run(bindings(x, xhat, true), 0, batch, 0.1, 1);
    StepKernel(m, d).run(bindings(x_plain, xhat_plain, false), 0, batch, 0.1, 1);
    expect_close(x, x_plain, testing::tolerance<double>(), std::string(file) + " x");
    const auto xhat0 = interp::evaluate<double>(d.activation, x0, params, batch);
    const auto want = interp::evaluate<double>(with.residuals, concat(x0, xhat0), params, batch);
    expect_close(residual, want, testing::tolerance<double>(), std::string(file) + " residuals");
  }
}

// A derivation or bindings that contradict the model are faults of hamux (the runtime makes
// both from the model), not bad input: InternalError with the place, never hamux::Error.
template <class F>
std::string internal_message(F&& f) {
  try {
    f();
  } catch (const InternalError& e) {
    EXPECT_EQ(std::string(e.file()), "compiler/step/step.cpp");
    return e.message();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not an InternalError: " << e.what();
    return "";
  }
  ADD_FAILURE() << "no error";
  return "";
}

TEST(StepKernel, ADerivationThatContradictsTheModelIsAnInternalError) {
  const Model m = model_as("dense_am.json", "float32");
  Derivation short_of_a_neuron = derive(m);
  short_of_a_neuron.update.pop_back();
  EXPECT_EQ(internal_message([&] { lower_step_program(m, short_of_a_neuron, false); }),
            "the derivation of dense_am.json does not match the model's neurons");
  Derivation no_energy = derive(m);
  no_energy.total_energy = nullptr;
  EXPECT_EQ(internal_message([&] { lower_step_program(m, no_energy, true); }),
            "the derivation of dense_am.json has no total energy");
  lower_step_program(m, no_energy, false);  // (not needed without the energy output)
}

TEST(StepKernel, BindingsThatContradictTheModelAreAnInternalError) {
  const Model m = model_as("dense_am.json", "float32");
  const StepKernel k(m, derive(m));
  StepKernel::Bindings b;  // no buffer at all
  EXPECT_EQ(internal_message([&] { k.run(b, 0, 1, 0.1, 1); }),
            "step bindings do not match the model (" + std::to_string(m.neurons.size()) + " neurons, " +
                std::to_string(m.params.size()) + " params, 0 held terms, 0 residuals)");
}

// Issue 19 (load time): a model of many small layers has more stages than one function
// takes (kSplitAbove), so its kernel is emitted as parts, each taking the buffers
// it uses; it must compute what the interpreter does, with the energy, without it (the
// final activations re-run the body's first stages, across parts), and for 0 steps.
TEST(StepKernel, AKernelInPartsMatchesTheInterpreter) {
  const Model m = testing::many_layers(24, "float64");
  const Derivation d = derive(m);
  const Program with = lower_step(m, d, true), without = lower_step(m, d, false);
  ASSERT_TRUE(is_split(with));
  ASSERT_TRUE(is_split(without));
  EXPECT_GT(with.body.size(), kSplitAbove);
  for (int64_t steps : {int64_t{0}, int64_t{1}, int64_t{4}}) {
    check_step<double>(m, 3, steps, 0.1, 31);
    check_step<double>(m, 3, steps, 0.1, 32, false);
  }
  for (int64_t batch : {int64_t{1}, int64_t{17}}) 
    check_step<float>(testing::many_layers(24, "float32"), batch, 3, 0.1, 33);
}

TEST(StepKernel, ContractModelsAreOneFunction) {
  // The examples keep the single-function kernel (and the O3 pipeline with its inliner
  // and interprocedural passes) that their speed was measured with.
  for (const Case& c : kCases) {
    const Model m = model_as(c.file, "float32");
    const Derivation d = derive(m);
    EXPECT_FALSE(is_split(lower_step(m, d, true))) << c.file;
    EXPECT_FALSE(is_split(lower_step(m, d, false))) << c.file;
  }
}

}  // namespace
}  // namespace hamux::codegen
