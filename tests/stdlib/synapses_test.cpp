// tests/stdlib/synapses_test.cpp - every builtin synapse: its energy against a closed form
// (naive loops written here), its gradients against float64 finite differences, and the
// hamux identities: -dE/dxhat2 of conv2d is the forward convolution and -dE/dxhat1 the
// transposed convolution, both computed here with naive loops.
#include "autodiff/derive.h"
#include "passes/simplify.h"
#include "stdlib_testing.h"

namespace hamux::stdlib_test {
namespace {

// A float64 model: params, neurons and one synapse "s" used by one connection.
struct Fixture {
  Model m;
  interp::ParamValues<double> params;
  std::vector<T> at;  // random activations, one per connected neuron
  const ConnectionDef& conn() const { return m.connections.at(0); }
  const T& p(const std::string& name) const { return params.at(name); }
  double energy() const { return eval_scalar(conn().energy, at, params); }
  std::vector<Vec> gradients() const { return symbolic_gradients(conn().energy, energy_inputs(conn(), m), at, params); }
  void expect_gradients_match_fd() const {
    stdlib_test::expect_gradients_match_fd(conn().energy, energy_inputs(conn(), m), at, params);
  }
};

std::string shape_json(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// `neurons`: name and shape of each connected layer (each identity; the synapse sees its
// activations directly); `params`: name and shape (normal values).
Fixture make(const std::vector<std::pair<std::string, Shape>>& params, const std::vector<std::pair<std::string, Shape>>& neurons,
             const std::string& synapse, unsigned seed = 1) {
  std::string ps, ns, names;
  for (auto& [n, s] : params)
    ps += (ps.empty() ? "" : ", ") + ("\"" + n + "\": {\"shape\": " + shape_json(s) + ", \"init\": {\"normal\": {\"std\": 0.5}}}");
  for (auto& [n, s] : neurons) {
    if (ns.find("\"" + n + "\"") == std::string::npos)
      ns += (ns.empty() ? "" : ", ") + ("\"" + n + "\": {\"shape\": " + shape_json(s) + ", \"lagrangian\": \"identity\"}");
    names += (names.empty() ? "\"" : ", \"") + n + "\"";
  }
  std::string text = R"({"hamux": "1", "dtype": "float64", "seed": 5, "params": {)" + ps + R"(}, "neurons": {)" + ns +
                     R"(}, "synapses": {"s": )" + synapse + R"(}, "connections": [{"neurons": [)" + names +
                     R"(], "synapse": "s"}]})";
  Fixture f{parse(text), {}, {}};
  f.params = interp::param_values<double>(f.m);
  for (size_t i = 0; i < neurons.size(); ++i) f.at.push_back(random_tensor(neurons[i].second, seed + 17 * i));
  return f;
}

Vec negated(Vec v) {
  for (double& x : v) x = -x;
  return v;
}

// ---- linear, bias, linear_bias, dense ----

TEST(Synapses, LinearIsMinusTheBilinearForm) {
  // A tensor layer is flattened: W is [size1, size2].
  Fixture f = make({{"W", {5, 6}}}, {{"a", {5}}, {"b", {2, 3}}}, R"({"linear": {"W": "W"}})");
  double want = 0;
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 6; ++j) want -= f.p("W")[i * 6 + j] * f.at[0][i] * f.at[1][j];
  EXPECT_NEAR(f.energy(), want, 1e-13);
  f.expect_gradients_match_fd();
}

TEST(Synapses, LinearSelfConnectionCountsBothSides) {
  // ["v", "v"]: E = -v.W v, so the update of v gets dE/dv = -(W + W^T) v.
  Fixture f = make({{"W", {4, 4}}}, {{"v", {4}}, {"v", {4}}}, R"({"linear": {"W": "W"}})");
  const T& w = f.p("W");
  T v = random_tensor({4}, 3), x = random_tensor({4}, 4);
  double want = 0;
  Vec want_update(4);
  for (int i = 0; i < 4; ++i) {
    want_update[i] = x[i];
    for (int j = 0; j < 4; ++j) {
      want -= w[i * 4 + j] * v[i] * v[j];
      want_update[i] -= (w[i * 4 + j] + w[j * 4 + i]) * v[j];
    }
  }
  EXPECT_NEAR(eval_scalar(f.conn().energy, {v, v}, f.params), want, 1e-13);
  Derivation d = derive(f.m);
  EXPECT_LT(relative_error(eval1<double>({d.update[0]}, {x, v}, f.params)[0].data, want_update), 1e-14);
}

TEST(Synapses, BiasAndLinearBias) {
  Fixture b = make({{"b", {2, 3}}}, {{"v", {2, 3}}}, R"({"bias": {"b": "b"}})");
  double want = 0;
  for (int i = 0; i < 6; ++i) want -= b.p("b")[i] * b.at[0][i];
  EXPECT_NEAR(b.energy(), want, 1e-14);
  b.expect_gradients_match_fd();
  // -dE/dxhat = b exactly.
  EXPECT_LT(relative_error(negated(b.gradients()[0]), b.p("b").data), 1e-15);

  Fixture lb = make({{"W", {4, 3}}, {"c", {3}}}, {{"a", {4}}, {"h", {3}}}, R"({"linear_bias": {"W": "W", "b": "c"}})");
  double want2 = 0;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j) want2 -= lb.p("W")[i * 3 + j] * lb.at[0][i] * lb.at[1][j];
  for (int j = 0; j < 3; ++j) want2 -= lb.p("c")[j] * lb.at[1][j];
  EXPECT_NEAR(lb.energy(), want2, 1e-13);
  lb.expect_gradients_match_fd();
}

// Naive n-ary contraction: -sum over every index of W of W[i1..ik] x1[i1] ... xk[ik].
double dense_energy(const T& w, const std::vector<T>& xs) {
  double e = 0;
  for (int64_t flat = 0; flat < w.size(); ++flat) {
    double term = w[flat];
    int64_t rest = flat;
    for (int64_t k = static_cast<int64_t>(xs.size()) - 1; k >= 0; --k) {
      term *= xs[k][rest % w.shape[k]];
      rest /= w.shape[k];
    }
    e -= term;
  }
  return e;
}

TEST(Synapses, DenseForTwoThreeAndFourLayers) {
  const std::vector<std::pair<std::string, Shape>> layers = {{"a", {3}}, {"b", {2, 2}}, {"c", {5}}, {"d", {2}}};
  for (size_t k = 2; k <= 4; ++k) {
    SCOPED_TRACE(std::to_string(k) + " layers");
    std::vector<std::pair<std::string, Shape>> used(layers.begin(), layers.begin() + k);
    Shape wshape;
    for (auto& [n, s] : used) wshape.push_back(num_elements(s));
    Fixture f = make({{"W", wshape}}, used, R"({"dense": {"W": "W"}})", static_cast<unsigned>(k));
    EXPECT_NEAR(f.energy(), dense_energy(f.p("W"), f.at), 1e-12);
    f.expect_gradients_match_fd();
  }
}

// ---- hopfield ----

// h = xhat @ Xi for xhat [D] or [T, D], Xi [D, M]; rows of h.
std::vector<Vec> hidden(const T& x, const T& xi) {
  const int64_t d = xi.shape[0], m = xi.shape[1], rows = x.size() / d;
  std::vector<Vec> h(rows, Vec(m, 0.0));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < m; ++j)
      for (int64_t i = 0; i < d; ++i) h[r][j] += x[r * d + i] * xi[i * m + j];
  return h;
}

