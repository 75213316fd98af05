// bench/eigen_reference.cpp - the hand-written Eigen steps of W1-W5.
#include "eigen_reference.h"

#include <Eigen/Core>
#include <cmath>
#include <stdexcept>

namespace hamux::bench {
namespace {

using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Map = Eigen::Map<Mat>;
using CMap = Eigen::Map<const Mat>;

// A param as a row-major matrix of `rows` rows (trailing axes flattened).
Mat param(const Workload& w, const char* name, int64_t rows) {
  const Tensor<float>& t = w.params.at(name);
  return CMap(t.data.data(), rows, t.size() / rows);
}

int neuron(const Workload& w, const char* name) {
  int i = w.model.neuron_index(name);
  if (i < 0) throw std::runtime_error(std::string("eigen reference: no neuron ") + name);
  return i;
}

// Rows of `m` replaced by softmax(beta * row).
void softmax_rows(Mat& m, float beta = 1.0f) {
  for (int64_t r = 0; r < m.rows(); ++r) {
    auto row = m.row(r).array();
    row = (beta * (row - row.maxCoeff())).exp();
    row /= row.sum();
  }
}

// x <- x - rate * (x - pull) = (1 - rate) x + rate * pull.
template <class X, class P>
void euler(X&& x, const P& pull, float rate) {
  x.array() = (1.0f - rate) * x.array() + rate * pull.array();
}

// W1: xhat = tanh(4 x); E = -1/2 xhat.W xhat, so dE/dxhat = -(W + W^T)/2 xhat. W is
// symmetrised once; one GEMM per step for the whole slice.
class Hopfield final : public EigenStep {
 public:
  explicit Hopfield(const Workload& w) : tau_(w.model.neurons[0].tau) {
    Mat W = param(w, "W", 1024);
    wsym_ = 0.5f * (W + W.transpose());
  }
  void run(const std::vector<float*>& x, const std::vector<float*>& xhat, int64_t b0, int64_t b1, float dt,
           int64_t k) const override {
    const int64_t n = wsym_.rows(), nb = b1 - b0;
    Map X(x[0] + b0 * n, nb, n), G(xhat[0] + b0 * n, nb, n);
    Mat H(nb, n);
    const float rate = dt / tau_;
    for (int64_t s = 0; s < k; ++s) {
      G.array() = (4.0f * X.array()).tanh();
      H.noalias() = G * wsym_;  // rows of G times symmetric W
      euler(X, H, rate);
    }
    G.array() = (4.0f * X.array()).tanh();
  }

 private:
  Mat wsym_;
  float tau_;
};

// W2: xhat = x / sqrt(|x|^2 + 1e-5); E = -logsumexp(xhat Xi), so
// dE/dxhat = -softmax(xhat Xi) Xi^T. Two GEMMs per step.
class DenseAM final : public EigenStep {
 public:
  explicit DenseAM(const Workload& w) : xi_(param(w, "Xi", 784)), tau_(w.model.neurons[0].tau) {}
  void run(const std::vector<float*>& x, const std::vector<float*>& xhat, int64_t b0, int64_t b1, float dt,
           int64_t k) const override {
    const int64_t n = xi_.rows(), m = xi_.cols(), nb = b1 - b0;
    Map X(x[0] + b0 * n, nb, n), G(xhat[0] + b0 * n, nb, n);
    Mat Z(nb, m), H(nb, n);
    const float rate = dt / tau_;
    auto activate = [&] {
      Eigen::VectorXf inv = (X.rowwise().squaredNorm().array() + 1e-5f).rsqrt();
      G = inv.asDiagonal() * X;
    };
    for (int64_t s = 0; s < k; ++s) {
      activate();
      Z.noalias() = G * xi_;
      softmax_rows(Z);
      H.noalias() = Z * xi_.transpose();
      euler(X, H, rate);
    }
    activate();
  }

