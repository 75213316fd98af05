// compiler/codegen/loops/contraction.h - typed contraction plans, decided once at lowering.
//
// Every Einsum, Pack and Conv stage of a Program carries its plan (Stage::einsum,
// Stage::conv), made when the stage is lowered from the node and from which of its buffers
// are batched. The plan is used as it is by every consumer: the LLVM emitter turns it into
// calls with fixed arguments (kernels/kernels.h) or hands it to the loop emitter
// (llvm/contraction_loops.h); nothing downstream re-derives, parses or plans it again.
//
// Einsum terms use letter ids 0..51 for the spec's letters and kSampleLetter for the batch
// dimension of a batched buffer (always its first axis; its size is -1, meaning the number
// of samples in the slice).
//
// A two-operand einsum without repeated letters, whose letters all appear in two of its
// three terms, runs as GEMMs: A (batch, M, K) x B (batch, K, N) -> out (batch, M, N), one
// GEMM per batch index, operands used in place (possibly transposed) or permuted first.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "codegen/kernels/kernels.h"
#include "graph/ir.h"

namespace hamux::codegen {

constexpr int64_t kSampleLetter = 52;

struct EinsumTerm {
  std::vector<int64_t> letters;
  std::vector<int64_t> dims;  // -1: the slice size
};

// A size that is `size`, times the slice size when `per_sample`.
struct Extent {
  int64_t size = 1;
  bool per_sample = false;
};

struct GemmPlan {
  bool swap = false;  // the einsum's operands exchanged: A is operand 1, B operand 0
  Extent batches, m, n, k;
  bool a_t = false, b_t = false;  // operand used in place, stored transposed (K x M, N x K)
  // Operands that are neither (batch, M, K)/(batch, K, M) resp. (batch, K, N)/(batch, N, K)
  // are permuted into the first form through scratch; an output that is not (batch, M, N)
  // is computed in scratch and permuted into place. Each term pair is (from, to).
  bool a_perm = false, b_perm = false, o_perm = false;
  EinsumTerm a, b, o, amk, bkn, omn;
};

struct EinsumPlan {
  EinsumTerm out;
  std::vector<EinsumTerm> ops;
  std::optional<GemmPlan> gemm;  // absent: the naive loop nest (hamux_einsum_naive)
  // Whether operand k is B of a single GEMM (batches 1, K, N > 0): the operand
  // loops/pack_weights.h may pack.
  bool packable(int k) const;
};

// The plan of einsum `node` with operands batched as `operand_batched` and output batched
// as `out_batched`.
EinsumPlan plan_einsum(const ir::Node& node, const std::vector<bool>& operand_batched, bool out_batched);

// The plan of conv node `node` (Conv2d, Conv2dInputGrad, Conv2dKernelGrad).
hamux_conv_plan plan_conv(const ir::Node& node, bool a_batched, bool b_batched, bool out_batched);

// One line describing the plan (the program text, HAMUX_DUMP=program).
std::string to_string(const EinsumPlan& p);
std::string to_string(const hamux_conv_plan& c);

}  // namespace hamux::codegen