TEST(Synapses, HopfieldSoftmaxIsMinusScaledLogSumExp) {
  for (double beta : {1.0, 2.5}) {
    for (Shape xs : {Shape{6}, Shape{3, 6}}) {
      SCOPED_TRACE("beta " + std::to_string(beta) + ", xhat " + shape_str(xs));
      Fixture f = make({{"Xi", {6, 4}}}, {{"v", xs}},
                       R"({"hopfield": {"Xi": "Xi", "lagrangian": {"softmax": {"beta": )" + std::to_string(beta) + "}}}}");
      double want = 0;
      for (const Vec& row : hidden(f.at[0], f.p("Xi"))) {
        double mx = -INFINITY, s = 0;
        for (double h : row) mx = std::max(mx, beta * h);
        for (double h : row) s += std::exp(beta * h - mx);
        want -= (mx + std::log(s)) / beta;
      }
      EXPECT_NEAR(f.energy(), want, 1e-13);
      f.expect_gradients_match_fd();
    }
  }
  // The default hidden Lagrangian is softmax with beta 1.
  Fixture d = make({{"Xi", {6, 4}}}, {{"v", {6}}}, R"({"hopfield": {"Xi": "Xi"}})");
  Fixture e = make({{"Xi", {6, 4}}}, {{"v", {6}}}, R"({"hopfield": {"Xi": "Xi", "lagrangian": {"softmax": {"beta": 1}}}})");
  // Equal up to rounding: the two spellings may differ in the order of operations after
  // simplification, and a build may contract a*b+c into an FMA in one and not the other.
  EXPECT_NEAR(d.energy(), e.energy(), 1e-14 * std::fabs(e.energy()));
}

