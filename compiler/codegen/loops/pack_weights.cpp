// compiler/codegen/loops/pack_weights.cpp - see pack_weights.h.
#include "codegen/loops/pack_weights.h"

#include <map>
#include <utility>

#include "codegen/kernels/kernels.h"

namespace hamux::codegen {

int pack_weights(Program& p, int64_t min_bytes) {
  // One packed buffer per (einsum node, operand): an einsum in the body and the same one in
  // the epilogue (the final activations) read the same packed form.
  std::map<std::pair<const ir::Node*, int>, int> packed;
  int count = 0;
  for (std::vector<Stage>* phase : {&p.body, &p.epilogue}) {
    for (Stage& s : *phase) {
      if (s.kind != StageKind::Einsum || s.args.size() != 2 || s.operand >= 0) continue;
      for (int k = 0; k < 2; ++k) {
        const int w = s.args[k], other = s.args[1 - k];
        if (p.is_batched(w) || !p.is_batched(other) || p.buffers[w].elements() * p.element_bytes() < min_bytes)
          continue;
        auto [it, fresh] = packed.emplace(std::make_pair(s.expr.get(), k), -1);
        if (fresh) {
          Stage pack;
          pack.kind = StageKind::Pack;
          pack.expr = s.expr;
          pack.args = s.args;
          pack.operand = k;
          pack.einsum = s.einsum;
          if (!s.einsum.packable(k)) break;  // not one GEMM with this operand as B: the einsum stays as it is
          const PackBlocking pb = gemm_pack_blocking(s.einsum.gemm->k.size, s.einsum.gemm->n.size, p.dtype == ir::DType::F64);
          pack.blocking = {pb.kc, pb.mc, pb.nc};
          const int64_t bytes = pb.bytes;
          Buffer b;
          b.name = "t" + std::to_string(p.buffers.size()) + "_packed_" + p.buffers[w].name;
          b.kind = BufferKind::Temp;
          b.shape = {(bytes + p.element_bytes() - 1) / p.element_bytes()};
          b.ws_offset = p.shared_bytes;
          p.shared_bytes += (b.elements() * p.element_bytes() + 63) / 64 * 64;
          pack.out = static_cast<int>(p.buffers.size());
          p.buffers.push_back(std::move(b));
          p.prologue.push_back(std::move(pack));
          it->second = p.prologue.back().out;
        }
        if (it->second < 0) break;
        s.args[k] = it->second;
        s.operand = k;
        ++count;
        break;
      }
    }
  }
  return count;
}

}  // namespace hamux::codegen
