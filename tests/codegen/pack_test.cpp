// tests/codegen/pack_test.cpp - packed GEMM weights (pack_weights.h), the prologue shared by
// threads (Kernel::prepare) and the optional energy of a step kernel.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <thread>

#include "codegen/loops/lower.h"
#include "codegen/loops/pack_weights.h"
#include "codegen/kernels/kernels.h"
#include "step/step.h"
#include "compare.h"
#include "frontend/model.h"
#include "graph/builder.h"
#include "interp/interpreter.h"

namespace hamux::codegen {
namespace {

using namespace ir;
using testing::check_against_interpreter;
using testing::stages_of;

CompileOptions pack_everything() {
  CompileOptions o;
  o.pack_min_bytes = 0;
  o.small_einsum_work = 0;
  o.disk_cache = false;
  return o;
}

CompileOptions pack_nothing() {
  CompileOptions o;
  o.pack_min_bytes = -1;
  o.small_einsum_work = 0;
  o.disk_cache = false;
  return o;
}

TEST(PackWeights, LargeSharedGemmOperandsArePackedInThePrologue) {
  // classical_hopfield: (W + W^T) xhat in the step, W xhat in the energy; both 4 MiB.
  const Model m = load_model(std::string(HAMUX_MODELS_DIR) + "/classical_hopfield.json");
  Program p = lower_step(m, derive(m), /*energy=*/true);
  ASSERT_EQ(stages_of(p.prologue, StageKind::Pack), 0);
  const int64_t shared_before = p.shared_bytes;
  EXPECT_EQ(pack_weights(p, 64 * 1024), 2);
  EXPECT_EQ(stages_of(p.prologue, StageKind::Pack), 2);
  EXPECT_GE(p.shared_bytes - shared_before, 2 * 1024 * 1024 * 4);  // the two packed copies
  int packed_reads = 0;
  for (const auto* phase : {&p.body, &p.epilogue})
    for (const Stage& s : *phase) {
      if (s.kind != StageKind::Einsum) continue;
      const bool has_shared = !p.is_batched(s.args[0]) || !p.is_batched(s.args[1]);
      EXPECT_EQ(s.operand >= 0, has_shared) << to_string(p);  // (xhat . W xhat is batched twice)
      if (s.operand < 0) continue;
      ++packed_reads;
      EXPECT_EQ(p.buffers[s.args[s.operand]].kind, BufferKind::Temp);
      EXPECT_FALSE(p.is_batched(s.args[s.operand]));
    }
  EXPECT_EQ(packed_reads, 2);
  EXPECT_NE(to_string(p).find("pack operand 0 blocking=["), std::string::npos);
  // The blocking is fixed in the stage (and so in the cached kernel), with the buffer sized
  // for exactly it: a kernel from the disk cache packs the same way on any machine.
  for (const Stage& s : p.prologue) {
    if (s.kind != StageKind::Pack) continue;
    ASSERT_EQ(s.blocking.size(), 3u);
    ASSERT_TRUE(s.einsum.packable(s.operand));
    const PackBlocking pb = gemm_pack_blocking(s.einsum.gemm->k.size, s.einsum.gemm->n.size, false);
    EXPECT_EQ(s.blocking, (std::vector<int64_t>{pb.kc, pb.mc, pb.nc}));
    EXPECT_GE(p.buffers[s.out].elements() * 4, pb.bytes);
    EXPECT_GT(pb.bytes, 1024 * 1024 * 4);  // the panels of a 1024x1024 float matrix, and a header
  }
}

TEST(PackWeights, SmallAndBatchedOperandsStayAsTheyAre) {
  const Model m = load_model(std::string(HAMUX_MODELS_DIR) + "/readme.json");  // 7x9 and 8x9 weights
  Program p = lower_step(m, derive(m), true);
  EXPECT_EQ(pack_weights(p, 64 * 1024), 0);
  // Two batched operands (xhat_a . xhat_b): nothing to pack at any threshold.
  NodePtr a = input(0, "a", {8, 6}, DType::F64), b = input(1, "b", {6, 5}, DType::F64);
  Program q = lower_graphs({einsum("ij,jk->ik", {a, b})}, DType::F64, 0);
  EXPECT_EQ(pack_weights(q, 0), 0);
}

// Every layout the GEMM plan knows for the weight (in place, transposed, permuted) and for
// the batched operand and the output, against the interpreter, packed and unpacked.
std::vector<std::pair<std::string, NodePtr>> gemms(DType dt) {
  NodePtr x = input(0, "x", {6, 10}, dt);          // rows m, depth k
  NodePtr xt = input(1, "xt", {10, 6}, dt);        // transposed
  NodePtr W = param("W", {10, 7}, dt);             // k x n
  NodePtr Wt = param("Wt", {7, 10}, dt);           // n x k
  NodePtr W3 = param("W3", {2, 7, 5}, dt);         // (k1, n, k2): permuted for the GEMM
  NodePtr x3 = input(2, "x3", {6, 2, 5}, dt);
  return {
      {"x @ W", einsum("mk,kn->mn", {x, W})},
      {"x @ Wt^T", einsum("mk,nk->mn", {x, Wt})},
      {"xt^T @ W", einsum("km,kn->mn", {xt, W})},
      {"(x @ W)^T", einsum("mk,kn->nm", {x, W})},
      {"W^T x (weight first)", einsum("kn,mk->mn", {W, x})},
      {"permuted weight", einsum("mab,anb->mn", {x3, W3})},
      {"matrix-vector", einsum("k,kn->n", {input(3, "v", {10}, dt), W})},
  };
}

template <class T>
void packed_gemms_match_interpreter() {
  const DType dt = sizeof(T) == 8 ? DType::F64 : DType::F32;
  for (const auto& [name, g] : gemms(dt)) {
    Program p = lower_graphs({g}, dt, 0);  // (small enough to become a sum otherwise)
    EXPECT_EQ(pack_weights(p, 0), 1) << name << "\n" << to_string(p);
    for (int64_t batch : {1, 3, 17, 256}) {
      check_against_interpreter<T>({g}, batch, 7, name + " packed, batch " + std::to_string(batch), 1, pack_everything());
      check_against_interpreter<T>({g}, batch, 7, name + " unpacked, batch " + std::to_string(batch), 1, pack_nothing());
    }
  }
}
TEST(PackWeights, PackedGemmsMatchTheInterpreterFloat64) { packed_gemms_match_interpreter<double>(); }
TEST(PackWeights, PackedGemmsMatchTheInterpreterFloat32) { packed_gemms_match_interpreter<float>(); }

// A kernel bound to random values for every slot (batched ones for `batch` samples).
struct Bound {
  std::vector<std::vector<double>> data;
  std::vector<void*> slots;
  Bound(const Program& p, int64_t batch, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> nd;
    data.resize(p.num_external);
    slots.resize(p.num_external);
    for (const Buffer& b : p.buffers) {
      if (b.external < 0) continue;
      data[b.external].resize(b.elements() * (b.batched ? batch : 1));
      for (double& v : data[b.external]) v = nd(rng);
      slots[b.external] = data[b.external].data();
    }
  }
};

// x @ W with a 96x80 float64 W (60 KiB: packed at threshold 0).
std::shared_ptr<const Kernel> gemm_kernel(const CompileOptions& o) {
  NodePtr x = input(0, "x", {96}, DType::F64);
  NodePtr y = unary(Op::Tanh, einsum("k,kn->n", {x, param("W", {96, 80}, DType::F64)}));
  return compile(lower_graphs({y}, DType::F64, o.small_einsum_work), o);
}

TEST(PackWeights, ASamplesBitsDoNotDependOnTheCallsSliceInGroupsOfFour) {
  // The runtime's blocks rest on this (docs/runtime.md): with packed weights, a sample's
  // result is the same whether its call has 4, 16 or 256 samples.
  auto k = gemm_kernel(pack_everything());
  const Program& p = k->program();
  ASSERT_EQ(stages_of(p.prologue, StageKind::Pack), 1);
  Bound whole(p, 256, 3);
  k->run(whole.slots.data(), 0, 256);
  for (int64_t block : {4, 16, 64}) {
    Bound sliced(p, 256, 3);
    const Prepared shared = k->prepare(sliced.slots.data());
    for (int64_t b = 0; b < 256; b += block) k->run(sliced.slots.data(), b, b + block, 1, &shared);
    EXPECT_EQ(sliced.data, whole.data) << "blocks of " << block;
  }
}

TEST(Prepared, OneCopySharedByThreadsGivesTheSingleCallsResult) {
  for (const CompileOptions& o : {pack_everything(), pack_nothing()}) {
    auto k = gemm_kernel(o);
    const Program& p = k->program();
    Bound one(p, 64, 5), two(p, 64, 5);
    k->run(one.slots.data(), 0, 64);
    const Prepared shared = k->prepare(two.slots.data());
    std::thread t([&] { k->run(two.slots.data(), 32, 64, 1, &shared); });
    k->run(two.slots.data(), 0, 32, 1, &shared);
    t.join();
    EXPECT_EQ(two.data, one.data) << "pack_min_bytes " << o.pack_min_bytes;
  }
}

TEST(StepKernelEnergy, ANullEnergyBufferSkipsTheEnergyOnly) {
  const Model m = load_model(std::string(HAMUX_MODELS_DIR) + "/dense_am.json");
  const Derivation d = derive(m);
  StepOptions so;
  so.energy = true;
  so.compile.disk_cache = false;
  StepKernel k(m, d, so);
  ASSERT_GE(k.kernel().program().optional_from, 0);
  const auto params = interp::param_values<float>(m);
  const int64_t batch = 5;
  auto run = [&](bool with_energy, std::vector<float>& energy) {
    std::vector<std::vector<float>> x, xhat;
    std::mt19937 rng(2);
    std::normal_distribution<float> nd;
    StepKernel::Bindings b;
    for (const NeuronDef& n : m.neurons) {
      x.emplace_back(batch * num_elements(n.shape));
      for (float& v : x.back()) v = nd(rng);
      xhat.emplace_back(batch * num_elements(n.shape));
    }
    for (size_t i = 0; i < x.size(); ++i) {
      b.x.push_back(x[i].data());
      b.xhat.push_back(xhat[i].data());
    }
    for (const ParamDef& pd : m.params) b.params.push_back(params.at(pd.name).data.data());
    energy.assign(batch, -7.0f);
    if (with_energy) b.energy = energy.data();
    k.run(k.bind(b, 0.5), 0, batch, 3);
    x.insert(x.end(), xhat.begin(), xhat.end());
    return x;
  };
  std::vector<float> e_on, e_off;
  const auto with = run(true, e_on), without = run(false, e_off);
  EXPECT_EQ(with, without);  // the same states and activations, bit for bit
  EXPECT_EQ(e_off, std::vector<float>(batch, -7.0f));
  for (float e : e_on) EXPECT_NE(e, -7.0f);
}

}  // namespace
}  // namespace hamux::codegen
