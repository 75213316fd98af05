// tests/frontend/semantics_test.cpp - the graphs the frontend builds compute the right values.
//
// Every builtin Lagrangian and synapse, and every op of the format, is evaluated with the
// reference interpreter (float64) and compared with the formula written out in plain C++.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "frontend/model.h"
#include "frontend_test_util.h"

namespace hamux {
namespace {

using test::random_tensor;

std::string shape_json(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += ",";
    out += std::to_string(s[i]);
  }
  return out + "]";
}

// ---- Lagrangians ----

// L(x) of a single float64 neuron of `shape` with Lagrangian `lag` (JSON).
double lagrangian_value(const Shape& shape, const std::string& lag, const Tensor<double>& x) {
  Model m = parse_model(R"({"hamux": "1", "dtype": "float64", "neurons": {"n": {"shape": )" + shape_json(shape) +
                            R"(, "lagrangian": )" + lag + "}}}",
                        "lag.json", "");
  return test::eval_scalar(m.neurons[0].lagrangian, {x}, m);
}

double relu(double v) { return v > 0 ? v : 0; }

// Sum over rows of f(row) for a [rows, cols] tensor reduced along its last axis.
double per_row(const Tensor<double>& x, const std::function<double(const std::vector<double>&)>& f) {
  int64_t cols = x.shape.back(), rows = x.size() / cols;
  double s = 0;
  for (int64_t r = 0; r < rows; ++r) s += f(std::vector<double>(x.data.begin() + r * cols, x.data.begin() + (r + 1) * cols));
  return s;
}

TEST(Lagrangians, ElementwiseBuiltins) {
  Tensor<double> x = random_tensor({2, 5}, 1, -2, 2);
  auto sum = [&](const std::function<double(double)>& f) {
    double s = 0;
    for (double v : x.data) s += f(v);
    return s;
  };
  EXPECT_NEAR(lagrangian_value({2, 5}, R"("identity")", x), sum([](double v) { return 0.5 * v * v; }), 1e-12);
  EXPECT_NEAR(lagrangian_value({2, 5}, R"("relu")", x), sum([](double v) { return 0.5 * relu(v) * relu(v); }), 1e-12);
  EXPECT_NEAR(lagrangian_value({2, 5}, R"({"repu": {"n": 3}})", x),
              sum([](double v) { return std::pow(relu(v), 3) / 3; }), 1e-12);
  EXPECT_NEAR(lagrangian_value({2, 5}, R"({"exp": {"beta": 2}})", x), sum([](double v) { return std::exp(2 * v) / 2; }),
              1e-10);
  EXPECT_NEAR(lagrangian_value({2, 5}, R"({"rexp": {"beta": 2}})", x),
              sum([](double v) { return v > 0 ? std::exp(2 * v) / 2 - v : 0.5; }), 1e-10);
  EXPECT_NEAR(lagrangian_value({2, 5}, R"({"sigmoid": {"beta": 1.5, "scale": 2}})", x),
              sum([](double v) { return 2 / 1.5 * std::log1p(std::exp(1.5 * v)); }), 1e-10);
  EXPECT_NEAR(lagrangian_value({2, 5}, R"({"tanh": {"beta": 4}})", x),
              sum([](double v) { return std::log(std::cosh(4 * v)) / 4; }), 1e-10);
  EXPECT_NEAR(lagrangian_value({2, 5}, R"("tanh")", x), sum([](double v) { return std::log(std::cosh(v)); }), 1e-10);
}

TEST(Lagrangians, SoftmaxOverAnAxis) {
  Tensor<double> x = random_tensor({3, 4}, 2, -2, 2);
  // axis 0: logsumexp down each column.
  double want = 0;
  for (int j = 0; j < 4; ++j) {
    double s = 0;
    for (int i = 0; i < 3; ++i) s += std::exp(2 * x[i * 4 + j]);
    want += std::log(s) / 2;
  }
  EXPECT_NEAR(lagrangian_value({3, 4}, R"({"softmax": {"beta": 2, "axis": 0}})", x), want, 1e-10);
  double rows = per_row(x, [](const std::vector<double>& r) {
    double s = 0;
    for (double v : r) s += std::exp(v);
    return std::log(s);
  });
  EXPECT_NEAR(lagrangian_value({3, 4}, R"("softmax")", x), rows, 1e-10);
}

TEST(Lagrangians, LayernormAndSphericalNorm) {
  Tensor<double> x = random_tensor({3, 4}, 3, -2, 2);
  const double gamma = 1.5, delta = 0.3, eps = 1e-5;
  double sumx = 0;
  for (double v : x.data) sumx += v;
  double ln = per_row(x, [&](const std::vector<double>& r) {
    double m = 0, var = 0;
    for (double v : r) m += v / r.size();
    for (double v : r) var += (v - m) * (v - m) / r.size();
    return r.size() * gamma * std::sqrt(var + eps);
  });
  EXPECT_NEAR(lagrangian_value({3, 4}, R"({"layernorm": {"gamma": 1.5, "delta": 0.3}})", x), ln + delta * sumx, 1e-10);
  double sn = per_row(x, [&](const std::vector<double>& r) {
    double s = 0;
    for (double v : r) s += v * v;
    return gamma * std::sqrt(s + eps);
  });
  EXPECT_NEAR(lagrangian_value({3, 4}, R"({"spherical_norm": {"gamma": 1.5, "delta": 0.3}})", x), sn + delta * sumx,
              1e-10);
}

TEST(Lagrangians, GhostmaxIsStable) {
  Tensor<double> x = random_tensor({3, 4}, 4, -2, 2);
  double want = per_row(x, [](const std::vector<double>& r) {
    double s = 1;
    for (double v : r) s += std::exp(v);
    return std::log(s);
  });
  EXPECT_NEAR(lagrangian_value({3, 4}, R"("ghostmax")", x), want, 1e-10);
  // Large inputs: log(1 + e^800 + ...) ~ 800 + log(1 + e^-1), finite.
  Tensor<double> big({2}, std::vector<double>{800, 799});
  EXPECT_NEAR(lagrangian_value({2}, R"("ghostmax")", big), 800 + std::log1p(std::exp(-1.0)), 1e-9);
}

TEST(Lagrangians, BiasShiftsTheState) {
  Model m = parse_model(R"({"hamux": "1", "dtype": "float64",
      "params": {"b": {"shape": [3], "init": {"constant": {"value": 0.5}}}},
      "neurons": {"n": {"shape": [3], "lagrangian": "identity", "bias": "b"}}})",
                        "m.json", "");
  Tensor<double> x({3}, std::vector<double>{1, 2, -1});
  EXPECT_NEAR(test::eval_scalar(m.neurons[0].lagrangian, {x}, m), 0.5 * (0.25 + 2.25 + 2.25), 1e-12);
}

