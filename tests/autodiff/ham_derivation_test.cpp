// tests/autodiff/ham_derivation_test.cpp - derive() on every contract model, against
// float64 finite differences of the derived energies.
//
// xhat inputs are independent variables here (not tied to x), exactly as the dynamics use
// them: update_i must be d total_energy / d xhat_i at any (x, xhat).
#include <filesystem>

#include "autodiff/derive.h"
#include "autodiff/fd_check.h"
#include "frontend/model.h"
#include "test_data.h"

namespace hamux {
namespace {

using fdcheck::Point;
using ir::NodePtr;

constexpr int kElementsPerNeuron = 6;  // FD-checked coordinates per neuron (models are big)

// Model energies sum up to ~1e4 terms: Richardson-extrapolated differences with h = 1e-3
// (see fd_check.h) keep the FD error far below the 1e-6 tolerance.
std::vector<double> fd_of(const NodePtr& y, const Point& at, size_t k, const std::vector<int64_t>& e,
                       const fdcheck::Params& params) {
  return fdcheck::fd_gradient(y, at, k, e, params, 1e-3, /*richardson=*/true);
}

// A fixed list, not a scan of the folder at test discovery (tests/test_data.h).
std::vector<std::string> contract_models() { return test_data::contract_model_paths(); }

std::vector<int64_t> some_elements(int64_t size, std::mt19937_64& rng) {
  if (size <= kElementsPerNeuron) {
    std::vector<int64_t> all(size);
    for (int64_t i = 0; i < size; ++i) all[i] = i;
    return all;
  }
  std::uniform_int_distribution<int64_t> u(0, size - 1);
  std::vector<int64_t> e;
  for (int i = 0; i < kElementsPerNeuron; ++i) e.push_back(u(rng));
  return e;
}

std::vector<double> pick(const Tensor<double>& t, const std::vector<int64_t>& elements) {
  std::vector<double> v;
  for (int64_t e : elements) v.push_back(t[e]);
  return v;
}

// x - b for a bias that equals x's shape or its trailing dimensions (NumPy broadcasting).
Tensor<double> shifted(const Tensor<double>& x, const NeuronDef& nd, const fdcheck::Params& params) {
  Tensor<double> r = x;
  if (nd.bias.empty()) return r;
  const Tensor<double>& b = params.at(nd.bias);
  for (int64_t i = 0; i < r.size(); ++i) r[i] -= b[i % b.size()];
  return r;
}

class HamDerivation : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    model_ = load_model(GetParam());
    d_ = derive(model_);
    params_ = interp::param_values<double>(model_);
    n_ = model_.neurons.size();
    std::mt19937_64 rng(42);
    for (size_t i = 0; i < 2 * n_; ++i)
      point_.push_back(fdcheck::random_tensor(model_.neurons[i % n_].shape, rng, -1, 1));
  }
  Model model_;
  Derivation d_;
  fdcheck::Params params_;
  size_t n_ = 0;
  Point point_;  // x_0..x_{n-1}, xhat_0..xhat_{n-1}
};

TEST_P(HamDerivation, GraphsHaveTheDocumentedShapes) {
  ASSERT_EQ(d_.activation.size(), n_);
  ASSERT_EQ(d_.update.size(), n_);
  ASSERT_EQ(d_.neuron_energy.size(), n_);
  ASSERT_EQ(d_.connection_energy.size(), model_.connections.size());
  for (size_t i = 0; i < n_; ++i) {
    EXPECT_EQ(d_.activation[i]->shape, model_.neurons[i].shape);
    EXPECT_EQ(d_.update[i]->shape, model_.neurons[i].shape);
    EXPECT_EQ(d_.neuron_energy[i]->shape, Shape{});
  }
  EXPECT_EQ(d_.total_energy->shape, Shape{});
}

TEST_P(HamDerivation, UpdateIsTheGradientOfTotalEnergyWithRespectToActivations) {
  std::mt19937_64 rng(7);
  auto updates = fdcheck::eval_at(d_.update, point_, params_);
  for (size_t i = 0; i < n_; ++i) {
    SCOPED_TRACE("neuron " + model_.neurons[i].name);
    std::vector<int64_t> e = some_elements(point_[n_ + i].size(), rng);
    std::vector<double> fd = fd_of(d_.total_energy, point_, n_ + i, e, params_);
    EXPECT_LT(fdcheck::relative_error(pick(updates[i], e), fd), fdcheck::kTolerance);
  }
}

