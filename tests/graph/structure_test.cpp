// tests/graph/structure_test.cpp - structural hashing and equality, topological order,
// conv_geometry and parse_einsum.
#include <gtest/gtest.h>

#include <cmath>
#include <unordered_map>

#include "graph/builder.h"
#include "graph/ir.h"

namespace hamux::ir {
namespace {

// softmax(x W) . y, built from scratch each call.
NodePtr build(double beta, const std::string& spec = "i,ij->j") {
  NodePtr x = input(0, "x", {3}, DType::F32);
  NodePtr y = input(1, "y", {4}, DType::F32);
  NodePtr W = param("W", {3, 4}, DType::F32);
  NodePtr h = scale(beta, einsum(spec, {x, W}));
  return einsum("j,j->", {softmax(h, 0), y});
}

TEST(Structure, EqualGraphsBuiltTwiceHashAndCompareEqual) {
  NodePtr a = build(2.0), b = build(2.0);
  EXPECT_NE(a, b);
  EXPECT_EQ(a->hash, b->hash);
  EXPECT_TRUE(structurally_equal(a, b));
  EXPECT_TRUE(structurally_equal(a, a));
}

TEST(Structure, DifferentAttributesDiffer) {
  NodePtr base = build(2.0);
  NodePtr other_const = build(3.0);
  EXPECT_NE(base->hash, other_const->hash);
  EXPECT_FALSE(structurally_equal(base, other_const));
  EXPECT_FALSE(structurally_equal(build(2.0, "i,ij->j"), build(2.0, "k,kj->j")));

  NodePtr x = input(0, "x", {2, 3}, DType::F32);
  auto differ = [](const NodePtr& p, const NodePtr& q) {
    EXPECT_FALSE(structurally_equal(p, q));
    EXPECT_NE(p->hash, q->hash);
  };
  differ(reduce(Op::Sum, x, {0}, false), reduce(Op::Sum, x, {1}, false));      // axes
  differ(reduce(Op::Sum, x, {0}, false), reduce(Op::Sum, x, {0}, true));       // keepdims
  differ(reduce(Op::Sum, x, {0}, false), reduce(Op::ReduceMax, x, {0}, false));  // op
  differ(reshape(x, {3, 2}), reshape(x, {6}));                                  // shape
  differ(input(0, "x", {2}, DType::F32), input(1, "x", {2}, DType::F32));       // index
  differ(input(0, "x", {2}, DType::F32), input(0, "h", {2}, DType::F32));       // name
  differ(input(0, "x", {2}, DType::F32), input(0, "x", {2}, DType::F64));       // dtype
  differ(param("W", {2}, DType::F32), param("V", {2}, DType::F32));
  differ(constant(1.0, DType::F32, {2}), constant(1.0, DType::F32, {3}));
  differ(sub(x, x), sub(x, make(Op::Exp, {x})));

  Attrs a, b;
  a.strides = {1, 1};
  a.padding = "SAME";
  b = a;
  b.padding = "VALID";
  NodePtr img = input(0, "img", {5, 5, 1}, DType::F32);
  NodePtr k = param("k", {3, 3, 1, 2}, DType::F32);
  differ(make(Op::Conv2d, {img, k}, a), make(Op::Conv2d, {img, k}, b));
  b = a;
  b.strides = {2, 1};
  differ(make(Op::Conv2d, {img, k}, a), make(Op::Conv2d, {img, k}, b));
}

TEST(Structure, InputOrderMatters) {
  NodePtr x = input(0, "x", {2}, DType::F64), y = input(1, "y", {2}, DType::F64);
  EXPECT_FALSE(structurally_equal(sub(x, y), sub(y, x)));
  EXPECT_NE(sub(x, y)->hash, sub(y, x)->hash);
}

TEST(Structure, SignedZerosHashAlikeButAreNotEqual) {
  NodePtr p = constant(0.0, DType::F64), m = constant(-0.0, DType::F64);
  EXPECT_EQ(p->hash, m->hash);
  EXPECT_FALSE(structurally_equal(p, m));
  EXPECT_TRUE(structurally_equal(constant(NAN, DType::F64), constant(NAN, DType::F64)));
}

TEST(Structure, TopologicalOrderPutsInputsFirstAndVisitsSharedNodesOnce) {
  NodePtr x = input(0, "x", {3}, DType::F64);
  NodePtr e = make(Op::Exp, {x});
  NodePtr s = add(e, e);  // e shared
  NodePtr t = make(Op::Tanh, {s});
  NodePtr u = mul(t, e);
  std::vector<const Node*> order = topological_order({u, s});
  ASSERT_EQ(order.size(), 5u);  // x e s t u
  std::unordered_map<const Node*, size_t> pos;
  for (size_t i = 0; i < order.size(); ++i) pos[order[i]] = i;
  EXPECT_EQ(pos.size(), order.size());
  for (const Node* n : order)
    for (const NodePtr& in : n->inputs) EXPECT_LT(pos.at(in.get()), pos.at(n));
  EXPECT_EQ(order.back(), u.get());
  EXPECT_TRUE(topological_order({}).empty());
  EXPECT_EQ(topological_order({nullptr, x}).size(), 1u);
}

TEST(Structure, TopologicalOrderOfADeepChainDoesNotOverflow) {
  NodePtr n = input(0, "x", {}, DType::F64);
  const NodePtr start = n;
  for (int i = 0; i < 200000; ++i) n = make(Op::Neg, {n});
  std::vector<const Node*> order = topological_order({n});
  ASSERT_EQ(order.size(), 200001u);
  EXPECT_EQ(order.front(), start.get());
  EXPECT_EQ(order.back(), n.get());
  // Release the chain iteratively too: the default recursive destruction of 200000
  // nested shared_ptrs would itself be deep.
  std::vector<NodePtr> keep;
  for (const Node* p = n.get(); !p->inputs.empty(); p = p->inputs[0].get()) keep.push_back(p->inputs[0]);
  // Top first: each release then frees exactly one node.
  n.reset();
  for (NodePtr& p : keep) p.reset();
}

TEST(ConvGeometry, TensorFlowSameAndValid) {
  // SAME: out = ceil(in / stride); padding (out-1)*stride + k - in, the odd one at the end.
  ConvGeometry g = conv_geometry(5, 6, 3, 3, 1, 1, "SAME");
  EXPECT_EQ(g.out_h, 5);
  EXPECT_EQ(g.out_w, 6);
  EXPECT_EQ(g.pad_top, 1);
  EXPECT_EQ(g.pad_left, 1);
  g = conv_geometry(4, 4, 3, 3, 2, 2, "SAME");  // total padding 1 -> 0 before, 1 after
  EXPECT_EQ(g.out_h, 2);
  EXPECT_EQ(g.pad_top, 0);
  EXPECT_EQ(g.pad_left, 0);
  g = conv_geometry(5, 7, 4, 2, 2, 3, "SAME");  // h: out 3, pad 3 -> 1; w: out 3, pad 1 -> 0
  EXPECT_EQ(g.out_h, 3);
  EXPECT_EQ(g.out_w, 3);
  EXPECT_EQ(g.pad_top, 1);
  EXPECT_EQ(g.pad_left, 0);
  g = conv_geometry(8, 8, 1, 1, 3, 3, "SAME");  // no padding needed
  EXPECT_EQ(g.out_h, 3);
  EXPECT_EQ(g.pad_top, 0);
  // VALID: out = floor((in - k) / stride) + 1, no padding; 0 when the kernel does not fit.
  g = conv_geometry(7, 6, 3, 2, 2, 3, "VALID");
  EXPECT_EQ(g.out_h, 3);
  EXPECT_EQ(g.out_w, 2);
  EXPECT_EQ(g.pad_top, 0);
  EXPECT_EQ(g.pad_left, 0);
  g = conv_geometry(2, 6, 3, 3, 1, 1, "VALID");
  EXPECT_EQ(g.out_h, 0);
}

TEST(ParseEinsum, SplitsOperandsAndOutput) {
  EinsumSpec s = parse_einsum("ij,jk->ik");
  EXPECT_EQ(s.operands, (std::vector<std::string>{"ij", "jk"}));
  EXPECT_EQ(s.output, "ik");
  s = parse_einsum("i->");
  EXPECT_EQ(s.operands, (std::vector<std::string>{"i"}));
  EXPECT_EQ(s.output, "");
  s = parse_einsum(",i->i");
  EXPECT_EQ(s.operands, (std::vector<std::string>{"", "i"}));
  s = parse_einsum("aB,Bc,c->aB");
  EXPECT_EQ(s.operands, (std::vector<std::string>{"aB", "Bc", "c"}));
  EXPECT_EQ(s.output, "aB");
  auto error = [](const std::string& spec) {
    try {
      parse_einsum(spec);
    } catch (const ShapeError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_EQ(error("ij,jk"), "einsum: spec 'ij,jk' has no '->'");
  EXPECT_EQ(error("i j->i"), "einsum: spec 'i j->i' has invalid character ' '");
  EXPECT_EQ(error("ij->i->j"), "einsum: spec 'ij->i->j' has invalid character '-'");
  EXPECT_EQ(error("i...->i"), "einsum: spec 'i...->i' has invalid character '.'");
}

TEST(Structure, ADeepChainIsReleasedWithoutRecursion) {
  // The total energy of a model of 64k layers is a chain of about 200k nodes; releasing it
  // node by node recursively overflowed the stack (issue 19). A million links, with a
  // shared node in the middle that outlives the rest.
  NodePtr x = input(0, "x", {2}, DType::F32);
  NodePtr chain = x, middle;
  for (int i = 0; i < 1000000; ++i) {
    chain = make(Op::Add, {chain, x});
    if (i == 500000) middle = chain;
  }
  const std::weak_ptr<const Node> last = chain;
  chain.reset();
  EXPECT_TRUE(last.expired());
  ASSERT_TRUE(middle);
  EXPECT_EQ(middle->inputs.size(), 2u);  // the shared half is intact
  EXPECT_EQ(middle->inputs[1], x);
  middle.reset();
  EXPECT_EQ(x.use_count(), 1);  // every link is gone
}

}  // namespace
}  // namespace hamux::ir