TEST(Synapses, HopfieldReluAndRepu) {
  for (double n : {2.0, 3.0, 5.0}) {
    SCOPED_TRACE("n = " + std::to_string(n));
    std::string lag = n == 2 ? R"("relu")" : R"({"repu": {"n": )" + std::to_string(n) + "}}";
    Fixture f = make({{"Xi", {8, 5}}}, {{"v", {8}}}, R"({"hopfield": {"Xi": "Xi", "lagrangian": )" + lag + "}}");
    double want = 0;
    const std::vector<Vec> h = hidden(f.at[0], f.p("Xi"));
    for (double v : h[0]) want -= std::pow(std::max(v, 0.0), n) / n;
    EXPECT_NEAR(f.energy(), want, 1e-13);
    f.expect_gradients_match_fd();
  }
}

TEST(Synapses, HopfieldWithACustomHiddenLagrangian) {
  Fixture f = make({{"Xi", {4, 3}}}, {{"v", {4}}},
                   R"({"hopfield": {"Xi": "Xi", "lagrangian": {"expr": {"inputs": ["h"], "value": ["sum", ["logcosh", "h"]]}}}})");
  double want = 0;
  const std::vector<Vec> h = hidden(f.at[0], f.p("Xi"));
  for (double v : h[0]) want -= std::log(std::cosh(v));
  EXPECT_NEAR(f.energy(), want, 1e-14);
  f.expect_gradients_match_fd();
}

// ---- conv2d, with and without pooling ----

struct Geometry {
  int64_t oh, ow, pad_top, pad_left;
};

// TensorFlow's SAME / VALID rules, written out here independently of the IR.
Geometry geometry(int64_t h, int64_t w, int64_t kh, int64_t kw, int64_t sh, int64_t sw, const std::string& padding) {
  if (padding == "VALID") return {(h - kh) / sh + 1, (w - kw) / sw + 1, 0, 0};
  int64_t oh = (h + sh - 1) / sh, ow = (w + sw - 1) / sw;
  int64_t ph = std::max<int64_t>((oh - 1) * sh + kh - h, 0), pw = std::max<int64_t>((ow - 1) * sw + kw - w, 0);
  return {oh, ow, ph / 2, pw / 2};
}