TEST_P(HamDerivation, NeuronEnergyGradientInXhatIsTheShiftedState) {
  // Legendre: d/dxhat (<x - b, xhat> - L(x)) = x - b.
  std::mt19937_64 rng(8);
  for (size_t i = 0; i < n_; ++i) {
    SCOPED_TRACE("neuron " + model_.neurons[i].name);
    std::vector<int64_t> e = some_elements(point_[i].size(), rng);
    std::vector<double> fd = fd_of(d_.neuron_energy[i], point_, n_ + i, e, params_);
    Tensor<double> want = shifted(point_[i], model_.neurons[i], params_);
    EXPECT_LT(fdcheck::relative_error(fd, pick(want, e)), fdcheck::kTolerance);
  }
}

TEST_P(HamDerivation, ActivationIsTheGradientOfTheLagrangian) {
  // With xhat = 0 the neuron energy is -L(x), so activation = -d/dx neuron_energy.
  std::mt19937_64 rng(9);
  Point at = point_;
  for (size_t i = 0; i < n_; ++i) at[n_ + i] = Tensor<double>(at[n_ + i].shape, 0.0);
  auto act = fdcheck::eval_at(d_.activation, at, params_);
  for (size_t i = 0; i < n_; ++i) {
    SCOPED_TRACE("neuron " + model_.neurons[i].name);
    std::vector<int64_t> e = some_elements(at[i].size(), rng);
    std::vector<double> fd = fd_of(d_.neuron_energy[i], at, i, e, params_);
    for (double& v : fd) v = -v;
    EXPECT_LT(fdcheck::relative_error(pick(act[i], e), fd), fdcheck::kTolerance);
  }
}

TEST_P(HamDerivation, NeuronEnergyIsStationaryInXAtTheActivation) {
  // Legendre: d/dx (<x - b, xhat> - L(x)) = xhat - grad L(x) = 0 when xhat = activation(x).
  std::mt19937_64 rng(10);
  Point at = point_;
  auto act = fdcheck::eval_at(d_.activation, at, params_);
  for (size_t i = 0; i < n_; ++i) at[n_ + i] = act[i];
  for (size_t i = 0; i < n_; ++i) {
    SCOPED_TRACE("neuron " + model_.neurons[i].name);
    std::vector<int64_t> e = some_elements(at[i].size(), rng);
    std::vector<double> fd = fd_of(d_.neuron_energy[i], at, i, e, params_);
    double scale = 1;
    for (double v : act[i].data) scale = std::max(scale, std::abs(v));
    for (double v : fd) EXPECT_LT(std::abs(v), fdcheck::kTolerance * scale);
  }
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  return std::filesystem::path(info.param).stem().string();
}

INSTANTIATE_TEST_SUITE_P(ContractModels, HamDerivation, ::testing::ValuesIn(contract_models()),
                         test_name);

TEST(HamDerivationSmall, SelfConnectionCollectsBothTerms) {
  // One neuron a (identity Lagrangian, shape [2]) connected to itself through
  // E = -xhat1 . W xhat2: dE/dxhat = -(W + W^T) xhat, both terms.
  Model m;
  m.file = "self.json";
  m.dtype = ir::DType::F64;
  ParamDef W{"W", {2, 2}, "test", Tensor<double>({2, 2}, {1.0, 2.0, 3.0, 4.0})};
  m.params.push_back(W);
  NeuronDef a;
  a.name = "a";
  a.shape = {2};
  NodePtr x = ir::input(0, "x", {2}, ir::DType::F64);
  a.lagrangian = ir::scale(0.5, ir::sum_all(ir::mul(x, x)));
  m.neurons.push_back(a);
  ConnectionDef c;
  c.neurons = {0, 0};
  c.synapse = 0;
  NodePtr g1 = ir::input(0, "g1", {2}, ir::DType::F64), g2 = ir::input(1, "g2", {2}, ir::DType::F64);
  c.energy = ir::neg(ir::einsum("i,ij,j->", {g1, ir::param("W", {2, 2}, ir::DType::F64), g2}));
  m.connections.push_back(c);
  m.synapses.push_back({"s", "test"});
  Derivation d = derive(m);
  fdcheck::Params params{{"W", W.value}};
  Point at{Tensor<double>({2}, {0.5, -1.0}), Tensor<double>({2}, {2.0, 3.0})};
  auto v = fdcheck::eval_at({d.update[0], d.activation[0]}, at, params);
  // x - (W + W^T) xhat = [0.5 - (2*2 + 5*3), -1 - (5*2 + 8*3)]
  EXPECT_EQ(v[0].data, (std::vector<double>{0.5 - 19.0, -1.0 - 34.0}));
  EXPECT_EQ(v[1].data, (std::vector<double>{0.5, -1.0}));
}

}  // namespace
}  // namespace hamux
