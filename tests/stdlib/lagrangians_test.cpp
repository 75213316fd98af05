// tests/stdlib/lagrangians_test.cpp - every builtin Lagrangian: value and activation
// against closed forms, the activation against float64 finite differences of the value,
// the neuron bias, and the hamux properties of the activations.
#include "autodiff/derive.h"
#include "lagrangian_cases.h"
#include "stdlib_testing.h"

namespace hamux::stdlib_test {
namespace {

// A float64 model with one neuron "a" of the case's shape and Lagrangian; with a bias
// param "b" (normal values) when `bias` is set.
std::string one_neuron(const LagCase& c, bool bias, const std::string& dtype = "float64") {
  std::string shape = "[";
  for (size_t i = 0; i < c.shape.size(); ++i) shape += (i ? ", " : "") + std::to_string(c.shape[i]);
  shape += "]";
  std::string params = bias ? R"("b": {"shape": )" + shape + R"(, "init": {"normal": {"std": 0.5}}})" : "";
  return R"({"hamux": "1", "dtype": ")" + dtype + R"(", "seed": 3, "params": {)" + params +
         R"(}, "neurons": {"a": {"shape": )" + shape + R"(, "lagrangian": )" + c.spec +
         (bias ? R"(, "bias": "b")" : "") + "}}}";
}

class Lagrangian : public ::testing::TestWithParam<LagCase> {};

TEST_P(Lagrangian, ValueActivationAndGradientMatchTheClosedForm) {
  const LagCase& c = GetParam();
  Model m = parse(one_neuron(c, false));
  Derivation d = derive(m);
  NodePtr x = ir::input(0, "x", c.shape, ir::DType::F64);
  for (unsigned seed : {1u, 2u, 3u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    T at = random_tensor(c.shape, seed, -2.0, 2.0);
    double want = c.lagrangian(at);
    EXPECT_NEAR(eval_scalar(m.neurons[0].lagrangian, {at}), want, 1e-12 * std::max(1.0, std::abs(want)));

    // The derivation's activation graph (simplified) and the raw reverse-mode gradient.
    T act = c.activation(at);
    T zeros(c.shape);
    Vec derived = eval1<double>({d.activation[0]}, {at, zeros})[0].data;
    Vec raw = eval1<double>(autodiff::grad(m.neurons[0].lagrangian, {x}), {at})[0].data;
    EXPECT_LT(relative_error(derived, act.data), 1e-12);
    EXPECT_LT(relative_error(raw, act.data), 1e-12);
    // The symbolic gradient against central differences of hamux's own L.
    EXPECT_LT(relative_error(raw, fd_gradient(m.neurons[0].lagrangian, {at}, 0)), 1e-6);
  }
}

// A neuron bias b shifts the state: L(x - b), activation grad L at x - b, energy
// <x - b, xhat> - L(x - b), and (without synapses) update direction x - b.
TEST_P(Lagrangian, BiasShiftsTheState) {
  const LagCase& c = GetParam();
  Model m = parse(one_neuron(c, true));
  Derivation d = derive(m);
  interp::ParamValues<double> params = interp::param_values<double>(m);
  const T& b = params.at("b");
  T at = random_tensor(c.shape, 7, -2.0, 2.0), xhat = random_tensor(c.shape, 8);
  T shifted(c.shape);
  for (int64_t i = 0; i < at.size(); ++i) shifted[i] = at[i] - b[i];
  double want_l = c.lagrangian(shifted);
  EXPECT_NEAR(eval_scalar(m.neurons[0].lagrangian, {at}, params), want_l, 1e-12 * std::max(1.0, std::abs(want_l)));
  std::vector<T> out = eval1<double>({d.activation[0], d.neuron_energy[0], d.update[0]}, {at, xhat}, params);
  EXPECT_LT(relative_error(out[0].data, c.activation(shifted).data), 1e-12);
  double dot = 0;
  for (int64_t i = 0; i < at.size(); ++i) dot += shifted[i] * xhat[i];
  EXPECT_NEAR(out[1][0], dot - want_l, 1e-12 * std::max(1.0, std::abs(want_l)));
  EXPECT_LT(relative_error(out[2].data, shifted.data), 1e-15);
}

// float32, states up to |x| = 1e4: the value and the activation stay finite and match the
// closed form (evaluated in double) to float32 accuracy. exp and rexp are tested where
// their true values fit in float32 (beta x < 88); identity and repu are polynomials whose
// values at 1e4 fit.
TEST_P(Lagrangian, Float32StaysFiniteAtExtremeStates) {
  const LagCase& c = GetParam();
  const bool overflows = c.name.rfind("exp_", 0) == 0 || c.name.rfind("rexp_", 0) == 0;
  std::vector<double> xs{-1e4, -1e3, 0.0, 1e3, 1e4};
  if (overflows) xs = {-1e4, -1e3, 0.0, 20.0, 40.0};
  // A [3,4] layer: rows mix extreme and moderate entries.
  T at(c.shape);
  for (int64_t i = 0; i < at.size(); ++i) at[i] = (i % 3 == 2) ? 0.5 * static_cast<double>(i % 5) - 1 : xs[i % 5];
  Model m = parse(one_neuron(c, false, "float32"));
  Derivation d = derive(m);
  Tensor<float> x32 = at.cast<float>();
  std::vector<Tensor<float>> out = eval1<float>({m.neurons[0].lagrangian, d.activation[0]}, {x32, Tensor<float>(c.shape)});
  // The truth is the closed form at the float32-rounded state.
  T at_rounded = x32.cast<double>();
  double want = c.lagrangian(at_rounded);
  T act = c.activation(at_rounded);
  ASSERT_TRUE(std::isfinite(out[0][0])) << out[0][0];
  EXPECT_NEAR(out[0][0], want, 1e-5 * std::max(1.0, std::abs(want)));
  double scale = 1;
  for (double v : act.data) scale = std::max(scale, std::abs(v));
  for (int64_t i = 0; i < act.size(); ++i) {
    ASSERT_TRUE(std::isfinite(out[1][i])) << "element " << i << " at x = " << at[i];
    EXPECT_NEAR(out[1][i], act[i], 1e-5 * scale) << "element " << i << " at x = " << at[i];
  }
}

std::string case_name(const ::testing::TestParamInfo<LagCase>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(Builtins, Lagrangian, ::testing::ValuesIn(lagrangian_cases()), case_name);

// ---- properties of the activations ----

// Activations of a [3,4] layer at `x`, for a LAG spec.
Vec activation_of(const std::string& spec, const T& x) {
  LagCase c{"", spec, x.shape, nullptr, nullptr};
  Model m = parse(one_neuron(c, false));
  Derivation d = derive(m);
  return eval1<double>({d.activation[0]}, {x, T(x.shape)})[0].data;
}

TEST(LagrangianProperties, SigmoidActivationsLieBetweenZeroAndScale) {
  for (auto [beta, scale] : std::vector<std::pair<double, double>>{{1, 1}, {2.5, 3}, {0.2, 0.5}}) {
    std::string spec = R"({"sigmoid": {"beta": )" + std::to_string(beta) + R"(, "scale": )" + std::to_string(scale) + "}}";
    T x = random_tensor({3, 4}, 11, -6.0, 6.0);
    for (double a : activation_of(spec, x)) {
      EXPECT_GT(a, 0.0);
      EXPECT_LT(a, scale);
    }
    // In the far tails the activations saturate at the bounds instead of overflowing.
    T far({3, 4}, std::vector<double>{-1e4, 1e4, -1e3, 1e3, -800, 800, 0, 1, -1, 2, -2, 3});
    Vec a = activation_of(spec, far);
    for (double v : a) {
      EXPECT_GE(v, 0.0);
      EXPECT_LE(v, scale);
    }
    EXPECT_NEAR(a[0], 0.0, 1e-15 * scale);
    EXPECT_NEAR(a[1], scale, 1e-15 * scale);
  }
}

TEST(LagrangianProperties, SoftmaxSumsToOneAlongItsAxis) {
  T x = random_tensor({3, 4}, 12, -5.0, 5.0);
  for (int axis : {-1, 0, 1}) {
    for (double beta : {1.0, 3.0}) {
      Vec a = activation_of(R"({"softmax": {"beta": )" + std::to_string(beta) + R"(, "axis": )" + std::to_string(axis) + "}}", x);
      for (auto& idx : slices(x.shape, axis)) {
        double s = 0;
        for (int64_t i : idx) {
          EXPECT_GT(a[i], 0.0);
          s += a[i];
        }
        EXPECT_NEAR(s, 1.0, 1e-14);
      }
    }
  }
}

TEST(LagrangianProperties, GhostmaxSumsToLessThanOne) {
  // The ghost logit 0 takes the rest: sum = S/(1+S) with S = sum exp x.
  T x = random_tensor({3, 4}, 13, -3.0, 3.0);
  Vec a = activation_of(R"({"ghostmax": {"axis": -1}})", x);
  for (auto& idx : slices(x.shape, -1)) {
    double s = 0, e = 0;
    for (int64_t i : idx) {
      s += a[i];
      e += std::exp(x[i]);
    }
    EXPECT_NEAR(s, e / (1 + e), 1e-14);
    EXPECT_LT(s, 1.0);
  }
}

TEST(LagrangianProperties, SphericalNormActivationHasNormGamma) {
  T x = random_tensor({3, 4}, 14, -2.0, 2.0);
  for (double gamma : {1.0, 2.5}) {
    for (int axis : {-1, 0}) {
      Vec a = activation_of(R"({"spherical_norm": {"gamma": )" + std::to_string(gamma) + R"(, "axis": )" +
                                std::to_string(axis) + "}}",
                            x);
      for (auto& idx : slices(x.shape, axis)) {
        double n2 = 0, x2 = 0;
        for (int64_t i : idx) {
          n2 += a[i] * a[i];
          x2 += x[i] * x[i];
        }
        // Exactly gamma |x| / sqrt(|x|^2 + eps): gamma up to eps.
        EXPECT_NEAR(std::sqrt(n2), gamma * std::sqrt(x2 / (x2 + 1e-5)), 1e-14);
        EXPECT_NEAR(std::sqrt(n2), gamma, gamma * 1e-5 / x2);
      }
    }
  }
  // With eps = 0 the norm is exactly gamma (to rounding).
  Vec a = activation_of(R"({"spherical_norm": {"eps": 0}})", x);
  for (auto& idx : slices(x.shape, -1)) {
    double n2 = 0;
    for (int64_t i : idx) n2 += a[i] * a[i];
    EXPECT_NEAR(n2, 1.0, 1e-14);
  }
}

TEST(LagrangianProperties, LayernormActivationHasMeanDeltaAndStdGamma) {
  T x = random_tensor({3, 4}, 15, -2.0, 2.0);
  for (auto [gamma, delta] : std::vector<std::pair<double, double>>{{1, 0}, {2, 0.5}, {0.5, -1}}) {
    for (int axis : {-1, 0}) {
      Vec a = activation_of(R"({"layernorm": {"gamma": )" + std::to_string(gamma) + R"(, "delta": )" +
                                std::to_string(delta) + R"(, "axis": )" + std::to_string(axis) + "}}",
                            x);
      for (auto& idx : slices(x.shape, axis)) {
        const double n = static_cast<double>(idx.size());
        double mean = 0, var = 0, xm = 0, xv = 0;
        for (int64_t i : idx) {
          mean += a[i] / n;
          xm += x[i] / n;
        }
        for (int64_t i : idx) {
          var += (a[i] - mean) * (a[i] - mean) / n;
          xv += (x[i] - xm) * (x[i] - xm) / n;
        }
        EXPECT_NEAR(mean, delta, 1e-14);
        // std = gamma sqrt(var / (var + eps)): gamma up to eps.
        EXPECT_NEAR(std::sqrt(var), gamma * std::sqrt(xv / (xv + 1e-5)), 1e-13);
        EXPECT_NEAR(std::sqrt(var), gamma, gamma * 1e-5 / xv);
      }
    }
  }
}

TEST(LagrangianProperties, NormsStayFiniteAtTheOrigin) {
  // eps keeps y > 0 where the state is all zero: the activation is delta, not NaN.
  T zero({3, 4});
  for (const char* spec : {R"({"layernorm": {"delta": 0.25}})", R"({"spherical_norm": {"delta": 0.25}})"}) {
    for (double a : activation_of(spec, zero)) EXPECT_NEAR(a, 0.25, 1e-15) << spec;
  }
}

}  // namespace
}  // namespace hamux::stdlib_test