// Naive cross-correlation: x [H,W,C], k [KH,KW,C,O] -> [OH,OW,O].
T conv_forward(const T& x, const T& k, int64_t sh, int64_t sw, const std::string& padding) {
  const int64_t h = x.shape[0], w = x.shape[1], c = x.shape[2], kh = k.shape[0], kw = k.shape[1], o = k.shape[3];
  Geometry g = geometry(h, w, kh, kw, sh, sw, padding);
  T out({g.oh, g.ow, o});
  for (int64_t i = 0; i < g.oh; ++i)
    for (int64_t j = 0; j < g.ow; ++j)
      for (int64_t a = 0; a < kh; ++a)
        for (int64_t b = 0; b < kw; ++b) {
          int64_t y = i * sh + a - g.pad_top, z = j * sw + b - g.pad_left;
          if (y < 0 || y >= h || z < 0 || z >= w) continue;
          for (int64_t ci = 0; ci < c; ++ci)
            for (int64_t oc = 0; oc < o; ++oc)
              out[(i * g.ow + j) * o + oc] += x[(y * w + z) * c + ci] * k[((a * kw + b) * c + ci) * o + oc];
        }
  return out;
}

// Naive transposed convolution: scatters each output-position value back through the kernel.
T conv_transpose(const T& g, const T& k, const Shape& xshape, int64_t sh, int64_t sw, const std::string& padding) {
  const int64_t h = xshape[0], w = xshape[1], c = xshape[2], kh = k.shape[0], kw = k.shape[1], o = k.shape[3];
  Geometry geo = geometry(h, w, kh, kw, sh, sw, padding);
  T out(xshape);
  for (int64_t i = 0; i < geo.oh; ++i)
    for (int64_t j = 0; j < geo.ow; ++j)
      for (int64_t a = 0; a < kh; ++a)
        for (int64_t b = 0; b < kw; ++b) {
          int64_t y = i * sh + a - geo.pad_top, z = j * sw + b - geo.pad_left;
          if (y < 0 || y >= h || z < 0 || z >= w) continue;
          for (int64_t ci = 0; ci < c; ++ci)
            for (int64_t oc = 0; oc < o; ++oc)
              out[(y * w + z) * c + ci] += g[(i * geo.ow + j) * o + oc] * k[((a * kw + b) * c + ci) * o + oc];
        }
  return out;
}

struct ConvCase {
  Shape x, k;
  int64_t sh, sw;
  std::string padding;
};

const std::vector<ConvCase> kConvCases = {
    {{6, 6, 1}, {3, 3, 1, 2}, 1, 1, "VALID"}, {{6, 7, 2}, {3, 3, 2, 3}, 1, 1, "SAME"},
    {{7, 7, 2}, {3, 2, 2, 2}, 2, 2, "SAME"},  {{9, 8, 3}, {3, 3, 3, 2}, 2, 1, "VALID"},
    {{5, 6, 2}, {2, 2, 2, 4}, 2, 3, "SAME"},
};

std::string conv_args(const ConvCase& c) {
  return R"("W": "K", "strides": [)" + std::to_string(c.sh) + ", " + std::to_string(c.sw) + R"(], "padding": ")" +
         c.padding + "\"";
}

TEST(Synapses, Conv2dEnergyAndItsTwoConvolutions) {
  for (const ConvCase& c : kConvCases) {
    SCOPED_TRACE(shape_str(c.x) + " * " + shape_str(c.k) + " " + c.padding + " strides " + std::to_string(c.sh) + "," +
                 std::to_string(c.sw));
    Geometry g = geometry(c.x[0], c.x[1], c.k[0], c.k[1], c.sh, c.sw, c.padding);
    Shape out{g.oh, g.ow, c.k[3]};
    Fixture f = make({{"K", c.k}}, {{"img", c.x}, {"feat", out}}, "{\"conv2d\": {" + conv_args(c) + "}}");
    T fwd = conv_forward(f.at[0], f.p("K"), c.sh, c.sw, c.padding);
    double want = 0;
    for (int64_t i = 0; i < fwd.size(); ++i) want -= f.at[1][i] * fwd[i];
    EXPECT_NEAR(f.energy(), want, 1e-13);
    std::vector<Vec> grads = f.gradients();
    // -dE/dxhat2: the forward convolution; -dE/dxhat1: the transposed convolution.
    EXPECT_LT(relative_error(negated(grads[1]), fwd.data), 1e-14);
    T tr = conv_transpose(f.at[1], f.p("K"), c.x, c.sh, c.sw, c.padding);
    EXPECT_LT(relative_error(negated(grads[0]), tr.data), 1e-14);
    f.expect_gradients_match_fd();
  }
}

