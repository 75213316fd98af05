// compiler/graph/printer.cpp - an expression as readable, Python-like math.
//
// Infix + - * / and @ with the fewest parentheses that keep the tree's structure exact
// (operators associate to the left, so a right operand of equal precedence is
// parenthesised: a - (b - c), a + (b + c)); unary minus as -x; everything else as a
// function call. Conventions:
//   - constants in the shortest form that reads back to the same double: 1, 0.5, -8, 1e-05
//   - inputs and params by name (an unnamed input as input<index>)
//   - reductions: sum(x), sum(x, axis=1), max(x, axis=(0, 2), keepdims), logsumexp(...);
//     the axis is left out when every axis is reduced
//   - binary max/min as maximum(a, b) / minimum(a, b) (NumPy names), pow(a, b),
//     greater(a, b), equal(a, b)
//   - einsums that are matrix products ("ij,jk->ik", "i,ij->j", "ij,j->i", batched
//     "bij,bjk->bik") as a @ b, "i,i->" as dot(a, b), any other as einsum("spec", a, ...)
//   - exp(x - logsumexp(x, axis=a, keepdims)) as softmax(x, axis=a)
//   - a Broadcast under an elementwise binary op prints as its operand (NumPy broadcasting
//     says the same) unless the operands would not broadcast to the node's shape by
//     themselves; elsewhere as broadcast_to(x, [shape])
// Shared subexpressions are printed again at every use.
#include "graph/printer.h"

#include <charconv>
#include <unordered_map>

#include "graph/builder.h"