TEST(Lagrangians, CustomExprAndContractModel) {
  Model m = load_model(test::model_path("custom_energies.json"));
  Tensor<double> x = random_tensor({6}, 5, -2, 2);
  double want = 0;
  for (double v : x.data) want += std::pow(relu(v), 3) / 3;
  EXPECT_NEAR(test::eval_scalar(m.neurons[0].lagrangian, {x}, m), want, 1e-12);
  // Neuron c: sigmoid(beta 1.5) of x - b with the uniform-initialised bias b.
  Tensor<double> c = random_tensor({4}, 6, -2, 2);
  double wc = 0;
  for (int i = 0; i < 4; ++i) wc += std::log1p(std::exp(1.5 * (c[i] - m.params[1].value[i]))) / 1.5;
  EXPECT_NEAR(test::eval_scalar(m.neurons[2].lagrangian, {c}, m), wc, 1e-12);
}

// ---- synapses and ops: energies of one connection ----

struct Fixture {
  Model m;
  // Sets a param's values (the model's init is irrelevant for these checks).
  void set(const std::string& name, const Tensor<double>& v) { m.params[m.param_index(name)].value = v; }
  double energy(const std::vector<Tensor<double>>& in, int c = 0) {
    return test::eval_scalar(m.connections[c].energy, in, m);
  }
};

