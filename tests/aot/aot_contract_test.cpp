// tests/aot/aot_contract_test.cpp - the self-contained contraction loops of AOT kernels
// (aot_contract.cpp) against the interpreter, on einsums and convolutions chosen to take
// every path: the two register-tiled GEMM shapes with all remainders (rows, vectors,
// single lanes), the generic nest (repeated letters, one and three operands), batched
// and shared operands; conv2d and its input gradient with register accumulators and
// with the memory fallback (many output channels), strides, SAME/VALID, kernel gradient.
#include "aot_support.h"
#include "codegen/loops/lower.h"
#include "graph/builder.h"

namespace hamux::aot_test {
namespace {

using ir::NodePtr;

struct Graph {
  std::string name;
  NodePtr out;
};

// Runs the AOT object of lower_graphs({g}) and the interpreter on the same random values.
template <class T>
void check_graph(const Graph& g, int64_t batch, double tol) {
  const ir::DType dt = std::is_same_v<T, float> ? ir::DType::F32 : ir::DType::F64;
  const codegen::Program p = codegen::lower_graphs({g.out}, dt, /*small_einsum_work=*/0);  // the emitted einsum loops
  LoadedObject obj(codegen::compile_program_aot(p, "k", {}));
  RawKernel k(obj, "k", p);

  std::mt19937 rng(42);
  std::uniform_real_distribution<double> u(-1, 1);
  auto random = [&](Shape s) {
    Tensor<T> t(std::move(s));
    for (T& v : t.data) v = static_cast<T>(u(rng));
    return t;
  };
  std::vector<Tensor<T>> inputs;
  interp::ParamValues<T> params;
  std::vector<void*> slots(p.num_external);
  for (auto& [index, buf] : p.inputs) {
    Shape s{batch};
    s.insert(s.end(), p.buffers[buf].shape.begin(), p.buffers[buf].shape.end());
    if (static_cast<int>(inputs.size()) <= index) inputs.resize(index + 1);
    inputs[index] = random(s);
  }
  for (auto& [index, buf] : p.inputs) slots[p.buffers[buf].external] = inputs[index].data.data();
  for (auto& [name, buf] : p.params) params[name] = random(p.buffers[buf].shape);
  for (auto& [name, buf] : p.params) slots[p.buffers[buf].external] = params[name].data.data();
  const std::vector<Tensor<T>> want = interp::evaluate<T>({g.out}, inputs, params, batch);
  std::vector<T> got;
  for (const codegen::Buffer& b : p.buffers)
    if (b.kind == codegen::BufferKind::Output) {
      got.assign((b.batched ? batch : 1) * b.elements(), T(-7));
      slots[b.external] = got.data();
    }
  k(slots.data(), 0, batch, 1);
  std::vector<T> expect = want[0].data;
  if (expect.size() != got.size()) expect.resize(got.size());  // a shared output: sample 0
  EXPECT_LE(scaled_error(got, expect), tol) << g.name << " " << ir::dtype_name(dt) << " batch " << batch;
}

std::vector<Graph> graphs(ir::DType dt) {
  auto x = [&](int i, Shape s) { return ir::input(i, "x" + std::to_string(i), s, dt); };
  auto w = [&](const std::string& n, Shape s) { return ir::param(n, s, dt); };
  auto conv = [&](ir::Op op, NodePtr a, NodePtr b, int64_t stride, const char* pad, Shape shape) {
    ir::Attrs at;
    at.strides = {stride, stride};
    at.padding = pad;
    at.shape = shape;
    return ir::make(op, {a, b}, at);
  };
  return {
      // axpy tiles: rows i (static), vectors of k with lane and single remainders.
      {"ij,jk->ik", ir::einsum("ij,jk->ik", {x(0, {6, 19}), w("W", {19, 45})})},
      // axpy tiles with the sample letter as rows (x @ W).
      {"j,jk->k", ir::einsum("j,jk->k", {x(0, {33}), w("W", {33, 70})})},
      // dot tiles: rows i, columns = samples, k last in both (W @ x).
      {"ij,j->i", ir::einsum("ij,j->i", {w("W", {13, 37}), x(0, {37})})},
      {"ij,kj->ik", ir::einsum("ij,kj->ik", {x(0, {5, 21}), w("W", {11, 21})})},
      // both operands batched, an extra shared letter h.
      {"hqd,hkd->hqk", ir::einsum("hqd,hkd->hqk", {x(0, {2, 5, 9}), x(1, {2, 6, 9})})},
      {"qhy,khy->hqk", ir::einsum("qhy,khy->hqk", {x(0, {5, 3, 4}), x(1, {6, 3, 4})})},
      // generic nests.
      {"i,ij,j->", ir::einsum("i,ij,j->", {x(0, {7}), w("W", {7, 9}), x(1, {9})})},
      {"ii->i", ir::einsum("ii->i", {x(0, {6, 6})})},
      {"i->ii", ir::einsum("i->ii", {x(0, {5})})},
      {"ij->i", ir::einsum("ij->i", {x(0, {4, 17})})},
      {"i,i->", ir::einsum("i,i->", {x(0, {29}), x(1, {29})})},
      {"ij,jk->ik shared", ir::einsum("ij,jk->ik", {w("A", {5, 6}), w("B", {6, 7})})},
      // convolutions: x [H,W,C], k [KH,KW,C,O].
      {"conv SAME s1 O16", conv(ir::Op::Conv2d, x(0, {9, 8, 3}), w("K", {3, 3, 3, 16}), 1, "SAME", {})},
      {"conv VALID s2 O13", conv(ir::Op::Conv2d, x(0, {9, 10, 2}), w("K", {3, 2, 2, 13}), 2, "VALID", {})},
      {"conv SAME s2 O200 (memory)", conv(ir::Op::Conv2d, x(0, {6, 5, 2}), w("K", {3, 3, 2, 200}), 2, "SAME", {})},
      {"input_grad SAME s1", conv(ir::Op::Conv2dInputGrad, x(0, {9, 8, 16}), w("K", {3, 3, 3, 16}), 1, "SAME", {9, 8, 3})},
      {"input_grad VALID s2", conv(ir::Op::Conv2dInputGrad, x(0, {4, 5, 13}), w("K", {3, 2, 2, 13}), 2, "VALID", {9, 10, 2})},
      {"input_grad SAME s2", conv(ir::Op::Conv2dInputGrad, x(0, {5, 4, 7}), w("K", {3, 3, 2, 7}), 2, "SAME", {9, 8, 2})},
      {"input_grad O200 (memory)", conv(ir::Op::Conv2dInputGrad, x(0, {3, 3, 200}), w("K", {3, 3, 2, 200}), 2, "SAME", {6, 5, 2})},
      {"kernel_grad SAME s1", conv(ir::Op::Conv2dKernelGrad, x(0, {9, 8, 3}), x(1, {9, 8, 16}), 1, "SAME", {3, 3, 3, 16})},
      {"kernel_grad VALID s2", conv(ir::Op::Conv2dKernelGrad, x(0, {9, 10, 2}), x(1, {4, 5, 13}), 2, "VALID", {3, 2, 2, 13})},
  };
}

TEST(AotContractions, MatchTheInterpreter) {
  for (int64_t batch : {1, 3, 9}) {
    for (const Graph& g : graphs(ir::DType::F32)) check_graph<float>(g, batch, 1e-5);
    for (const Graph& g : graphs(ir::DType::F64)) check_graph<double>(g, batch, 1e-13);
  }
}

}  // namespace
}  // namespace hamux::aot_test
