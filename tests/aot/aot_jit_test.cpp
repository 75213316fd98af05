// tests/aot/aot_jit_test.cpp - the AOT kernel against the JIT kernel on this CPU, for every
// contract model in float32 and float64: same states, masks, params, dt and step count.
//
// Tolerance (docs/aot.md): the two kernels share the loop program, the emitter and the O3
// pipeline; they differ only in how contractions sum (Eigen's blocked GEMM vs the AOT
// loops), so each contraction of length K may differ by about K * eps * sum |a_k b_k|.
// Measured relative to the values' scale (scaled_error), after a few steps, that is far
// below 1e-4 in float32 (eps 6e-8, K <= 8192) and 1e-12 in float64 (eps 1.1e-16).
// Objects compiled with the kernels library (`--kernels library`) are checked too, linked
// against this process's copy of it as a program links hamux::kernels.
#include "aot_support.h"

namespace hamux::aot_test {
namespace {

constexpr double kTolF32 = 1e-4;
constexpr double kTolF64 = 1e-12;

struct Param {
  std::string model;
  std::string dtype;
  bool kernels_library = false;
};

class AotVsJit : public ::testing::TestWithParam<Param> {};

template <class T>
void check(const Model& m, int64_t batch, int64_t steps, double tol, bool kernels_library = false) {
  codegen::AotOptions o;
  o.prefix = "m";
  o.kernels_library = kernels_library;
  const codegen::AotResult r = codegen::compile_aot(m, o);
  LoadedObject obj(r.object, kernels_library);
  const auto pv = interp::param_values<T>(m);
  std::vector<const T*> params;
  for (const ParamDef& pd : m.params) params.push_back(pv.at(pd.name).data.data());
  const Case<T> c = make_case<T>(m, batch, 7);
  const double dt = 0.1;
  for (int64_t k : {int64_t(0), int64_t(1), steps}) {
    const Outcome<T> jit = run_jit<T>(m, c, dt, k);
    const Outcome<T> aot = run_aot<T>(obj, r, m, c, dt, k, params);
    const double err = outcome_error(aot, jit);
    EXPECT_LE(err, tol) << m.file << " " << ir::dtype_name(m.dtype) << " steps " << k;
    // The dynamics moved (a kernel that did nothing would still "agree" at k = 0 only).
    if (k > 0) {
      EXPECT_GT(scaled_error(aot.x[0], c.x[0]), 0.0) << m.file;
    }
    std::printf("[ aot ] %-26s %s steps %2lld: scaled error %.3g\n", m.file.c_str(), ir::dtype_name(m.dtype),
                static_cast<long long>(k), err);
  }
}

TEST_P(AotVsJit, SameResultsAsJit) {
  const Param& p = GetParam();
  const Model m = model_as(p.model, p.dtype);
  const bool big = p.model == "energy_transformer.json" || p.model == "conv.json";
  const int64_t batch = big ? 2 : 5, steps = big ? 2 : 4;
  if (m.dtype == ir::DType::F32) check<float>(m, batch, steps, kTolF32, p.kernels_library);
  else check<double>(m, batch, steps, kTolF64, p.kernels_library);
}

std::vector<Param> all_params() {
  std::vector<Param> v;
  for (bool library : {false, true})
    for (const std::string& f : contract_models())
      for (const char* d : {"float32", "float64"}) v.push_back({f, d, library});
  return v;
}

INSTANTIATE_TEST_SUITE_P(ContractModels, AotVsJit, ::testing::ValuesIn(all_params()),
                         [](const ::testing::TestParamInfo<Param>& i) {
                           return i.param.model.substr(0, i.param.model.find('.')) + "_" + i.param.dtype +
                                  (i.param.kernels_library ? "_kernels_library" : "");
                         });

// The embedded params are exactly the model's values, rounded to the dtype.
TEST(AotParams, EmbeddedValuesAreTheModels) {
  const Model m = model_as("readme.json", "");
  codegen::AotOptions o;
  o.prefix = "rd";
  const codegen::AotResult r = codegen::compile_aot(m, o);
  LoadedObject obj(r.object);
  for (const ParamDef& pd : m.params) {
    const float* data = obj.lookup<const float*>("rd_param_" + pd.name);
    for (int64_t e = 0; e < pd.value.size(); ++e)
      ASSERT_EQ(data[e], static_cast<float>(pd.value[e])) << pd.name << " element " << e;
  }
}

// With params as files, the object holds no param symbols and the kernel reads the
// pointers it is given: other params give other (JIT-equal) results.
TEST(AotParams, FilesModeUsesTheGivenParams) {
  const Model m = model_as("readme.json", "");
  codegen::AotOptions o;
  o.prefix = "rf";
  o.embed_params = false;
  const codegen::AotResult r = codegen::compile_aot(m, o);
  LoadedObject obj(r.object);
  EXPECT_THROW(obj.lookup<const float*>("rf_param_W1"), std::runtime_error);
  Model scaled = m;
  for (ParamDef& pd : scaled.params)
    for (double& v : pd.value.data) v *= 3;
  const auto pv = interp::param_values<float>(scaled);
  std::vector<const float*> params;
  for (const ParamDef& pd : scaled.params) params.push_back(pv.at(pd.name).data.data());
  const Case<float> c = make_case<float>(m, 2, 3);
  const Outcome<float> aot = run_aot<float>(obj, r, m, c, 0.1, 3, params);
  EXPECT_LE(outcome_error(aot, run_jit<float>(scaled, c, 0.1, 3)), kTolF32);
  EXPECT_GT(outcome_error(aot, run_jit<float>(m, c, 0.1, 3)), 1e-4);
}

// Slices of the batch with separate workspaces and one prepared block give the whole-batch
// results exactly.
TEST(AotSlices, DisjointSlicesMatchTheWholeBatch) {
  const Model m = model_as("dense_am.json", "");
  codegen::AotOptions o;
  o.prefix = "ds";
  const codegen::AotResult r = codegen::compile_aot(m, o);
  LoadedObject obj(r.object);
  const auto pv = interp::param_values<float>(m);
  std::vector<const float*> params{pv.at("Xi").data.data()};
  const Case<float> c = make_case<float>(m, 20, 11);
  const Outcome<float> whole = run_aot<float>(obj, r, m, c, 0.5, 3, params);
  RawKernel k(obj, "ds_kernel", r.program);
  const Outcome<float> sliced = run_program<float>(m, r.program, c, 0.5, params, [&](void* const* slots) {
    const char* shared = k.prepare(slots);
    for (int64_t b = 0; b < 20; b += 7) k.run(slots, b, std::min<int64_t>(b + 7, 20), shared, 3);
  });
  EXPECT_EQ(sliced.x, whole.x);
  EXPECT_EQ(sliced.energy, whole.energy);
}

}  // namespace
}  // namespace hamux::aot_test