// A float64 model with neurons n0.. of `shapes`, `params` (JSON members), one synapse
// `syn` (JSON) connected to all neurons in order.
Fixture make(const std::vector<Shape>& shapes, const std::string& params, const std::string& syn) {
  std::string neurons, conn;
  for (size_t i = 0; i < shapes.size(); ++i) {
    neurons += (i ? ", " : "") + std::string("\"n") + std::to_string(i) + "\": {\"shape\": " + shape_json(shapes[i]) +
               ", \"lagrangian\": \"identity\"}";
    conn += (i ? ", " : "") + std::string("\"n") + std::to_string(i) + "\"";
  }
  std::string text = R"({"hamux": "1", "dtype": "float64", "params": {)" + params + R"(}, "neurons": {)" + neurons +
                     R"(}, "synapses": {"s": )" + syn + R"(}, "connections": [{"neurons": [)" + conn +
                     R"(], "synapse": "s"}]})";
  return Fixture{parse_model(text, "syn.json", "")};
}

std::string param(const std::string& name, const Shape& s) {
  return "\"" + name + "\": {\"shape\": " + shape_json(s) + ", \"init\": {\"zeros\": {}}}";
}

// An expression synapse over inputs a, b, ... with `value` (and optional let).
std::string expr(const std::vector<std::string>& inputs, const std::string& value, const std::string& let = "") {
  std::string in;
  for (size_t i = 0; i < inputs.size(); ++i) in += (i ? ", " : "") + std::string("\"") + inputs[i] + "\"";
  return R"({"expr": {"inputs": [)" + in + "]" + (let.empty() ? "" : ", \"let\": " + let) + ", \"value\": " + value +
         "}}";
}

TEST(Synapses, LinearFlattensTensorLayers) {
  Fixture f = make({{3}, {2, 2}}, param("W", {3, 4}), R"({"linear": {"W": "W"}})");
  Tensor<double> w = random_tensor({3, 4}, 7), a = random_tensor({3}, 8), b = random_tensor({2, 2}, 9);
  f.set("W", w);
  double want = 0;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) want -= a[i] * w[i * 4 + j] * b[j];
  EXPECT_NEAR(f.energy({a, b}), want, 1e-12);
}

TEST(Synapses, BiasAndLinearBias) {
  Fixture f = make({{4}}, param("b", {4}), R"({"bias": {"b": "b"}})");
  Tensor<double> b = random_tensor({4}, 10), x = random_tensor({4}, 11);
  f.set("b", b);
  double want = 0;
  for (int i = 0; i < 4; ++i) want -= b[i] * x[i];
  EXPECT_NEAR(f.energy({x}), want, 1e-12);

  Fixture g = make({{2}, {3}}, param("W", {2, 3}) + ", " + param("c", {3}), R"({"linear_bias": {"W": "W", "b": "c"}})");
  Tensor<double> w = random_tensor({2, 3}, 12), c = random_tensor({3}, 13), x1 = random_tensor({2}, 14),
                 x2 = random_tensor({3}, 15);
  g.set("W", w);
  g.set("c", c);
  double want2 = 0;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) want2 -= x1[i] * w[i * 3 + j] * x2[j];
  for (int j = 0; j < 3; ++j) want2 -= c[j] * x2[j];
  EXPECT_NEAR(g.energy({x1, x2}), want2, 1e-12);
}

