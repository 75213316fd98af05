// compiler/codegen/loops/program.h - the loop program: what a kernel computes, stage by stage.
//
// Lowering (lower.cpp) turns IR graphs into a Program; llvm/emit.cpp turns a Program into
// the kernel's LLVM functions. A Program is a list of buffers and three lists of stages:
//
//   prologue   once per call: values that depend on parameters only (loop-invariant)
//   body       k_steps times: the per-sample work (one integration step)
//   epilogue   once per call, after the body (final activations, energies)
//
// Each stage writes one buffer:
//   Elementwise  out[i] = expr(i) for every element; `expr` is an IR subgraph whose
//                leaves are constants or nodes bound to buffers (Program::bound). Layout
//                ops (broadcast, transpose, reshape) inside it become index arithmetic,
//                so an elementwise chain is one loop nest with no intermediate buffer.
//   Reduce       out = reduce_op over `axes` of expr (expr fused into the reduction loop).
//   Einsum/Conv  a contraction on buffers, by the typed plan decided when the stage was
//                lowered (contraction.h): a call into the kernels library
//                (kernels/kernels.h) or loops emitted for it (llvm/contraction_loops.h).
//   Pack         (prologue only) operand `operand` of the einsum `expr`, a shared buffer,
//                packed into the layout the GEMM reads (pack_weights.h); the einsum
//                stage then names the packed buffer as that operand.
//
// Buffers are per-sample tensors. A batched buffer has a leading batch dimension (all
// inputs, everything that depends on an input); a shared one (params, values computed
// from params only) has not. External buffers are passed by the caller. Temporaries live
// in two caller-owned blocks: shared ones (what the prologue computes) in a block of
// shared_bytes, written once per set of parameters and then only read, so every thread
// may use the same one; batched ones in a per-thread workspace of workspace_bytes(slice).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "codegen/loops/contraction.h"
#include "graph/ir.h"
#include "hamux/tensor.h"

namespace hamux::codegen {

enum class BufferKind { Input, Param, Output, Temp };

struct Buffer {
  std::string name;
  BufferKind kind;
  Shape shape;          // per sample
  bool batched = false;
  int external = -1;    // slot in the kernel's pointer array; -1 for workspace temporaries
  int64_t ws_offset = 0;  // Temp: shared -> byte offset in the shared block; batched -> bytes
                          // per sample of the temporaries before it in the workspace

  int64_t elements() const { return num_elements(shape); }
};

enum class StageKind { Elementwise, Reduce, Einsum, Conv, Pack };

struct Stage {
  StageKind kind;
  int out = -1;                // buffer written
  ir::NodePtr expr;            // Elementwise: the value; Reduce: the reduced operand;
                               // Einsum/Conv: the contraction node (spec, conv attrs)
  ir::Op reduce_op = ir::Op::Sum;  // Reduce: Sum or ReduceMax
  std::vector<int64_t> axes;   // Reduce: reduced axes of expr->shape
  std::vector<int> args;       // Einsum/Conv: operand buffers; Pack: the operand's buffer
  int operand = -1;            // Pack: which einsum operand; Einsum: the packed one (or -1)
  std::vector<int64_t> blocking;  // Pack: the GEMM blocking kc, mc, nc it packs for
  EinsumPlan einsum;           // Einsum, Pack: the plan of the einsum
  hamux_conv_plan conv{};      // Conv: the plan of the convolution
  // Materialised nodes that `expr` reads, with their buffers, fixed when the stage is
  // lowered (a node may live in different buffers in different phases).
  std::unordered_map<const ir::Node*, int> bound;
};

struct Program {
  ir::DType dtype = ir::DType::F64;
  std::vector<Buffer> buffers;
  std::vector<Stage> prologue, body, epilogue;
  // When > 0, the epilogue is the first `epilogue_is_body_prefix` body stages once more
  // (a step kernel's final activations): the emitter runs the step loop one extra time up
  // to that point instead of emitting those stages a second time, and `epilogue` is empty.
  size_t epilogue_is_body_prefix = 0;
  // When >= 0: the epilogue stages from this index on compute only the external output
  // buffer `optional_output` (a step kernel's energy) and are skipped when the caller
  // passes a null pointer for it.
  int64_t optional_from = -1;
  int optional_output = -1;
  int num_external = 0;

  // Which buffer holds a leaf or materialised node: inputs by index, params by name,
  // materialised nodes by identity. Lookups go through buffer_of.
  std::map<int, int> inputs;
  std::map<std::string, int> params;
  std::unordered_map<const ir::Node*, int> materialised;

  // The buffer holding `n` while lowering, or -1 when `n` is computed inline.
  int buffer_of(const ir::Node* n) const;
  // The buffer `stage` reads `n` from (inputs, params, or the stage's own bindings).
  int buffer_of(const Stage& stage, const ir::Node* n) const;
  bool is_batched(int buffer) const { return buffers[buffer].batched; }

  int64_t element_bytes() const { return dtype == ir::DType::F32 ? 4 : 8; }
  // Bytes of the shared block, and of the workspace for a call on `batch` samples.
  int64_t shared_bytes = 0;
  int64_t sample_bytes = 0;
  int64_t workspace_bytes(int64_t batch) const { return batch * sample_bytes; }
  // Bytes of every batched buffer (external or temporary) of one sample: what a call
  // touches per sample.
  int64_t footprint_per_sample() const;
};

// A complete, deterministic text form of the program: the debug dump and the cache key.
std::string to_string(const Program& p);

// How many samples one kernel call should take through its k steps (Kernel::run splits a
// larger slice into calls of this size). Samples are independent, so a few at a time through
// all the steps keep their working set (every batched buffer) within `cache_bytes`; but a
// contraction with a large shared operand (a weight matrix) streams that operand once per
// call and wants the whole slice: then the answer is `slice`.
int64_t samples_per_call(const Program& p, int64_t slice, int64_t cache_bytes);

// The distinct shared (not batched) operands of the program's contractions (weights, packed
// or not): what every call streams once per GEMM, whatever its number of samples.
struct SharedOperands {
  int64_t total_bytes = 0;
  int64_t largest_bytes = 0;
};
SharedOperands shared_operands(const Program& p);

}  // namespace hamux::codegen