 private:
  Mat xi_;
  float tau_;
};

// W3: input (identity, 7), labels (softmax, 8), hidden (softmax, 9); linear synapses
// E = -g_in W1 g_h - g_l W2 g_h.
class Readme final : public EigenStep {
 public:
  explicit Readme(const Workload& w)
      : w1_(param(w, "W1", 7)), w2_(param(w, "W2", 8)), in_(neuron(w, "input")), lab_(neuron(w, "labels")),
        hid_(neuron(w, "hidden")) {
    for (const NeuronDef& n : w.model.neurons) tau_.push_back(n.tau);
  }
  void run(const std::vector<float*>& x, const std::vector<float*>& xhat, int64_t b0, int64_t b1, float dt,
           int64_t k) const override {
    const int64_t nb = b1 - b0;
    Map Xi(x[in_] + b0 * 7, nb, 7), Xl(x[lab_] + b0 * 8, nb, 8), Xh(x[hid_] + b0 * 9, nb, 9);
    Map Gi(xhat[in_] + b0 * 7, nb, 7), Gl(xhat[lab_] + b0 * 8, nb, 8), Gh(xhat[hid_] + b0 * 9, nb, 9);
    Mat Pi(nb, 7), Pl(nb, 8), Ph(nb, 9);
    auto activate = [&] {
      Gi = Xi;
      Gl = Xl;
      softmax_rows(Pl = Xl);
      Gl = Pl;
      softmax_rows(Ph = Xh);
      Gh = Ph;
    };
    for (int64_t s = 0; s < k; ++s) {
      activate();
      Pi.noalias() = Gh * w1_.transpose();
      Pl.noalias() = Gh * w2_.transpose();
      Ph.noalias() = Gi * w1_;
      Ph.noalias() += Gl * w2_;
      euler(Xi, Pi, dt / tau_[in_]);
      euler(Xl, Pl, dt / tau_[lab_]);
      euler(Xh, Ph, dt / tau_[hid_]);
    }
    activate();
  }

 private:
  Mat w1_, w2_;
  int in_, lab_, hid_;
  std::vector<float> tau_;
};

// W4: tokens [64, 256], layernorm (eps 1e-5); attention with 4 heads of 64 (beta 1/8) and a
// hopfield memory Xi [256, 1024] with relu hidden units. With G the activations of a sample,
// Q_h = G Wq_h^T, K_h = G Wk_h^T, P_h = softmax_rows(Q_h K_h^T / 8):
//   -dE/dG = sum_h (P_h K_h) Wq_h + (P_h^T Q_h) Wk_h + relu(G Xi) Xi^T.
// Projections and the memory are GEMMs over all tokens of the slice; scores per sample/head.
class EnergyTransformer final : public EigenStep {
 public:
  explicit EnergyTransformer(const Workload& w)
      : wq_(param(w, "Wq", 256)), wk_(param(w, "Wk", 256)), xi_(param(w, "Xi", 256)),
        tau_(w.model.neurons[0].tau) {}
  void run(const std::vector<float*>& x, const std::vector<float*>& xhat, int64_t b0, int64_t b1, float dt,
           int64_t k) const override {
    constexpr int64_t T = 64, D = 256, H = 4, Y = 64;
    const int64_t nb = b1 - b0, rows = nb * T;
    Map X(x[0] + b0 * T * D, rows, D), G(xhat[0] + b0 * T * D, rows, D);
    Mat Q(rows, H * Y), K(rows, H * Y), dQ(rows, H * Y), dK(rows, H * Y), S(T, T), Z(rows, xi_.cols()),
        pull(rows, D);
    const float rate = dt / tau_;
    auto activate = [&] {
      for (int64_t r = 0; r < rows; ++r) {
        auto xr = X.row(r).array();
        const float mean = xr.mean();
        const float inv = 1.0f / std::sqrt((xr - mean).square().mean() + 1e-5f);
        G.row(r).array() = (xr - mean) * inv;
      }
    };
    for (int64_t s = 0; s < k; ++s) {
      activate();
      Q.noalias() = G * wq_.transpose();
      K.noalias() = G * wk_.transpose();
      for (int64_t b = 0; b < nb; ++b)
        for (int64_t h = 0; h < H; ++h) {
          auto q = Q.block(b * T, h * Y, T, Y);
          auto kk = K.block(b * T, h * Y, T, Y);
          S.noalias() = q * kk.transpose();
          softmax_rows(S, 0.125f);
          dQ.block(b * T, h * Y, T, Y).noalias() = S * kk;
          dK.block(b * T, h * Y, T, Y).noalias() = S.transpose() * q;
        }
      Z.noalias() = G * xi_;
      Z = Z.cwiseMax(0.0f);
      pull.noalias() = Z * xi_.transpose();
      pull.noalias() += dQ * wq_;
      pull.noalias() += dK * wk_;
      euler(X, pull, rate);
    }
    activate();
  }