TEST(Synapses, DenseIsVariadic) {
  Fixture f = make({{2}, {3}, {2, 2}}, param("W", {2, 3, 4}), R"({"dense": {"W": "W"}})");
  Tensor<double> w = random_tensor({2, 3, 4}, 16), a = random_tensor({2}, 17), b = random_tensor({3}, 18),
                 c = random_tensor({2, 2}, 19);
  f.set("W", w);
  double want = 0;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) want -= w[(i * 3 + j) * 4 + k] * a[i] * b[j] * c[k];
  EXPECT_NEAR(f.energy({a, b, c}), want, 1e-12);
  // The same definition with one layer.
  Fixture g = make({{5}}, param("W", {5}), R"({"dense": {"W": "W"}})");
  Tensor<double> v = random_tensor({5}, 20), x = random_tensor({5}, 21);
  g.set("W", v);
  double want1 = 0;
  for (int i = 0; i < 5; ++i) want1 -= v[i] * x[i];
  EXPECT_NEAR(g.energy({x}), want1, 1e-12);
}

TEST(Synapses, HopfieldWithAnyLagrangian) {
  Tensor<double> xi = random_tensor({4, 6}, 22), x = random_tensor({4}, 23, -2, 2);
  std::vector<double> h(6, 0.0);
  for (int j = 0; j < 6; ++j)
    for (int i = 0; i < 4; ++i) h[j] += x[i] * xi[i * 6 + j];
  double lse = 0, relu2 = 0, cube = 0;
  for (double v : h) {
    lse += std::exp(2 * v);
    relu2 += 0.5 * relu(v) * relu(v);
    cube += v * v * v * v;
  }
  lse = std::log(lse) / 2;
  Fixture soft = make({{4}}, param("Xi", {4, 6}), R"({"hopfield": {"Xi": "Xi", "lagrangian": {"softmax": {"beta": 2}}}})");
  soft.set("Xi", xi);
  EXPECT_NEAR(soft.energy({x}), -lse, 1e-12);
  Fixture rl = make({{4}}, param("Xi", {4, 6}), R"({"hopfield": {"Xi": "Xi", "lagrangian": "relu"}})");
  rl.set("Xi", xi);
  EXPECT_NEAR(rl.energy({x}), -relu2, 1e-12);
  Fixture custom = make({{4}}, param("Xi", {4, 6}),
                        R"({"hopfield": {"Xi": "Xi", "lagrangian": {"expr": {"inputs": ["h"], "value": ["sum", ["pow", "h", 4]]}}}})");
  custom.set("Xi", xi);
  EXPECT_NEAR(custom.energy({x}), -cube, 1e-12);
}

// Naive HWC / HWIO convolution with TensorFlow padding.
Tensor<double> conv(const Tensor<double>& x, const Tensor<double>& k, int s, bool same) {
  int64_t H = x.shape[0], W = x.shape[1], C = x.shape[2], KH = k.shape[0], KW = k.shape[1], O = k.shape[3];
  int64_t OH = same ? (H + s - 1) / s : (H - KH) / s + 1, OW = same ? (W + s - 1) / s : (W - KW) / s + 1;
  int64_t pt = same ? std::max<int64_t>((OH - 1) * s + KH - H, 0) / 2 : 0;
  int64_t pl = same ? std::max<int64_t>((OW - 1) * s + KW - W, 0) / 2 : 0;
  Tensor<double> y({OH, OW, O});
  for (int64_t i = 0; i < OH; ++i)
    for (int64_t j = 0; j < OW; ++j)
      for (int64_t o = 0; o < O; ++o) {
        double acc = 0;
        for (int64_t a = 0; a < KH; ++a)
          for (int64_t b = 0; b < KW; ++b)
            for (int64_t c = 0; c < C; ++c) {
              int64_t r = i * s + a - pt, q = j * s + b - pl;
              if (r >= 0 && r < H && q >= 0 && q < W) acc += x[(r * W + q) * C + c] * k[((a * KW + b) * C + c) * O + o];
            }
        y[(i * OW + j) * O + o] = acc;
      }
  return y;
}

