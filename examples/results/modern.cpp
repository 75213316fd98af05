// examples/results/modern.cpp - modern Hopfield network (Ramsauer et al. 2020, "Hopfield
// Networks is All You Need"): one-step retrieval with the log-sum-exp energy.
//
// The model: one identity neuron xi [d] and a hopfield synapse over N stored patterns X [d, N]
// with a softmax hidden layer of inverse temperature beta, so hamux's energy is
//   E_hamux = 1/2 xi.xi - 1/beta log sum_i exp(beta x_i . xi)
// and dE/dxhat = xi - X softmax(beta X^T xi): one Euler step with dt = 1 is the paper's update
// xi_new = X softmax(beta X^T xi). The paper's energy adds constants,
//   E = -lse(beta, X^T xi) + 1/2 xi.xi + 1/beta log N + 1/2 M^2,  M = max_i |x_i|,
// and is bounded by 0 <= E <= 2 M^2 for xi in the convex hull of the patterns (the paper's
// Lemma A1), which every xi_new is. Large beta: xi_new is the nearest pattern; small beta:
// xi_new is the mean of the patterns.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "hamux/hamux.h"

namespace {

std::string model_with_beta(double beta) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("hamux_modern_" + std::to_string(beta) + ".json")).string();
  std::ofstream(path) << R"({"hamux": "1", "name": "modern-hopfield", "dtype": "float64",
    "params": {"X": {"shape": [64, 32], "init": {"zeros": {}}}},
    "neurons": {"xi": {"shape": [64], "lagrangian": "identity"}},
    "synapses": {"memory": {"hopfield": {"Xi": "X", "lagrangian": {"softmax": {"beta": )"
                      << beta << R"(}}}}},
    "connections": [{"neurons": ["xi"], "synapse": "memory"}]})";
  return path;
}

double dist(const double* a, const double* b, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return std::sqrt(s);
}

}  // namespace

int main() {
  const int64_t d = 64, N = 32, Q = 32;  // dimension, patterns, queries (one per pattern)
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal;
  hamux::Tensor<double> X({d, N});  // column i is pattern x_i, |x_i| ~ 8
  for (double& v : X.data) v = normal(rng);
  double M = 0;
  std::vector<double> mean(d, 0.0);
  for (int64_t i = 0; i < N; ++i) {
    double n2 = 0;
    for (int64_t k = 0; k < d; ++k) n2 += X.data[k * N + i] * X.data[k * N + i], mean[k] += X.data[k * N + i] / N;
    M = std::max(M, std::sqrt(n2));
  }
  // Query q: pattern q plus noise of 0.5 per element (|noise| ~ 4, half a pattern's norm).
  hamux::Tensor<double> queries({Q, d});
  for (int64_t q = 0; q < Q; ++q)
    for (int64_t k = 0; k < d; ++k) queries.data[q * d + k] = X.data[k * N + q] + 0.5 * normal(rng);

  std::printf("M = max |x_i| = %.3f, 2 M^2 = %.2f; %lld patterns in %lld dimensions, %lld noisy queries\n\n",
              M, 2 * M * M, static_cast<long long>(N), static_cast<long long>(d), static_cast<long long>(Q));
  std::printf("| beta | retrieved own pattern | mean |xi_new - x_q| | mean |xi_new - mean| | E(xi_new) min | E(xi_new) max | 0 <= E <= 2M^2 |\n");
  std::printf("| --- | --- | --- | --- | --- | --- | --- |\n");
  for (double beta : {0.0001, 0.001, 0.01, 0.1, 1.0, 8.0}) {
    hamux::Ham ham = hamux::Ham::load(model_with_beta(beta));
    ham.set_param("X", X);
    hamux::States s = ham.zeros(Q);
    s.set("xi", queries);
    hamux::RunOptions o;
    o.steps = 1;
    o.dt = 1.0;
    hamux::run(ham, s, o);
    const hamux::Tensor<double> xn = s.get("xi");
    const std::vector<double> e = s.energy();
    int own = 0;
    double to_own = 0, to_mean = 0, emin = 1e300, emax = -1e300;
    for (int64_t q = 0; q < Q; ++q) {
      std::vector<double> xq(d);
      for (int64_t k = 0; k < d; ++k) xq[k] = X.data[k * N + q];
      const double dq = dist(&xn.data[q * d], xq.data(), d);
      own += dq < 1e-3 * M;
      to_own += dq / Q;
      to_mean += dist(&xn.data[q * d], mean.data(), d) / Q;
      const double paper = e[q] + std::log(static_cast<double>(N)) / beta + 0.5 * M * M;
      emin = std::min(emin, paper), emax = std::max(emax, paper);
    }
    std::printf("| %g | %d / %lld | %.4g | %.4g | %.4g | %.4g | %s |\n", beta, own,
                static_cast<long long>(Q), to_own, to_mean, emin, emax,
                emin >= 0 && emax <= 2 * M * M ? "yes" : "NO");
  }
  return 0;
}