 private:
  Mat wq_, wk_, xi_;  // Wq, Wk as [(h, y), d]
  float tau_;
};

// W5: image [32, 32, 3] tanh, hidden [32, 32, 16] relu (tau 0.5), E = -sum(g_h * conv(g_img, K)),
// 3x3 SAME. conv = im2col (all samples of the slice) x K as one GEMM; its transpose is
// one GEMM g_h K^T followed by a gather of the 9 taps per pixel.
class Conv final : public EigenStep {
 public:
  explicit Conv(const Workload& w)
      : k_(param(w, "K", 27)), img_(neuron(w, "image")), hid_(neuron(w, "hidden")),
        rate_img_(1.0f / w.model.neurons[img_].tau), rate_hid_(1.0f / w.model.neurons[hid_].tau) {}
  void run(const std::vector<float*>& x, const std::vector<float*>& xhat, int64_t b0, int64_t b1, float dt,
           int64_t k) const override {
    constexpr int64_t S = 32, C = 3, O = 16, P = S * S, KK = 27;
    const int64_t nb = b1 - b0;
    Map Xi(x[img_] + b0 * P * C, nb * P, C), Xh(x[hid_] + b0 * P * O, nb * P, O);
    Map Gi(xhat[img_] + b0 * P * C, nb * P, C), Gh(xhat[hid_] + b0 * P * O, nb * P, O);
    Mat cols(nb * P, KK), conv(nb * P, O), pull(nb * P, C);
    auto activate = [&] {
      Gi.array() = Xi.array().tanh();
      Gh = Xh.cwiseMax(0.0f);
    };
    for (int64_t s = 0; s < k; ++s) {
      activate();
      // cols[(b, y, x), (ky, kx, c)] = g_img[b, y + ky - 1, x + kx - 1, c], 0 outside.
      for (int64_t b = 0; b < nb; ++b)
        for (int64_t y = 0; y < S; ++y)
          for (int64_t xx = 0; xx < S; ++xx) {
            float* row = cols.row((b * S + y) * S + xx).data();
            for (int64_t ky = 0; ky < 3; ++ky)
              for (int64_t kx = 0; kx < 3; ++kx) {
                const int64_t iy = y + ky - 1, ix = xx + kx - 1;
                const bool in = iy >= 0 && iy < S && ix >= 0 && ix < S;
                for (int64_t c = 0; c < C; ++c)
                  row[(ky * 3 + kx) * C + c] = in ? Gi((b * S + iy) * S + ix, c) : 0.0f;
              }
          }
      conv.noalias() = cols * k_;
      // Transposed conv: cols = g_h K^T, then pixel (y, x) gathers tap (ky, kx) from the
      // output pixel (y - ky + 1, x - kx + 1).
      cols.noalias() = Gh * k_.transpose();
      pull.setZero();
      for (int64_t b = 0; b < nb; ++b)
        for (int64_t y = 0; y < S; ++y)
          for (int64_t xx = 0; xx < S; ++xx)
            for (int64_t ky = 0; ky < 3; ++ky)
              for (int64_t kx = 0; kx < 3; ++kx) {
                const int64_t oy = y - ky + 1, ox = xx - kx + 1;
                if (oy < 0 || oy >= S || ox < 0 || ox >= S) continue;
                for (int64_t c = 0; c < C; ++c)
                  pull((b * S + y) * S + xx, c) += cols((b * S + oy) * S + ox, (ky * 3 + kx) * C + c);
              }
      euler(Xi, pull, dt * rate_img_);
      euler(Xh, conv, dt * rate_hid_);
    }
    activate();
  }

 private:
  Mat k_;  // [(ky, kx, c), o]
  int img_, hid_;
  float rate_img_, rate_hid_;
};

}  // namespace

std::unique_ptr<EigenStep> make_eigen_step(const Workload& w) {
  const std::string id = w.spec.id;
  if (id == "W1") return std::make_unique<Hopfield>(w);
  if (id == "W2") return std::make_unique<DenseAM>(w);
  if (id == "W3") return std::make_unique<Readme>(w);
  if (id == "W4") return std::make_unique<EnergyTransformer>(w);
  if (id == "W5") return std::make_unique<Conv>(w);
  throw std::runtime_error("eigen reference: no hand-written step for " + id);
}

}  // namespace hamux::bench