TEST(Synapses, Conv2dSameAndValidStrided) {
  Tensor<double> k = random_tensor({3, 3, 2, 4}, 24), x = random_tensor({5, 6, 2}, 25);
  for (bool same : {true, false}) {
    int s = same ? 1 : 2;
    Tensor<double> y = conv(x, k, s, same);
    Tensor<double> g = random_tensor(y.shape, 26);
    std::string syn = std::string(R"({"conv2d": {"W": "K", "strides": [)") + std::to_string(s) + "," + std::to_string(s) +
                      R"(], "padding": ")" + (same ? "SAME" : "VALID") + "\"}}";
    Fixture f = make({{5, 6, 2}, y.shape}, param("K", {3, 3, 2, 4}), syn);
    f.set("K", k);
    double want = 0;
    for (int64_t i = 0; i < y.size(); ++i) want -= g[i] * y[i];
    EXPECT_NEAR(f.energy({x, g}), want, 1e-12) << (same ? "SAME" : "VALID");
  }
}

TEST(Synapses, AttentionMatchesFormulaAndTheContractModel) {
  const int H = 2, Y = 3, D = 4, T = 5;
  Tensor<double> wq = random_tensor({H, Y, D}, 27), wk = random_tensor({H, Y, D}, 28), g = random_tensor({T, D}, 29);
  auto proj = [&](const Tensor<double>& w, int t, int h, int y) {
    double s = 0;
    for (int d = 0; d < D; ++d) s += w[(h * Y + y) * D + d] * g[t * D + d];
    return s;
  };
  auto formula = [&](double beta) {
    double e = 0;
    for (int h = 0; h < H; ++h)
      for (int q = 0; q < T; ++q) {
        double z = 0;
        for (int k = 0; k < T; ++k) {
          double a = 0;
          for (int y = 0; y < Y; ++y) a += proj(wq, q, h, y) * proj(wk, k, h, y);
          z += std::exp(beta * a);
        }
        e -= std::log(z) / beta;
      }
    return e;
  };
  std::string ps = param("Wq", {H, Y, D}) + ", " + param("Wk", {H, Y, D});
  Fixture f = make({{T, D}}, ps, R"({"attention": {"Wq": "Wq", "Wk": "Wk", "beta": 0.7}})");
  f.set("Wq", wq);
  f.set("Wk", wk);
  EXPECT_NEAR(f.energy({g}), formula(0.7), 1e-10);
  Fixture d = make({{T, D}}, ps, R"({"attention": {"Wq": "Wq", "Wk": "Wk"}})");
  d.set("Wq", wq);
  d.set("Wk", wk);
  EXPECT_NEAR(d.energy({g}), formula(1 / std::sqrt(double(Y))), 1e-10);  // default beta 1/sqrt(Y)

  // The contract model's hand-written attention is the builtin with beta = 1/sqrt(64).
  Model et = load_model(test::model_path("energy_transformer.json"));
  std::string text = R"({"hamux": "1", "seed": 3,
      "params": {"Wq": {"shape": [4, 64, 256], "init": {"normal": {"std": 0.002}}},
                 "Wk": {"shape": [4, 64, 256], "init": {"normal": {"std": 0.002}}}},
      "neurons": {"tokens": {"shape": [64, 256], "lagrangian": "layernorm"}},
      "synapses": {"att": {"attention": {"Wq": "Wq", "Wk": "Wk"}}},
      "connections": [{"neurons": ["tokens"], "synapse": "att"}]})";
  Model builtin = parse_model(text, "et.json", "");
  Tensor<double> tokens = random_tensor({64, 256}, 30);
  double custom_e = test::eval_scalar(et.connections[0].energy, {tokens}, et);
  double builtin_e = test::eval_scalar(builtin.connections[0].energy, {tokens}, builtin);
  EXPECT_NEAR(custom_e, builtin_e, 1e-6 * std::abs(custom_e));
}

// ---- ops ----

