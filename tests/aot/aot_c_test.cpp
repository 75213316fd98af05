// tests/aot/aot_c_test.cpp - AOT kernels linked into plain C programs.
//  - every contract model: `cc -std=c11 -Wall -Wextra -Werror` compiles tests/aot/driver.c
//    against the generated header and links the object with -lm; its results are the
//    JIT's (same tolerance as aot_jit_test.cpp); and the same with the object of
//    `--kernels library`, linked with libhamux_kernels.a -lstdc++ -lmvec -lm;
//  - the example (examples/aot): runs, its energies are the JIT's and never increase, its
//    checked runs (a NaN state; the energy guard at dt 5) end as hamux::run's, and the binary
//    needs no LLVM (NEEDED entries, symbol table).
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <regex>

#include "aot_support.h"
#include "hamux/hamux.h"

namespace hamux::aot_test {
namespace {

constexpr double kTolF32 = 1e-4;
constexpr double kTolF64 = 1e-12;

template <class T>
void write_raw(std::FILE* f, const std::vector<T>& v) {
  std::fwrite(v.data(), sizeof(T), v.size(), f);
}

// What a program links an object of `--kernels library` with (docs/aot.md); an instrumented
// build's kernels library needs the sanitizers' runtimes too.
std::string kernels_library_link_flags() {
  std::string flags = std::string(" '") + HAMUX_KERNELS_LIBRARY + "' -lstdc++ -lmvec";
#ifdef HAMUX_SANITIZE_BUILD
  flags += " -fsanitize=address,undefined";
#endif
  return flags;
}

template <class T>
Outcome<T> run_driver(const Model& m, bool embed, const Case<T>& c, double dt, int64_t steps,
                      bool kernels_library = false) {
  Scratch dir;
  codegen::AotOptions o;
  o.prefix = "m";
  o.embed_params = embed;
  o.kernels_library = kernels_library;
  codegen::write_aot(codegen::compile_aot(m, o), m, dir.path);
  const std::string exe = dir.path + "/driver";
  auto [status, log] = shell("cc -std=c11 -O2 -Wall -Wextra -Werror -I'" + dir.path + "' '" +
                             std::string(HAMUX_SOURCE_DIR) + "/tests/aot/driver.c' '" + dir.path + "/m.o'" +
                             (kernels_library ? kernels_library_link_flags() : "") + " -lm -o '" + exe + "'");
  EXPECT_EQ(status, 0) << log;
  std::FILE* in = std::fopen((dir.path + "/in.bin").c_str(), "wb");
  for (const auto& x : c.x) write_raw(in, x);
  for (const auto& mk : c.mask) write_raw(in, mk);
  std::fclose(in);
  auto [run_status, run_log] = shell("'" + exe + "' '" + dir.path + "/in.bin' '" + dir.path + "/out.bin' " +
                                     std::to_string(c.batch) + " " + std::to_string(steps) + " " +
                                     std::to_string(dt) + " '" + dir.path + "'");
  EXPECT_EQ(run_status, 0) << run_log;
  Outcome<T> o2;
  const std::string bytes = read_text(dir.path + "/out.bin");
  size_t pos = 0;
  auto take = [&](size_t n) {
    std::vector<T> v(n);
    if (pos + n * sizeof(T) <= bytes.size()) std::memcpy(v.data(), bytes.data() + pos, n * sizeof(T));
    pos += n * sizeof(T);
    return v;
  };
  for (size_t i = 0; i < m.neurons.size(); ++i) {
    o2.x.push_back(take(c.x[i].size()));
    o2.xhat.push_back(take(c.x[i].size()));
  }
  o2.energy = take(c.batch);
  EXPECT_EQ(pos, bytes.size()) << "driver output size";
  return o2;
}

class CDriver : public ::testing::TestWithParam<std::string> {};

template <class T>
void check_driver(const Model& m, bool embed, double tol, bool kernels_library = false) {
  const bool big = m.file == "energy_transformer.json" || m.file == "conv.json";
  const Case<T> c = make_case<T>(m, big ? 2 : 3, 5);
  const double dt = 0.1;
  const int64_t steps = 3;
  const Outcome<T> aot = run_driver<T>(m, embed, c, dt, steps, kernels_library);
  const Outcome<T> jit = run_jit<T>(m, c, dt, steps);
  EXPECT_LE(outcome_error(aot, jit), tol) << m.file;
  EXPECT_GT(scaled_error(aot.x[0], c.x[0]), 0.0) << m.file << ": the state did not move";
}

TEST_P(CDriver, LinkedCProgramMatchesJit) {
  const Model m = model_as(GetParam(), "");
  if (m.dtype == ir::DType::F32) check_driver<float>(m, true, kTolF32);
  else check_driver<double>(m, true, kTolF64);
}

TEST_P(CDriver, LinkedWithTheKernelsLibraryMatchesJit) {
  const Model m = model_as(GetParam(), "");
  if (m.dtype == ir::DType::F32) check_driver<float>(m, true, kTolF32, true);
  else check_driver<double>(m, true, kTolF64, true);
}

INSTANTIATE_TEST_SUITE_P(ContractModels, CDriver, ::testing::ValuesIn(contract_models()),
                         [](const ::testing::TestParamInfo<std::string>& i) {
                           return i.param.substr(0, i.param.find('.'));
                         });

// Subnormal states are flushed to zero in the kernel as in the JIT (hamux_aot.h): x <- x - r x
// on an identity neuron takes 1e-39 and 2e-39 (float32 subnormals) to 0, not to 5e-40 and
// 1e-39, and the driver's check that its control word came back (exit status 3) passes.
TEST(CDriverSubnormals, FlushedToZeroAsInTheJit) {
  const Model m = parse_model(R"({"hamux": "1", "neurons": {"a": {"shape": [4], "lagrangian": "identity"}}})",
                              "subnormal.json", ".");
  Case<float> c;
  c.x = {{1e-39f, 2e-39f, 1.0f, 0.5f}};
  c.mask = {{1, 1, 1, 1}};
  const Outcome<float> aot = run_driver<float>(m, true, c, 0.5, 1);
  const Outcome<float> jit = run_jit<float>(m, c, 0.5, 1);
  ASSERT_EQ(aot.x.size(), 1u);
  EXPECT_EQ(aot.x[0], (std::vector<float>{0.0f, 0.0f, 0.5f, 0.25f}));
  EXPECT_EQ(aot.x[0], jit.x[0]);
}

TEST(CDriverFiles, ParamsFromNpyFiles) {
  check_driver<double>(model_as("custom_energies.json", ""), false, kTolF64);
  check_driver<float>(model_as("readme.json", ""), false, kTolF32);
}

// The generated headers are also valid C++ (extern "C", explicit casts), both modes.
TEST(CHeader, CompilesAsCpp) {
  for (bool embed : {true, false}) {
    Scratch dir;
    const Model m = model_as("custom_energies.json", "");
    codegen::AotOptions o;
    o.prefix = "m";
    o.embed_params = embed;
    codegen::write_aot(codegen::compile_aot(m, o), m, dir.path);
    auto [status, log] = shell("c++ -x c++ -std=c++17 -fsyntax-only -Wall -Wextra -Werror -I'" + dir.path + "' '" +
                               std::string(HAMUX_SOURCE_DIR) + "/tests/aot/driver.c'");
    EXPECT_EQ(status, 0) << log;
  }
}

// And valid C99 (the checked run included), both modes: the checked run's driver compiles with
// -std=c99 -pedantic in aot_checked_test.cpp, with embedded params only.
TEST(CHeader, CompilesAsC99) {
  for (bool embed : {true, false}) {
    Scratch dir;
    const Model m = model_as("readme.json", "");
    codegen::AotOptions o;
    o.prefix = "m";
    o.embed_params = embed;
    codegen::write_aot(codegen::compile_aot(m, o), m, dir.path);
    auto [status, log] = shell("cc -std=c99 -pedantic -fsyntax-only -Wall -Wextra -Werror -I'" + dir.path + "' '" +
                               std::string(HAMUX_SOURCE_DIR) + "/tests/aot/driver.c'");
    EXPECT_EQ(status, 0) << log;
  }
}

#ifdef HAMUX_AOT_EXAMPLE
// "readme step 10 sample 0 energy -1.234" -> energies[{model, step, sample}]
std::map<std::tuple<std::string, int64_t, int64_t>, double> parse_energies(const std::string& out) {
  std::map<std::tuple<std::string, int64_t, int64_t>, double> e;
  std::regex line(R"((\w+) step (\d+) sample (\d+) energy (\S+))");
  for (std::sregex_iterator it(out.begin(), out.end(), line), end; it != end; ++it)
    e[{(*it)[1], std::stoll((*it)[2]), std::stoll((*it)[3])}] = std::stod((*it)[4]);
  return e;
}

// The example's initial state, x[b][e] = sin(0.37 (e + 1) + 1.3 b), in the model's dtype.
template <class T>
Case<T> example_case(const Model& m, int64_t batch) {
  Case<T> c;
  c.batch = batch;
  for (const NeuronDef& nd : m.neurons) {
    const int64_t n = num_elements(nd.shape);
    std::vector<T> x(batch * n);
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t e = 0; e < n; ++e) x[b * n + e] = static_cast<T>(std::sin(0.37 * double(e + 1) + 1.3 * double(b)));
    c.x.push_back(x);
    c.mask.emplace_back(n, T(1));
  }
  return c;
}

TEST(AotExample, PrintsTheJitEnergies) {
  auto [status, out] = shell(std::string("'") + HAMUX_AOT_EXAMPLE + "' '" + HAMUX_AOT_EXAMPLE_KERNELS + "'");
  ASSERT_EQ(status, 0) << out;
  const auto energies = parse_energies(out);
  struct Expect {
    const char* model;
    const char* file;
    int64_t batch;
    double dt;
    std::vector<int64_t> steps;
  };
  for (const Expect& x : {Expect{"readme", "readme.json", 1, 0.1, {0, 1, 10, 100, 1000}},
                          Expect{"dense_am", "dense_am.json", 2, 0.5, {0, 1, 10, 40}}}) {
    const Model m = model_as(x.file, "");
    const Case<float> c = example_case<float>(m, x.batch);
    double before = INFINITY;
    for (int64_t k : x.steps) {
      const Outcome<float> jit = run_jit<float>(m, c, x.dt, k);
      for (int64_t b = 0; b < x.batch; ++b) {
        auto it = energies.find({x.model, k, b});
        ASSERT_NE(it, energies.end()) << x.model << " step " << k << " sample " << b << " missing:\n" << out;
        EXPECT_NEAR(it->second, jit.energy[b], kTolF32 * (1 + std::abs(jit.energy[b]))) << x.model << " step " << k;
        if (b == 0) {
          EXPECT_LE(it->second, before + 1e-5) << x.model << ": the energy increased at step " << k;
          before = it->second;
        }
      }
    }
  }
  EXPECT_NE(out.find("readme relaxed in "), std::string::npos) << out;
}

// The states of a Case as hamux States of `ham` (the same model).
States states_of(const Ham& ham, const Case<float>& c) {
  States s = ham.zeros(c.batch);
  for (size_t i = 0; i < ham.neurons().size(); ++i) {
    Shape shape = ham.neurons()[i].shape;
    shape.insert(shape.begin(), c.batch);
    s.set(ham.neurons()[i].name, Tensor<double>(shape, std::vector<double>(c.x[i].begin(), c.x[i].end())));
  }
  return s;
}

TEST(AotExample, CheckedRunsAreTheJits) {
  auto [status, out] = shell(std::string("'") + HAMUX_AOT_EXAMPLE + "' '" + HAMUX_AOT_EXAMPLE_KERNELS + "'");
  ASSERT_EQ(status, 0) << out;
  // readme from a NaN state: hamux::run's message.
  const Ham readme = Ham::load(std::string(HAMUX_MODELS_DIR) + "/readme.json");
  Case<float> c = example_case<float>(readme.model(), 1);
  c.x[0][0] = NAN;
  States s = states_of(readme, c);
  RunOptions o;
  o.steps = 10;
  o.dt = 0.1;
  std::string cause = "no error";
  try {
    run(readme, s, o);
  } catch (const Error& e) {
    cause = e.cause();
  }
  EXPECT_EQ(cause, "neuron 'input', sample 0: state is nan at step 0");
  EXPECT_NE(out.find("readme checked: rc 1: " + cause + "\n"), std::string::npos) << out;
  // dense_am at dt 5 with the guard: the JIT's events and final dt; the energy went down.
  const Ham dense = Ham::load(std::string(HAMUX_MODELS_DIR) + "/dense_am.json");
  States d = states_of(dense, example_case<float>(dense.model(), 2));
  const std::vector<double> start = d.energy();
  o.steps = 40;
  o.dt = 5;
  o.energy_guard = true;
  const RunReport r = run(dense, d, o);
  ASSERT_FALSE(r.guard.empty());
  char line[128];
  std::snprintf(line, sizeof line, "dense_am guarded: rc 0 steps 40 dt %.17g guard events %d\n", r.dt,
                static_cast<int>(r.guard.size()));
  EXPECT_NE(out.find(line), std::string::npos) << line << out;
  const std::vector<double> end = d.energy();
  std::regex energy(R"(dense_am guarded sample (\d+) energy (\S+))");
  int samples = 0;
  for (std::sregex_iterator it(out.begin(), out.end(), energy), stop; it != stop; ++it, ++samples) {
    const size_t b = std::stoul((*it)[1]);
    const double e = std::stod((*it)[2]);
    ASSERT_LT(b, end.size());
    EXPECT_NEAR(e, end[b], kTolF32 * (1 + std::abs(end[b]))) << "sample " << b;
    EXPECT_LE(e, start[b]) << "sample " << b;
  }
  EXPECT_EQ(samples, 2) << out;
}

TEST(AotExample, LinksNoLlvm) {
  auto [status, dyn] = shell(std::string("readelf -d '") + HAMUX_AOT_EXAMPLE + "'");
  ASSERT_EQ(status, 0) << dyn;
  std::regex needed(R"(\(NEEDED\)\s+Shared library: \[([^\]]+)\])");
  std::vector<std::string> libs;
  for (std::sregex_iterator it(dyn.begin(), dyn.end(), needed), end; it != end; ++it) libs.push_back((*it)[1]);
  ASSERT_FALSE(libs.empty()) << dyn;
  for (const std::string& lib : libs) {
#ifdef HAMUX_SANITIZE_BUILD
    // A sanitizer build links every program, this one too, with the sanitizer runtimes.
    if (lib.rfind("libasan.so", 0) == 0 || lib.rfind("libubsan.so", 0) == 0) continue;
#endif
    EXPECT_TRUE(lib.rfind("libc.so", 0) == 0 || lib.rfind("libm.so", 0) == 0) << "needs " << lib;
  }
  auto [nm_status, syms] = shell(std::string("nm '") + HAMUX_AOT_EXAMPLE + "'");
  ASSERT_EQ(nm_status, 0) << syms;
  for (const char* bad : {"llvm", "LLVM", "Eigen", "hamux_einsum", "hamux_conv", "_ZN"})
    EXPECT_EQ(syms.find(bad), std::string::npos) << "symbol table mentions " << bad;
  EXPECT_NE(syms.find(" T readme_kernel"), std::string::npos);
  EXPECT_NE(syms.find(" T dense_am_kernel"), std::string::npos);
  EXPECT_NE(syms.find(" R readme_param_W1"), std::string::npos);
}
#endif

}  // namespace
}  // namespace hamux::aot_test
