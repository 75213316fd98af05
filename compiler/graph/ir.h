// compiler/graph/ir.h - the tensor-expression IR every part of hamux shares.
//
// An expression is a DAG of immutable Nodes. Each node has an op from a deliberately
// small primitive set (everything the model format offers - mean, softmax, matmul, dot,
// square, sub, log1p ... - lowers into these in the frontend), its inputs, its static
// shape, its dtype and a few attributes. Models are written per sample, so shapes here
// never include a batch dimension; batching is the interpreter's / runtime's job.
//
// Nodes are built only through `make` (and the helpers in builder.h), which checks the
// inputs and infers the shape; a shape error throws ShapeError with a message such as
// "shapes [3,4] and [5] do not broadcast". Each node carries a structural hash (op,
// attributes, the hashes of its inputs), so identical subexpressions can be found and
// shared (see passes/cse.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "hamux/tensor.h"

namespace hamux::ir {

enum class DType : uint8_t { F32, F64 };
const char* dtype_name(DType t);  // "float32" / "float64"

enum class Op : uint8_t {
  // Leaves.
  Const,  // every element equals attrs.value; any shape
  Input,  // attrs.index-th input of the expression (a state or an activation), attrs.name
  Param,  // the model parameter attrs.name

  // Elementwise unary; output shape = input shape.
  Neg, Exp, Log, Log1p, Sqrt, Abs,
  Sign,      // -1, 0, 1
  Step,      // 1 where x > 0 else 0 (derivative of relu)
  Relu, Sigmoid, Tanh,
  Softplus,  // log(1 + exp(x)), evaluated stably
  LogCosh,   // log(cosh(x)), evaluated stably

  // Elementwise binary; both inputs have the SAME shape (broadcasting is explicit,
  // through Broadcast nodes - see builder.h).
  Add, Sub, Mul, Div, Pow, Max, Min,
  Greater,  // 1 where a > b else 0
  Equal,    // 1 where a == b else 0

  // Reductions over attrs.axes (sorted, non-negative, non-empty) with attrs.keepdims.
  Sum, ReduceMax,
  LogSumExp,  // log(sum(exp(x))), max-subtracted

  // Layout.
  Broadcast,  // NumPy broadcast of the input to attrs.shape
  Reshape,    // same elements, new attrs.shape (row-major)
  Transpose,  // attrs.axes is the permutation: out.shape[i] = in.shape[perm[i]]

  // Contractions.
  // attrs.spec is explicit ("ij,jk->ik"), one operand term per input. The output term may
  // repeat a letter ("i->ii"): such positions receive the value, all others are zero
  // (this is what the gradient of an einsum with a repeated input index needs).
  Einsum,
  // Inputs: x [H,W,C], kernel [KH,KW,C,O]; attrs.strides, attrs.padding ("SAME"/"VALID",
  // TensorFlow conventions). Output [OH,OW,O].
  Conv2d,
  // Transposed convolution = gradient of Conv2d w.r.t. x. Inputs: g [OH,OW,O], kernel;
  // attrs.shape is the shape of x; attrs.strides / attrs.padding of the forward conv.
  Conv2dInputGrad,
  // Gradient of Conv2d w.r.t. the kernel. Inputs: x [H,W,C], g [OH,OW,O]; attrs.shape is
  // the kernel shape; attrs.strides / attrs.padding of the forward conv.
  Conv2dKernelGrad,
};
const char* op_name(Op op);  // "add", "logsumexp", "conv2d_input_grad", ...

int op_arity(Op op);  // number of inputs, or -1 for variadic (Einsum)
bool is_leaf(Op op);
bool is_unary(Op op);
bool is_binary(Op op);
bool is_reduction(Op op);
bool is_contraction(Op op);  // einsum and the three convolutions

struct Attrs {
  double value = 0.0;             // Const
  int index = -1;                 // Input
  std::string name;               // Input, Param
  std::vector<int64_t> axes;      // reductions (axes), Transpose (permutation)
  bool keepdims = false;          // reductions
  Shape shape;                    // Broadcast/Reshape target; conv grads: result shape
  std::string spec;               // Einsum
  std::vector<int64_t> strides;   // conv ops: {sh, sw}
  std::string padding;            // conv ops: "SAME" or "VALID"
};

struct Node;
using NodePtr = std::shared_ptr<const Node>;

struct Node {
  Op op;
  DType dtype;
  Shape shape;
  std::vector<NodePtr> inputs;
  Attrs attrs;
  uint64_t hash;  // structural: op, dtype, shape, attrs and the hashes of the inputs

  // Releases the inputs without recursion: a graph may be a chain of hundreds of thousands
  // of nodes (the total energy of a model of 64k layers), one stack frame each otherwise.
  ~Node();
};

// Thrown by `make` and the builder helpers when inputs do not fit the op.
// The frontend adds the JSON pointer and rethrows it as hamux::Error.
class ShapeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Creates a node: validates arity, dtypes, attributes and shapes, infers the shape
// (leaves take `attrs.shape`), normalises attributes (negative axes), computes the hash.
NodePtr make(Op op, std::vector<NodePtr> inputs, Attrs attrs = {});

// Leaf constructors.
NodePtr constant(double value, DType dtype, Shape shape = {});
NodePtr input(int index, const std::string& name, const Shape& shape, DType dtype);
NodePtr param(const std::string& name, const Shape& shape, DType dtype);

// The structural hash `n` would have with `inputs` in place of its own (CSE looks up the
// commuted form of an add without building it).
uint64_t hash_with_inputs(const Node& n, const std::vector<NodePtr>& inputs);

// Equality of attributes as structurally_equal compares them (constants bitwise).
bool attrs_equal(const Attrs& a, const Attrs& b);

// The shape of a reduction's input with the reduced axes kept as size 1 (its keepdims
// shape): where a reduced value lines up with the input again.
Shape keepdims_shape(const Node& reduction);

// Structural equality (op, dtype, shape, attrs, inputs recursively; pointer-equal inputs
// short-circuit). Two structurally equal nodes always compute the same values.
bool structurally_equal(const NodePtr& a, const NodePtr& b);

// All nodes reachable from `roots`, inputs before users (each node once).
std::vector<const Node*> topological_order(const std::vector<NodePtr>& roots);

// Conv2d geometry shared by shape inference, the interpreter and codegen.
struct ConvGeometry {
  int64_t out_h, out_w;
  int64_t pad_top, pad_left;  // zero padding before the first row / column
};
ConvGeometry conv_geometry(int64_t in_h, int64_t in_w, int64_t k_h, int64_t k_w,
                           int64_t stride_h, int64_t stride_w, const std::string& padding);

// A parsed explicit einsum spec: one letter string per operand and the output letters.
struct EinsumSpec {
  std::vector<std::string> operands;
  std::string output;
};
// Parses "ij,jk->ik"; throws ShapeError on a malformed spec.
EinsumSpec parse_einsum(const std::string& spec);

}  // namespace hamux::ir