// Energy of a custom expression over inputs of `shapes` (named a, b, c).
double op_energy(const std::vector<Shape>& shapes, const std::string& value, const std::vector<Tensor<double>>& in,
                 const std::string& let = "") {
  std::vector<std::string> names = {"a", "b", "c"};
  names.resize(shapes.size());
  return make(shapes, "", expr(names, value, let)).energy(in);
}

TEST(Ops, Unary) {
  Tensor<double> a = random_tensor({4}, 31, 0.6, 2);  // a - 0.5 > 0 for log and sqrt
  struct Case {
    const char* op;
    double (*f)(double);
  } cases[] = {{"neg", [](double v) { return -v; }},        {"exp", [](double v) { return std::exp(v); }},
               {"log", [](double v) { return std::log(v); }}, {"log1p", [](double v) { return std::log1p(v); }},
               {"sqrt", [](double v) { return std::sqrt(v); }}, {"square", [](double v) { return v * v; }},
               {"abs", [](double v) { return std::abs(v); }},   {"relu", [](double v) { return relu(v); }},
               {"sigmoid", [](double v) { return 1 / (1 + std::exp(-v)); }},
               {"tanh", [](double v) { return std::tanh(v); }},
               {"softplus", [](double v) { return std::log1p(std::exp(v)); }},
               {"logcosh", [](double v) { return std::log(std::cosh(v)); }}};
  for (const Case& c : cases) {
    // Weighted sum (weights 1..4 as the second input) so that a wrong element would show.
    double want = 0;
    for (int i = 0; i < 4; ++i) want += (i + 1) * c.f(-0.5 + a[i]);
    Tensor<double> w({4}, std::vector<double>{1, 2, 3, 4});
    double got2 = op_energy({{4}, {4}}, std::string(R"(["dot", [")") + c.op + R"(", ["add", -0.5, "a"]], "b"])", {a, w});
    EXPECT_NEAR(got2, want, 1e-12) << c.op;
  }
}

TEST(Ops, BinaryWithBroadcasting) {
  Tensor<double> a = random_tensor({3, 1}, 32, 0.5, 2), b = random_tensor({4}, 33, 0.5, 2);
  struct Case {
    const char* op;
    double (*f)(double, double);
  } cases[] = {{"add", [](double x, double y) { return x + y; }}, {"sub", [](double x, double y) { return x - y; }},
               {"mul", [](double x, double y) { return x * y; }}, {"div", [](double x, double y) { return x / y; }},
               {"pow", [](double x, double y) { return std::pow(x, y); }},
               {"max", [](double x, double y) { return std::max(x, y); }},
               {"min", [](double x, double y) { return std::min(x, y); }}};
  for (const Case& c : cases) {
    double want = 0;
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 4; ++j) want += (1 + i + 3 * j) * c.f(a[i], b[j]);
    // Weights 1 + i + 3j as a third input, so that a misplaced element would show.
    Tensor<double> w({3, 4});
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 4; ++j) w[i * 4 + j] = 1 + i + 3 * j;
    double got = op_energy({{3, 1}, {4}, {3, 4}}, std::string(R"(["dot", [")") + c.op + R"(", "a", "b"], "c"])", {a, b, w});
    EXPECT_NEAR(got, want, 1e-12) << c.op;
  }
}

