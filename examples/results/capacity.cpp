// examples/results/capacity.cpp - classical Hopfield capacity: the one-step error probability
// against the load alpha = p / N, N = 1000, next to P_err = 1/2 erfc(1 / sqrt(2 alpha))
// (Amit, Gutfreund and Sompolinsky; Hertz, Krogh and Palmer, table 2.1).
//
// The model (capacity.json) has identity neurons and E = -1/2 v . W v, so dE/dxhat = x - W x
// and one Euler step with dt = 1 gives x1 = W x: the local field h. Starting each sample at a
// stored pattern xi, a bit flips in one (sign) update when sign(h_i) != xi_i.
// W is Hebbian, W = 1/N sum_mu xi^mu xi^mu^T, with zero diagonal.
#include <cmath>
#include <cstdio>
#include <random>

#include "hamux/hamux.h"

int main() {
  const int64_t N = 1000;
  const double alphas[] = {0.05, 0.105, 0.138, 0.185, 0.37};
  const int trials = 8;  // independent pattern sets per load
  hamux::Ham ham = hamux::Ham::load(HAMUX_RESULTS_DIR "/capacity.json");
  std::mt19937_64 rng(2024);
  std::printf("| alpha = p/N | p | bits tested | flipped | P_err measured | P_err = 1/2 erfc(1/sqrt(2 alpha)) |\n");
  std::printf("| --- | --- | --- | --- | --- | --- |\n");
  for (double alpha : alphas) {
    const int64_t p = std::llround(alpha * N);
    int64_t flipped = 0, tested = 0;
    for (int t = 0; t < trials; ++t) {
      hamux::Tensor<double> xi({p, N});
      for (double& v : xi.data) v = (rng() & 1) ? 1.0 : -1.0;
      hamux::Tensor<double> W({N, N});
      for (int64_t mu = 0; mu < p; ++mu) {
        const double* x = &xi.data[mu * N];
        for (int64_t i = 0; i < N; ++i) {
          for (int64_t j = 0; j < N; ++j) W.data[i * N + j] += x[i] * x[j] / N;
        }
      }
      for (int64_t i = 0; i < N; ++i) W.data[i * N + i] = 0.0;
      ham.set_param("W", W);
      hamux::States s = ham.zeros(p);
      s.set("v", xi);
      hamux::RunOptions o;
      o.steps = 1;
      o.dt = 1.0;
      hamux::run(ham, s, o);
      const hamux::Tensor<double> h = s.get("v");
      for (int64_t k = 0; k < p * N; ++k) flipped += (h.data[k] * xi.data[k] < 0);
      tested += p * N;
    }
    const double theory = 0.5 * std::erfc(1.0 / std::sqrt(2.0 * alpha));
    std::printf("| %.3f | %lld | %lld | %lld | %.3g | %.3g |\n", alpha, static_cast<long long>(p),
                static_cast<long long>(tested), static_cast<long long>(flipped),
                static_cast<double>(flipped) / tested, theory);
  }
  return 0;
}