namespace hamux::ir {

namespace {

// Binding strength, loosest first.
enum Prec { kAdditive = 1, kMultiplicative = 2, kUnary = 3, kAtom = 4 };

struct Printed {
  std::string text;
  int prec;
};

std::string number(double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

std::string axes_text(const std::vector<int64_t>& axes) {
  if (axes.size() == 1) return std::to_string(axes[0]);
  std::string s = "(";
  for (size_t i = 0; i < axes.size(); ++i) s += (i ? ", " : "") + std::to_string(axes[i]);
  return s + ")";
}

bool distinct(const std::string& letters) {
  for (size_t i = 0; i < letters.size(); ++i)
    if (letters.find(letters[i], i + 1) != std::string::npos) return false;
  return true;
}

// "ij,jk->ik", "i,ij->j", "ij,j->i" and batched "...ij,...jk->...ik": NumPy's a @ b.
bool is_matmul(const EinsumSpec& s) {
  if (s.operands.size() != 2) return false;
  const std::string &a = s.operands[0], &b = s.operands[1], &o = s.output;
  if (a.size() == 1 && b.size() == 2)  // j,jk->k
    return a[0] == b[0] && o.size() == 1 && o[0] == b[1] && b[0] != b[1];
  if (a.size() == 2 && b.size() == 1)  // ij,j->i
    return a[1] == b[0] && o.size() == 1 && o[0] == a[0] && a[0] != a[1];
  if (a.size() < 2 || a.size() != b.size() || a.size() != o.size()) return false;
  size_t n = a.size();
  std::string batch = a.substr(0, n - 2);
  if (b.substr(0, n - 2) != batch || o.substr(0, n - 2) != batch) return false;
  char i = a[n - 2], j = a[n - 1], k = b[n - 1];
  return b[n - 2] == j && o[n - 2] == i && o[n - 1] == k && distinct(batch + i + j + k);
}

bool is_dot(const EinsumSpec& s) {
  return s.operands.size() == 2 && s.operands[0].size() == 1 && s.operands[0] == s.operands[1] &&
         s.output.empty();
}

const Node* strip_broadcast(const Node* n) {
  return n->op == Op::Broadcast ? n->inputs[0].get() : n;
}

class Printer {
 public:
  const Printed& print(const Node* n) {
    auto it = memo_.find(n);
    if (it != memo_.end()) return it->second;
    Printed p = render(n);
    return memo_.emplace(n, std::move(p)).first->second;
  }

 private:
  std::unordered_map<const Node*, Printed> memo_;

  // `n` as an operand that needs at least precedence `min_prec` to stand without parentheses.
  std::string operand(const Node* n, int min_prec) {
    const Printed& p = print(n);
    return p.prec < min_prec ? std::string("(") + p.text + ")" : p.text;
  }

  std::string call(const std::string& fn, const std::vector<std::string>& args) {
    std::string s = fn + "(";
    for (size_t i = 0; i < args.size(); ++i) s += (i ? ", " : "") + args[i];
    return s + ")";
  }

  std::string arg(const NodePtr& n) { return print(n.get()).text; }

  Printed infix(const std::string& op, int prec, const Node* a, const Node* b) {
    return {operand(a, prec) + " " + op + " " + operand(b, prec + 1), prec};
  }

  // exp(x - logsumexp(x, axes, keepdims)) -> the softmax of x along axes, else null.
  const Node* softmax_of(const Node* n, std::vector<int64_t>* axes) {
    if (n->op != Op::Exp || n->inputs[0]->op != Op::Sub) return nullptr;
    const Node* sub = n->inputs[0].get();
    const Node* lse = strip_broadcast(sub->inputs[1].get());
    if (lse->op != Op::LogSumExp || !lse->attrs.keepdims ||
        !structurally_equal(lse->inputs[0], sub->inputs[0]))
      return nullptr;
    *axes = lse->attrs.axes;
    return sub->inputs[0].get();
  }

  Printed binary(const Node* n) {
    const Node* a = n->inputs[0].get();
    const Node* b = n->inputs[1].get();
    // Leave out broadcasts that NumPy broadcasting of the operands reproduces.
    const Node* sa = strip_broadcast(a);
    const Node* sb = strip_broadcast(b);
    if (sa != a || sb != b) {
      try {
        if (broadcast_shapes(sa->shape, sb->shape) == n->shape) a = sa, b = sb;
      } catch (const ShapeError&) {
      }
    }
    switch (n->op) {
      case Op::Add: return infix("+", kAdditive, a, b);
      case Op::Sub: return infix("-", kAdditive, a, b);
      case Op::Mul: return infix("*", kMultiplicative, a, b);
      case Op::Div: return infix("/", kMultiplicative, a, b);
      case Op::Pow: return {call("pow", {print(a).text, print(b).text}), kAtom};
      case Op::Max: return {call("maximum", {print(a).text, print(b).text}), kAtom};
      case Op::Min: return {call("minimum", {print(a).text, print(b).text}), kAtom};
      default: return {call(op_name(n->op), {print(a).text, print(b).text}), kAtom};
    }
  }

  Printed render(const Node* n) {
    const Attrs& a = n->attrs;
    switch (n->op) {
      case Op::Const: {
        std::string t = number(a.value);
        return {t, t[0] == '-' ? kUnary : kAtom};
      }
      case Op::Input:
        return {a.name.empty() ? std::string("input") + std::to_string(a.index) : a.name, kAtom};
      case Op::Param: return {a.name, kAtom};
      case Op::Neg: return {std::string("-") + operand(n->inputs[0].get(), kAtom), kUnary};
      case Op::Sum:
      case Op::ReduceMax:
      case Op::LogSumExp: {
        std::string fn = n->op == Op::Sum ? "sum" : n->op == Op::ReduceMax ? "max" : "logsumexp";
        std::vector<std::string> args = {arg(n->inputs[0])};
        if (a.axes.size() != n->inputs[0]->shape.size()) args.push_back(std::string("axis=") + axes_text(a.axes));
        if (a.keepdims) args.push_back("keepdims");
        return {call(fn, args), kAtom};
      }
      case Op::Broadcast:
        return {call("broadcast_to", {arg(n->inputs[0]), shape_str(n->shape)}), kAtom};
      case Op::Reshape: return {call("reshape", {arg(n->inputs[0]), shape_str(a.shape)}), kAtom};
      case Op::Transpose: return {call("transpose", {arg(n->inputs[0]), shape_str(a.axes)}), kAtom};
      case Op::Einsum: {
        EinsumSpec s = parse_einsum(a.spec);
        if (is_matmul(s)) return infix("@", kMultiplicative, n->inputs[0].get(), n->inputs[1].get());
        // Gradients often produce a product with its operands the other way round
        // ("n,kn->k" is Xi @ s): print it in the familiar order.
        if (s.operands.size() == 2) {
          EinsumSpec swapped{{s.operands[1], s.operands[0]}, s.output};
          if (is_matmul(swapped))
            return infix("@", kMultiplicative, n->inputs[1].get(), n->inputs[0].get());
        }
        if (is_dot(s)) return {call("dot", {arg(n->inputs[0]), arg(n->inputs[1])}), kAtom};
        std::vector<std::string> args = {std::string("\"") + a.spec + "\""};
        for (const NodePtr& in : n->inputs) args.push_back(arg(in));
        return {call("einsum", args), kAtom};
      }
      case Op::Conv2d:
      case Op::Conv2dInputGrad:
      case Op::Conv2dKernelGrad: {
        // The gradients' result shape is an attribute; the forward conv's is inferred.
        std::vector<std::string> args = {arg(n->inputs[0]), arg(n->inputs[1])};
        if (n->op != Op::Conv2d) args.push_back(std::string("shape=") + shape_str(a.shape));
        args.push_back(std::string("strides=") + shape_str(a.strides));
        args.push_back("padding=\"" + a.padding + "\"");
        return {call(op_name(n->op), args), kAtom};
      }
      default: break;
    }
    if (is_binary(n->op)) return binary(n);
    if (n->op == Op::Exp) {
      std::vector<int64_t> axes;
      if (const Node* x = softmax_of(n, &axes))
        return {call("softmax", {print(x).text, std::string("axis=") + axes_text(axes)}), kAtom};
    }
    if (is_unary(n->op)) return {call(op_name(n->op), {arg(n->inputs[0])}), kAtom};
    return {"?", kAtom};
  }
};

}  // namespace

std::string to_string(const NodePtr& node) {
  if (!node) return "<null>";
  Printer p;
  return p.print(node.get()).text;
}

}  // namespace hamux::ir