TEST(Ops, Reductions) {
  Tensor<double> a = random_tensor({2, 3, 4}, 34, -2, 2);
  auto at = [&](int i, int j, int k) { return a[(i * 3 + j) * 4 + k]; };
  // sum over axes [0, 2] keepdims -> [1,3,1], weighted by j+1.
  double want = 0, mean1 = 0, maxall = -1e300, lse = 0;
  for (int j = 0; j < 3; ++j) {
    double s = 0;
    for (int i = 0; i < 2; ++i)
      for (int k = 0; k < 4; ++k) s += at(i, j, k);
    want += (j + 1) * s;
  }
  for (int i = 0; i < 2; ++i)
    for (int k = 0; k < 4; ++k) {
      double m = 0, z = 0;
      for (int j = 0; j < 3; ++j) {
        m += at(i, j, k) / 3;
        z += std::exp(at(i, j, k));
      }
      mean1 += m * m;
      lse += std::log(z);
    }
  for (double v : a.data) maxall = std::max(maxall, v);
  Tensor<double> w({1, 3, 1}, std::vector<double>{1, 2, 3});
  EXPECT_NEAR(op_energy({{2, 3, 4}, {1, 3, 1}}, R"(["dot", ["sum", "a", {"axis": [0, -1], "keepdims": true}], "b"])", {a, w}),
              want, 1e-12);
  EXPECT_NEAR(op_energy({{2, 3, 4}}, R"(["sum", ["square", ["mean", "a", {"axis": 1}]]])", {a}), mean1, 1e-12);
  EXPECT_NEAR(op_energy({{2, 3, 4}}, R"(["max", "a"])", {a}), maxall, 0);
  EXPECT_NEAR(op_energy({{2, 3, 4}}, R"(["sum", ["logsumexp", "a", {"axis": 1}]])", {a}), lse, 1e-12);
  EXPECT_NEAR(op_energy({{2, 3, 4}}, R"(["mean", "a"])", {a}),
              [&] {
                double s = 0;
                for (double v : a.data) s += v;
                return s / 24;
              }(),
              1e-12);
  // size: 3 along axis 1, 24 in all.
  EXPECT_NEAR(op_energy({{2, 3, 4}}, R"(["add", ["size", "a", {"axis": -2}], ["mul", 0, ["sum", "a"]]])", {a}), 3, 0);
  EXPECT_NEAR(op_energy({{2, 3, 4}}, R"(["add", ["size", "a"], ["mul", 0, ["sum", "a"]]])", {a}), 24, 0);
}

TEST(Ops, Softmax) {
  Tensor<double> a = random_tensor({2, 3}, 35, -2, 2), w = random_tensor({2, 3}, 36);
  double want = 0;
  for (int j = 0; j < 3; ++j) {  // axis 0
    double z = std::exp(a[j]) + std::exp(a[3 + j]);
    want += w[j] * std::exp(a[j]) / z + w[3 + j] * std::exp(a[3 + j]) / z;
  }
  EXPECT_NEAR(op_energy({{2, 3}, {2, 3}}, R"(["dot", ["softmax", "a", {"axis": 0}], "b"])", {a, w}), want, 1e-12);
}

// Reference matmul for [.., m, k] x [.., k, n] with NumPy broadcasting of batch dims and
// 1-D promotion, evaluated through the weighted sum with `w` of the output's shape.
TEST(Ops, MatmulAllForms) {
  struct Case {
    Shape a, b, out;
  } cases[] = {{{3}, {3}, {}},           {{3}, {3, 4}, {4}},          {{2, 3}, {3}, {2}},
               {{2, 3}, {3, 4}, {2, 4}}, {{5, 2, 3}, {3, 4}, {5, 2, 4}}, {{2, 3}, {5, 3, 4}, {5, 2, 4}},
               {{1, 2, 3}, {5, 3, 4}, {5, 2, 4}}, {{3}, {5, 3, 4}, {5, 4}}};
  for (const Case& c : cases) {
    Tensor<double> a = random_tensor(c.a, 37), b = random_tensor(c.b, 38), w = random_tensor(c.out, 39);
    // Reference: promote, loop over batch.
    Shape A = c.a.size() == 1 ? Shape{1, c.a[0]} : c.a, B = c.b.size() == 1 ? Shape{c.b[0], 1} : c.b;
    int64_t m = A[A.size() - 2], k = A.back(), n = B.back();
    int64_t batch = 1;
    for (size_t i = 0; i + 2 < std::max(A.size(), B.size()); ++i) batch *= c.out[i];
    int64_t bA = num_elements(A) / (m * k), bB = num_elements(B) / (k * n);
    double want = 0;
    for (int64_t t = 0; t < batch; ++t)
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          double s = 0;
          for (int64_t q = 0; q < k; ++q)
            s += a[(t % bA) * m * k + i * k + q] * b[(t % bB) * k * n + q * n + j];
          want += w[(t * m + i) * n + j] * s;
        }
    double got = op_energy({c.a, c.b, c.out}, R"(["sum", ["mul", ["matmul", "a", "b"], "c"]])", {a, b, w});
    EXPECT_NEAR(got, want, 1e-12) << shape_str(c.a) << " @ " << shape_str(c.b);
  }
}