// Naive pooling over non-overlapping windows of [H,W,C].
T pool(const T& x, int64_t ph, int64_t pw, bool max) {
  const int64_t h = x.shape[0] / ph, w = x.shape[1] / pw, c = x.shape[2];
  T out({h, w, c});
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j)
      for (int64_t ci = 0; ci < c; ++ci) {
        double acc = max ? -INFINITY : 0.0;
        for (int64_t a = 0; a < ph; ++a)
          for (int64_t b = 0; b < pw; ++b) {
            double v = x[((i * ph + a) * x.shape[1] + (j * pw + b)) * c + ci];
            acc = max ? std::max(acc, v) : acc + v / static_cast<double>(ph * pw);
          }
        out[(i * w + j) * c + ci] = acc;
      }
  return out;
}

// The cotangent of the pooled map sent back to the conv output: avg spreads each value
// evenly over its window, max gives it all to the window's maximum.
T unpool(const T& g, const T& conv, int64_t ph, int64_t pw, bool max) {
  T out(conv.shape);
  const int64_t w = conv.shape[1], c = conv.shape[2];
  for (int64_t i = 0; i < g.shape[0]; ++i)
    for (int64_t j = 0; j < g.shape[1]; ++j)
      for (int64_t ci = 0; ci < c; ++ci) {
        const double gv = g[(i * g.shape[1] + j) * c + ci];
        int64_t best = -1;
        for (int64_t a = 0; a < ph; ++a)
          for (int64_t b = 0; b < pw; ++b) {
            int64_t e = ((i * ph + a) * w + (j * pw + b)) * c + ci;
            if (!max) out[e] = gv / static_cast<double>(ph * pw);
            else if (best < 0 || conv[e] > conv[best]) best = e;
          }
        if (max) out[best] = gv;
      }
  return out;
}

TEST(Synapses, Conv2dWithAverageAndMaxPooling) {
  struct PoolCase {
    ConvCase conv;
    int64_t ph, pw;
  };
  const std::vector<PoolCase> cases = {
      {{{6, 6, 1}, {3, 3, 1, 2}, 1, 1, "SAME"}, 2, 2},
      {{{8, 7, 2}, {3, 2, 2, 3}, 1, 1, "VALID"}, 3, 2},
      {{{9, 9, 2}, {3, 3, 2, 2}, 2, 2, "VALID"}, 2, 4},
      {{{4, 6, 3}, {1, 1, 3, 2}, 1, 1, "SAME"}, 1, 3},
  };
  for (const PoolCase& pc : cases) {
    for (bool max : {false, true}) {
      const ConvCase& c = pc.conv;
      SCOPED_TRACE(std::string(max ? "max" : "avg") + " pool " + std::to_string(pc.ph) + "x" + std::to_string(pc.pw) +
                   " of " + shape_str(c.x) + " * " + shape_str(c.k) + " " + c.padding);
      Geometry g = geometry(c.x[0], c.x[1], c.k[0], c.k[1], c.sh, c.sw, c.padding);
      Shape pooled{g.oh / pc.ph, g.ow / pc.pw, c.k[3]};
      std::string syn = std::string("{\"") + (max ? "conv2d_maxpool" : "conv2d_avgpool") + "\": {" + conv_args(c) +
                        ", \"pool\": [" + std::to_string(pc.ph) + ", " + std::to_string(pc.pw) + "]}}";
      Fixture f = make({{"K", c.k}}, {{"img", c.x}, {"feat", pooled}}, syn);
      T conv = conv_forward(f.at[0], f.p("K"), c.sh, c.sw, c.padding);
      T p = pool(conv, pc.ph, pc.pw, max);
      double want = 0;
      for (int64_t i = 0; i < p.size(); ++i) want -= f.at[1][i] * p[i];
      EXPECT_NEAR(f.energy(), want, 1e-13);
      std::vector<Vec> grads = f.gradients();
      EXPECT_LT(relative_error(negated(grads[1]), p.data), 1e-14);
      T back = conv_transpose(unpool(f.at[1], conv, pc.ph, pc.pw, max), f.p("K"), c.x, c.sh, c.sw, c.padding);
      EXPECT_LT(relative_error(negated(grads[0]), back.data), 1e-13);
      f.expect_gradients_match_fd();
    }
  }
}

