// compiler/codegen/loops/program.cpp - buffer lookup and the text form of a loop program.
#include "codegen/loops/program.h"

#include <algorithm>

#include <cstdio>
#include <sstream>
#include <unordered_map>

#include "codegen/kernels/kernels.h"

namespace hamux::codegen {

int Program::buffer_of(const ir::Node* n) const {
  if (n->op == ir::Op::Input) {
    auto it = inputs.find(n->attrs.index);
    return it == inputs.end() ? -1 : it->second;
  }
  if (n->op == ir::Op::Param) {
    auto it = params.find(n->attrs.name);
    return it == params.end() ? -1 : it->second;
  }
  auto it = materialised.find(n);
  return it == materialised.end() ? -1 : it->second;
}

int Program::buffer_of(const Stage& stage, const ir::Node* n) const {
  if (n->op == ir::Op::Input || n->op == ir::Op::Param) return buffer_of(n);
  auto it = stage.bound.find(n);
  return it == stage.bound.end() ? -1 : it->second;
}

namespace {

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string ints(const std::vector<int64_t>& v) { return shape_str(v); }

// The attributes that change what an op computes, in a fixed order. (Built with +=:
// GCC 12 warns falsely (-Wrestrict) on chains of "literal" + std::string temporaries.)
std::string attrs_str(const ir::Node& n) {
  std::string s;
  const ir::Attrs& a = n.attrs;
  switch (n.op) {
    case ir::Op::Const: s += " "; s += num(a.value); break;
    case ir::Op::Sum:
    case ir::Op::ReduceMax:
    case ir::Op::LogSumExp:
      s += " axes="; s += ints(a.axes);
      if (a.keepdims) s += " keepdims";
      break;
    case ir::Op::Broadcast:
    case ir::Op::Reshape: s += " to="; s += ints(a.shape); break;
    case ir::Op::Transpose: s += " perm="; s += ints(a.axes); break;
    case ir::Op::Einsum: s += " '"; s += a.spec; s += "'"; break;
    case ir::Op::Conv2d:
    case ir::Op::Conv2dInputGrad:
    case ir::Op::Conv2dKernelGrad:
      s += " strides="; s += ints(a.strides); s += " "; s += a.padding;
      s += " shape="; s += ints(a.shape);
      break;
    default: break;
  }
  return s;
}

// Prints the fused expression of one stage in SSA form, one node a line, so that shared
// subexpressions print once and the text stays linear in the graph size.
void print_expr(std::ostringstream& os, const Program& p, const Stage& st, const ir::NodePtr& root,
                bool root_inline) {
  std::unordered_map<const ir::Node*, int> id;
  // Post-order walk that stops at bound nodes (other than the root).
  std::vector<std::pair<const ir::Node*, size_t>> stack{{root.get(), 0}};
  id.reserve(64);
  while (!stack.empty()) {
    auto& [n, next] = stack.back();
    bool bound = (n != root.get() || !root_inline || n->op == ir::Op::Input || n->op == ir::Op::Param) &&
                 p.buffer_of(st, n) >= 0;
    if (!bound && next < n->inputs.size()) {
      const ir::Node* c = n->inputs[next++].get();
      if (!id.count(c)) stack.push_back({c, 0});
      continue;
    }
    if (!id.count(n)) {
      int k = static_cast<int>(id.size());
      id[n] = k;
      os << "    t" << k << " = ";
      if (bound) {
        os << "load " << p.buffers[p.buffer_of(st, n)].name;
      } else {
        os << ir::op_name(n->op) << attrs_str(*n);
        for (const auto& in : n->inputs) os << " t" << id.at(in.get());
      }
      os << " : " << shape_str(n->shape) << "\n";
    }
    stack.pop_back();
  }
}

void print_stages(std::ostringstream& os, const Program& p, const char* title,
                  const std::vector<Stage>& stages) {
  os << title << ":\n";
  for (const Stage& s : stages) {
    const Buffer& out = p.buffers[s.out];
    switch (s.kind) {
      case StageKind::Elementwise:
        os << "  " << out.name << " = elementwise " << shape_str(out.shape) << "\n";
        print_expr(os, p, s, s.expr, true);
        break;
      case StageKind::Reduce:
        os << "  " << out.name << " = " << ir::op_name(s.reduce_op) << " axes=" << ints(s.axes)
           << " of\n";
        print_expr(os, p, s, s.expr, false);
        break;
      case StageKind::Einsum:
      case StageKind::Conv:
        os << "  " << out.name << " = " << ir::op_name(s.expr->op) << attrs_str(*s.expr) << "(";
        for (size_t i = 0; i < s.args.size(); ++i)
          os << (i ? ", " : "") << (static_cast<int>(i) == s.operand ? "packed " : "") << p.buffers[s.args[i]].name;
        os << ")\n    " << (s.kind == StageKind::Einsum ? to_string(s.einsum) : to_string(s.conv)) << "\n";
        break;
      case StageKind::Pack:
        os << "  " << out.name << " = pack operand " << s.operand << " blocking=" << ints(s.blocking) << " of "
           << ir::op_name(s.expr->op) << attrs_str(*s.expr) << "(";
        for (size_t i = 0; i < s.args.size(); ++i) os << (i ? ", " : "") << p.buffers[s.args[i]].name;
        os << ")\n";
        break;
    }
  }
}

const char* kind_name(BufferKind k) {
  switch (k) {
    case BufferKind::Input: return "input";
    case BufferKind::Param: return "param";
    case BufferKind::Output: return "output";
    case BufferKind::Temp: return "temp";
  }
  return "?";
}

}  // namespace

std::string to_string(const Program& p) {
  std::ostringstream os;
  os << "program " << ir::dtype_name(p.dtype) << "\n";
  for (const Buffer& b : p.buffers) {
    os << "  buffer " << b.name << " " << kind_name(b.kind) << " " << shape_str(b.shape)
       << (b.batched ? " batched" : " shared");
    if (b.external >= 0) os << " slot=" << b.external;
    os << "\n";
  }
  print_stages(os, p, "prologue", p.prologue);
  print_stages(os, p, "body", p.body);
  print_stages(os, p, "epilogue", p.epilogue);
  if (p.epilogue_is_body_prefix)
    os << "epilogue = the first " << p.epilogue_is_body_prefix << " body stages\n";
  if (p.optional_from >= 0)
    os << "epilogue stages " << p.optional_from << ".. only when " << p.buffers[p.optional_output].name << " is bound\n";
  return os.str();
}

int64_t Program::footprint_per_sample() const {
  int64_t bytes = 0;
  for (const Buffer& b : buffers)
    if (b.batched) bytes += b.elements() * element_bytes();
  return bytes;
}

SharedOperands shared_operands(const Program& p) {
  std::vector<bool> counted(p.buffers.size(), false);
  SharedOperands r;
  for (const auto* stages : {&p.prologue, &p.body, &p.epilogue})
    for (const Stage& st : *stages) {
      if (st.kind != StageKind::Einsum && st.kind != StageKind::Conv) continue;
      for (int arg : st.args) {
        if (p.is_batched(arg) || counted[arg]) continue;
        counted[arg] = true;
        const int64_t bytes = p.buffers[arg].elements() * p.element_bytes();
        r.total_bytes += bytes;
        r.largest_bytes = std::max(r.largest_bytes, bytes);
      }
    }
  return r;
}

int64_t samples_per_call(const Program& p, int64_t slice, int64_t cache_bytes) {
  // A shared contraction operand larger than this is re-read per call (W1's W is 4 MiB, W2's
  // Xi 2.8 MiB, W4's Wq/Wk 256 KiB; W5's 3x3 kernel is 1.7 KiB).
  constexpr int64_t kLargeSharedOperand = 64 * 1024;
  if (shared_operands(p).largest_bytes > kLargeSharedOperand) return slice;
  return std::clamp<int64_t>(cache_bytes / std::max<int64_t>(p.footprint_per_sample(), 1), 1, std::max<int64_t>(slice, 1));
}

}  // namespace hamux::codegen