TEST(Ops, EinsumImplicitExplicitAndTrace) {
  Tensor<double> a = random_tensor({3, 3}, 40), b = random_tensor({3, 2}, 41), w = random_tensor({3, 2}, 42);
  double want = 0, trace = 0;
  for (int i = 0; i < 3; ++i) {
    trace += a[i * 3 + i];
    for (int k = 0; k < 2; ++k) {
      double s = 0;
      for (int j = 0; j < 3; ++j) s += a[i * 3 + j] * b[j * 2 + k];
      want += w[i * 2 + k] * s;
    }
  }
  EXPECT_NEAR(op_energy({{3, 3}, {3, 2}, {3, 2}}, R"(["dot", ["einsum", "a", "b", {"spec": "ij,jk"}], "c"])", {a, b, w}),
              want, 1e-12);
  EXPECT_NEAR(op_energy({{3, 3}, {3, 2}, {3, 2}}, R"(["einsum", "a", "b", "c", {"spec": "ij, jk, ik -> "}])", {a, b, w}),
              want, 1e-12);
  EXPECT_NEAR(op_energy({{3, 3}}, R"(["einsum", "a", {"spec": "ii->"}])", {a}), trace, 1e-12);
  EXPECT_NEAR(op_energy({{3, 3}}, R"(["einsum", "a", {"spec": "ii"}])", {a}), trace, 1e-12);
}

TEST(Ops, LayoutTransposeReshape) {
  Tensor<double> a = random_tensor({2, 3, 4}, 43), w = random_tensor({4, 2, 3}, 44);
  double want = 0;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) want += a[(i * 3 + j) * 4 + k] * w[(k * 2 + i) * 3 + j];
  EXPECT_NEAR(op_energy({{2, 3, 4}, {4, 2, 3}}, R"(["dot", ["transpose", "a", {"perm": [2, 0, 1]}], "b"])", {a, w}), want,
              1e-12);
  // Default perm reverses: [4,3,2].
  Tensor<double> v = random_tensor({4, 3, 2}, 45);
  double rev = 0;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) rev += a[(i * 3 + j) * 4 + k] * v[(k * 3 + j) * 2 + i];
  EXPECT_NEAR(op_energy({{2, 3, 4}, {4, 3, 2}}, R"(["dot", ["transpose", "a"], "b"])", {a, v}), rev, 1e-12);
  // Reshape is row-major: element order is unchanged.
  Tensor<double> r = random_tensor({6, 4}, 46);
  double flat = 0;
  for (int i = 0; i < 24; ++i) flat += a[i] * r[i];
  EXPECT_NEAR(op_energy({{2, 3, 4}, {6, 4}}, R"(["dot", ["reshape", "a", {"shape": [-1, 4]}], "b"])", {a, r}), flat, 1e-12);
}

TEST(Ops, ApplyLagrangianInUserExpressions) {
  Tensor<double> a = random_tensor({5}, 47, -2, 2);
  double lse = 0;
  for (double v : a.data) lse += std::exp(3 * v);
  EXPECT_NEAR(op_energy({{5}}, R"(["apply", "a", {"lagrangian": {"softmax": {"beta": 3}}}])", {a}), std::log(lse) / 3, 1e-12);
}

}  // namespace
}  // namespace hamux