TEST(Synapses, PoolingAndEyeOpsInUserExpressions) {
  // The ops under the pooling synapses and attention's mask are ordinary format ops.
  for (bool max : {false, true}) {
    std::string op = max ? "max_pool2d" : "avg_pool2d";
    Fixture f = make({}, {{"x", {4, 6, 2}}, {"y", {2, 2, 2}}},
                     R"({"expr": {"inputs": ["x", "y"], "value": ["dot", "y", [")" + op + R"(", "x", {"size": [2, 3]}]]}})");
    T p = pool(f.at[0], 2, 3, max);
    double want = 0;
    for (int64_t i = 0; i < p.size(); ++i) want += f.at[1][i] * p[i];
    EXPECT_NEAR(f.energy(), want, 1e-14) << op;
    f.expect_gradients_match_fd();
  }
  // sum(eye(n) * M) is the trace of M; the size comes from axis 1 of x.
  Fixture e = make({}, {{"x", {2, 3}}, {"m", {3, 3}}},
                   R"({"expr": {"inputs": ["x", "m"], "value": ["sum", ["mul", ["eye", "x", {"axis": 1}], "m"]]}})");
  EXPECT_NEAR(e.energy(), e.at[1][0] + e.at[1][4] + e.at[1][8], 1e-15);
}

TEST(Synapses, PoolingDefaultsToTwoByTwo) {
  Fixture a = make({{"K", {3, 3, 1, 2}}}, {{"img", {6, 6, 1}}, {"feat", {2, 2, 2}}}, R"({"conv2d_avgpool": {"W": "K"}})");
  Fixture b = make({{"K", {3, 3, 1, 2}}}, {{"img", {6, 6, 1}}, {"feat", {2, 2, 2}}},
                   R"({"conv2d_avgpool": {"W": "K", "strides": [1, 1], "padding": "VALID", "pool": [2, 2]}})");
  EXPECT_EQ(a.energy(), b.energy());
  EXPECT_EQ(a.m.synapses[0].desc, "conv2d_avgpool(W=K, strides=[1,1], padding=VALID, pool=[2,2])");
}

// ---- attention ----

// Naive Energy Transformer attention energy for tokens g [T,D], Wq/Wk [H,Y,D].
double attention_energy(const T& g, const T& wq, const T& wk, double beta, bool exclude_self) {
  const int64_t t = g.shape[0], d = g.shape[1], h = wq.shape[0], y = wq.shape[1];
  auto project = [&](const T& w) {
    T out({t, h, y});
    for (int64_t ti = 0; ti < t; ++ti)
      for (int64_t hi = 0; hi < h; ++hi)
        for (int64_t yi = 0; yi < y; ++yi)
          for (int64_t di = 0; di < d; ++di) out[(ti * h + hi) * y + yi] += w[(hi * y + yi) * d + di] * g[ti * d + di];
    return out;
  };
  T q = project(wq), k = project(wk);
  double e = 0;
  for (int64_t hi = 0; hi < h; ++hi)
    for (int64_t qi = 0; qi < t; ++qi) {
      Vec logits;
      for (int64_t ki = 0; ki < t; ++ki) {
        if (exclude_self && ki == qi) continue;
        double s = 0;
        for (int64_t yi = 0; yi < y; ++yi) s += q[(qi * h + hi) * y + yi] * k[(ki * h + hi) * y + yi];
        logits.push_back(beta * s);
      }
      double mx = *std::max_element(logits.begin(), logits.end()), z = 0;
      for (double l : logits) z += std::exp(l - mx);
      e -= (mx + std::log(z)) / beta;
    }
  return e;
}

