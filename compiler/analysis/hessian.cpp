// compiler/analysis/hessian.cpp - Hessian-vector products by VJP of the gradient; Lanczos.
#include "analysis/hessian.h"

#include <Eigen/Dense>
#include <cmath>

#include "autodiff/grad.h"
#include "frontend/random.h"
#include "passes/simplify.h"

namespace hamux::analysis {

HessianProduct::HessianProduct(const ir::NodePtr& f, const std::vector<ir::NodePtr>& wrt,
                               interp::ParamValues<double> params)
    : wrt_(wrt), f_(f), params_(std::move(params)) {
  const std::vector<ir::NodePtr> g = autodiff::grad(f, wrt);
  int next = 0;
  for (const ir::NodePtr& w : wrt) next = std::max(next, w->attrs.index + 1);
  // d/dx <grad f(x), v> = H(x) v: one VJP of the gradient per wrt input, with the
  // direction's inputs placed after all the wrt inputs.
  std::vector<ir::NodePtr> dirs;
  ir::NodePtr inner;
  for (size_t i = 0; i < wrt.size(); ++i) {
    dirs.push_back(ir::input(next + static_cast<int>(i), "v" + std::to_string(i), wrt[i]->shape, wrt[i]->dtype));
    ir::NodePtr term = ir::make(ir::Op::Einsum, {g[i], dirs.back()}, [&] {
      ir::Attrs a;
      std::string letters;
      for (size_t k = 0; k < wrt[i]->shape.size(); ++k) letters += static_cast<char>('a' + k);
      a.spec = letters + "," + letters + "->";
      return a;
    }());
    inner = inner ? ir::make(ir::Op::Add, {inner, term}) : term;
    dim_ += num_elements(wrt[i]->shape);
  }
  hv_ = passes::simplify(autodiff::grad(inner, wrt));
}

std::vector<hamux::Tensor<double>> HessianProduct::bind(const std::vector<std::vector<double>>& rows) const {
  std::vector<hamux::Tensor<double>> out;
  int64_t offset = 0;
  const int64_t batch = static_cast<int64_t>(rows.size());
  for (const ir::NodePtr& w : wrt_) {
    const int64_t n = num_elements(w->shape);
    Shape s = {batch};
    s.insert(s.end(), w->shape.begin(), w->shape.end());
    hamux::Tensor<double> t(s);
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t e = 0; e < n; ++e) t.data[b * n + e] = rows[b][offset + e];
    offset += n;
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<std::vector<double>> HessianProduct::apply(const std::vector<std::vector<double>>& points,
                                                       const std::vector<std::vector<double>>& directions) const {
  const int64_t batch = static_cast<int64_t>(points.size());
  int next = 0;
  for (const ir::NodePtr& w : wrt_) next = std::max(next, w->attrs.index + 1);
  std::vector<hamux::Tensor<double>> inputs(next + wrt_.size());
  std::vector<hamux::Tensor<double>> xs = bind(points), vs = bind(directions);
  for (size_t i = 0; i < wrt_.size(); ++i) {
    inputs[wrt_[i]->attrs.index] = std::move(xs[i]);
    inputs[next + i] = std::move(vs[i]);
  }
  // Unused input slots (no wrt input has that index) get an empty batch-shaped tensor.
  for (auto& t : inputs)
    if (t.shape.empty()) t = hamux::Tensor<double>(Shape{batch});
  std::vector<hamux::Tensor<double>> r = interp::evaluate<double>(hv_, inputs, params_, batch);
  std::vector<std::vector<double>> out(batch, std::vector<double>(dim_));
  int64_t offset = 0;
  for (size_t i = 0; i < wrt_.size(); ++i) {
    const int64_t n = num_elements(wrt_[i]->shape);
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t e = 0; e < n; ++e) out[b][offset + e] = r[i].data[b * n + e];
    offset += n;
  }
  return out;
}

std::vector<double> HessianProduct::value(const std::vector<std::vector<double>>& points) const {
  const int64_t batch = static_cast<int64_t>(points.size());
  int next = 0;
  for (const ir::NodePtr& w : wrt_) next = std::max(next, w->attrs.index + 1);
  std::vector<hamux::Tensor<double>> inputs(next);
  std::vector<hamux::Tensor<double>> xs = bind(points);
  for (size_t i = 0; i < wrt_.size(); ++i) inputs[wrt_[i]->attrs.index] = std::move(xs[i]);
  for (auto& t : inputs)
    if (t.shape.empty()) t = hamux::Tensor<double>(Shape{batch});
  return interp::evaluate<double>({f_}, inputs, params_, batch)[0].data;
}

namespace {

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

}  // namespace

std::vector<Extremes> lanczos_extremes(const HessianProduct& h, const std::vector<std::vector<double>>& points,
                                       int steps, uint64_t seed) {
  const int64_t n = h.dimension();
  const size_t batch = points.size();
  const int k_max = static_cast<int>(std::min<int64_t>(steps, n));
  frontend::Rng rng(seed, "lanczos");
  // Per point: the Krylov basis, the tridiagonal coefficients, whether it broke down.
  std::vector<std::vector<std::vector<double>>> q(batch);
  std::vector<std::vector<double>> alpha(batch), beta(batch);
  std::vector<bool> done(batch, false);
  std::vector<std::vector<double>> cur(batch, std::vector<double>(n));
  for (size_t b = 0; b < batch; ++b) {
    for (double& v : cur[b]) v = rng.normal();
    const double norm = std::sqrt(dot(cur[b], cur[b]));
    for (double& v : cur[b]) v /= norm;
  }
  for (int k = 0; k < k_max; ++k) {
    std::vector<std::vector<double>> w = h.apply(points, cur);
    bool any = false;
    for (size_t b = 0; b < batch; ++b) {
      if (done[b]) continue;
      q[b].push_back(cur[b]);
      alpha[b].push_back(dot(w[b], cur[b]));
      // Full reorthogonalisation (twice is enough) keeps the basis orthogonal in float64.
      for (int pass = 0; pass < 2; ++pass)
        for (const std::vector<double>& qi : q[b]) {
          const double c = dot(w[b], qi);
          for (int64_t e = 0; e < n; ++e) w[b][e] -= c * qi[e];
        }
      const double norm = std::sqrt(dot(w[b], w[b]));
      double scale = 0;
      for (double a : alpha[b]) scale = std::max(scale, std::abs(a));
      if (k + 1 == k_max || !(norm > 1e-10 * (1 + scale))) {
        done[b] = true;
        continue;
      }
      beta[b].push_back(norm);
      for (int64_t e = 0; e < n; ++e) cur[b][e] = w[b][e] / norm;
      any = true;
    }
    if (!any) break;
  }
  std::vector<Extremes> out(batch);
  for (size_t b = 0; b < batch; ++b) {
    const int m = static_cast<int>(alpha[b].size());
    Eigen::MatrixXd t = Eigen::MatrixXd::Zero(m, m);
    for (int i = 0; i < m; ++i) {
      t(i, i) = alpha[b][i];
      if (i + 1 < m) t(i, i + 1) = t(i + 1, i) = beta[b][i];
    }
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(t);
    out[b].smallest = es.eigenvalues()(0);
    out[b].largest = es.eigenvalues()(m - 1);
    std::vector<double> dir(n, 0.0);
    for (int i = 0; i < m; ++i)
      for (int64_t e = 0; e < n; ++e) dir[e] += es.eigenvectors()(i, 0) * q[b][i][e];
    const double norm = std::sqrt(dot(dir, dir));
    for (double& v : dir) v /= norm;
    out[b].smallest_direction = std::move(dir);
  }
  return out;
}

}  // namespace hamux::analysis