TEST(Synapses, AttentionAgainstANaiveLoop) {
  for (bool exclude : {false, true}) {
    for (double beta : {0.0, 0.7}) {  // 0: the default 1/sqrt(Y)
      SCOPED_TRACE(std::string("exclude_self ") + (exclude ? "true" : "false") + ", beta " + std::to_string(beta));
      std::string args = R"("Wq": "Wq", "Wk": "Wk")";
      if (beta > 0) args += R"(, "beta": )" + std::to_string(beta);
      if (exclude) args += R"(, "exclude_self": true)";
      Fixture f = make({{"Wq", {2, 3, 4}}, {"Wk", {2, 3, 4}}}, {{"g", {5, 4}}}, "{\"attention\": {" + args + "}}");
      double b = beta > 0 ? beta : 1 / std::sqrt(3.0);
      EXPECT_NEAR(f.energy(), attention_energy(f.at[0], f.p("Wq"), f.p("Wk"), b, exclude), 1e-13);
      f.expect_gradients_match_fd();
    }
  }
}

TEST(Synapses, AttentionExcludeSelfStaysFiniteInFloat32) {
  // Large scores: the -1e30 diagonal logit must vanish without overflowing anything.
  std::string text = R"({"hamux": "1", "seed": 2,
    "params": {"Wq": {"shape": [2, 3, 4], "init": {"normal": {"std": 3}}}, "Wk": {"shape": [2, 3, 4], "init": {"normal": {"std": 3}}}},
    "neurons": {"g": {"shape": [4, 4], "lagrangian": "identity"}},
    "synapses": {"s": {"attention": {"Wq": "Wq", "Wk": "Wk", "beta": 4, "exclude_self": true}}},
    "connections": [{"neurons": ["g"], "synapse": "s"}]})";
  Model m = parse(text);
  interp::ParamValues<float> p32 = interp::param_values<float>(m);
  interp::ParamValues<double> p64 = interp::param_values<double>(m);
  T g = random_tensor({4, 4}, 9, -10.0, 10.0);
  NodePtr e = m.connections[0].energy;
  std::vector<NodePtr> outs = {e, autodiff::grad(e, energy_inputs(m.connections[0], m))[0]};
  std::vector<Tensor<float>> r = eval1<float>(outs, {g.cast<float>()}, p32);
  double want = attention_energy(g.cast<float>().cast<double>(), p64.at("Wq"), p64.at("Wk"), 4, true);
  ASSERT_TRUE(std::isfinite(r[0][0]));
  EXPECT_NEAR(r[0][0], want, 1e-5 * std::abs(want));
  for (float v : r[1].data) ASSERT_TRUE(std::isfinite(v));
}

TEST(Synapses, AttentionWithoutExcludeSelfSimplifiesToThePlainGraph) {
  // exclude_self false multiplies the mask by 0; the simplifier removes it, so no identity
  // matrix (an "i->ii" einsum) survives in the derived graphs.
  Fixture f = make({{"Wq", {2, 3, 4}}, {"Wk", {2, 3, 4}}}, {{"g", {5, 4}}}, R"({"attention": {"Wq": "Wq", "Wk": "Wk"}})");
  std::vector<NodePtr> wrt = energy_inputs(f.conn(), f.m);
  std::vector<NodePtr> all = passes::simplify({f.conn().energy, autodiff::grad(f.conn().energy, wrt)[0]});
  for (const ir::Node* n : ir::topological_order(all)) EXPECT_FALSE(n->op == ir::Op::Einsum && n->attrs.spec == "i->ii");
  Fixture g = make({{"Wq", {2, 3, 4}}, {"Wk", {2, 3, 4}}}, {{"g", {5, 4}}},
                   R"({"attention": {"Wq": "Wq", "Wk": "Wk", "exclude_self": true}})");
  bool has_eye = false;
  for (const ir::Node* n : ir::topological_order({g.conn().energy})) has_eye |= n->op == ir::Op::Einsum && n->attrs.spec == "i->ii";
  EXPECT_TRUE(has_eye);
}

}  // namespace
}  // namespace hamux::stdlib_test
