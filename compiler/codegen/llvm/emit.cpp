// compiler/codegen/llvm_emit.cpp - emits the loop program as LLVM IR.
#include "codegen/llvm/emit.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Support/raw_ostream.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <unordered_set>

#include "codegen/kernels/kernels.h"
#include "codegen/llvm/contraction_loops.h"
#include "graph/internal_error.h"

namespace hamux::codegen {
namespace {

using llvm::Value;

class Emitter {
 public:
  Emitter(const Program& p, llvm::LLVMContext& ctx, llvm::Module& m, const Target& target, const EmitOptions& options)
      : p_(p), ctx_(ctx), m_(m), b_(ctx), target_(target), options_(options) {
    t_ = p.dtype == ir::DType::F32 ? llvm::Type::getFloatTy(ctx) : llvm::Type::getDoubleTy(ctx);
    i64_ = llvm::Type::getInt64Ty(ctx);
    ptr_ = llvm::PointerType::getUnqual(ctx);
  }

  // The step function `name` and its prologue `name`_prepare (llvm_emit.h).
  void emit(const std::string& name) {
    // NAME_prepare(buffers, shared): the prologue, once per set of parameter buffers.
    begin_function(name + "_prepare", {ptr_, ptr_}, llvm::Function::ExternalLinkage);
    bufs_ = f_->getArg(0);
    shared_ = f_->getArg(1);
    b0_ = b_.getInt64(0);  // prologue stages have no batched operand; one "slice"
    b1_ = b_.getInt64(1);
    ws_ = nullptr;
    ksteps_ = b_.getInt64(0);
    with_noalias_buffers(name + "_prepare.stages", {&p_.prologue}, [&] { stages(p_.prologue, 0, p_.prologue.size()); });

    // NAME(buffers, batch_begin, batch_end, shared, workspace, k_steps): body and epilogue.
    begin_function(name, {ptr_, i64_, i64_, ptr_, ptr_, i64_}, llvm::Function::ExternalLinkage);
    bufs_ = f_->getArg(0);
    b0_ = f_->getArg(1);
    b1_ = f_->getArg(2);
    shared_ = f_->getArg(3);
    ws_ = f_->getArg(4);
    ksteps_ = f_->getArg(5);
    with_noalias_buffers(name + ".stages", {&p_.body, &p_.epilogue}, [&] { steps(); });
  }

 private:
  // The body and the epilogue: k_steps steps, then the state's activations (and energy).
  void steps() {
    if (p_.epilogue_is_body_prefix > 0) {
      // for (step = 0;; ++step) { prefix; if (step == k_steps) break; rest of the body }
      const size_t n = std::min(p_.epilogue_is_body_prefix, p_.body.size());
      llvm::BasicBlock* pre = b_.GetInsertBlock();
      auto* head = llvm::BasicBlock::Create(ctx_, "step", f_);
      auto* rest = llvm::BasicBlock::Create(ctx_, "step.rest", f_);
      auto* exit = llvm::BasicBlock::Create(ctx_, "step.end", f_);
      b_.CreateBr(head);
      b_.SetInsertPoint(head);
      llvm::PHINode* iv = b_.CreatePHI(i64_, 2, "step");
      iv->addIncoming(b_.getInt64(0), pre);
      stages(p_.body, 0, n);
      b_.CreateCondBr(b_.CreateICmpSLT(iv, ksteps_), rest, exit);
      b_.SetInsertPoint(rest);
      stages(p_.body, n, p_.body.size());
      iv->addIncoming(b_.CreateAdd(iv, b_.getInt64(1), "", true, true), b_.GetInsertBlock());
      b_.CreateBr(head);
      b_.SetInsertPoint(exit);
    } else {
      loop(b_.getInt64(0), ksteps_, "step", [&](Value*) { stages(p_.body, 0, p_.body.size()); });
    }
    const size_t optional = p_.optional_from >= 0 ? std::min<size_t>(p_.optional_from, p_.epilogue.size())
                                                  : p_.epilogue.size();
    stages(p_.epilogue, 0, optional);
    if (optional < p_.epilogue.size()) {
      // if (buffers[optional_output] != null) { the remaining stages }
      auto* run = llvm::BasicBlock::Create(ctx_, "optional", f_);
      auto* skip = llvm::BasicBlock::Create(ctx_, "optional.end", f_);
      b_.CreateCondBr(b_.CreateIsNotNull(base(p_.optional_output)), run, skip);
      b_.SetInsertPoint(run);
      stages(p_.epilogue, optional, p_.epilogue.size());
      b_.CreateBr(skip);
      b_.SetInsertPoint(skip);
    }
  }

  // Stages [from, to) of `list`, here or, when there are many (is_split), in functions of
  // at most kStagesPerPart stages each. Several of LLVM's function passes cost more than
  // linear time in the size of the function: GVN asks, for every load, which of the
  // earlier blocks may have written it; the loop passes update the dominator tree and
  // scalar evolution of the whole function for every loop they change. One function of
  // all the stages took 425 s to compile for a model of 256 small layers; parts of bounded
  // size keep the total linear. A call per part per step costs nothing next to its loops,
  // and little is lost: stages talk through buffers in memory, not through registers.
  static bool split(const std::vector<Stage>& list) { return list.size() > kSplitAbove; }
  void stages(const std::vector<Stage>& list, size_t from, size_t to) {
    if (!in_parts_) {
      for (size_t k = from; k < to; ++k) stage(list[k]);
      return;
    }
    for (size_t k = from, end; k < to; k = end) {
      // A part takes only the buffers its stages use, and computes their base pointers
      // itself: bases computed once in the caller would all be live across its step loop
      // (a register allocator's worst case), and arguments of every buffer to every part
      // would grow as (layers)^2. It ends after kStagesPerPart stages or once its stages
      // use kBuffersPerPart buffers.
      std::vector<int> used;
      for (end = k; end < to && end - k < kStagesPerPart && used.size() < kBuffersPerPart; ++end) {
        add_buffers(list[end], used);
        used = sorted_unique(std::move(used));
      }
      const std::string part = f_->getName().str() + ".part" + std::to_string(parts_++);
      with_kernel_arguments(part, [&] {
        outline(part + ".stages", used, [&] {
          for (size_t j = k; j < end; ++j) stage(list[j]);
        });
      });
    }
  }

  static std::vector<int> sorted_unique(std::vector<int> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
  }

  // Appends to `used` every buffer that stage `s` reads or writes: its output and operands,
  // the materialised nodes it is bound to, and the inputs and params among its leaves
  // (the walk stops at bound nodes, whose operands other stages computed).
  void add_buffers(const Stage& s, std::vector<int>& used) const {
    used.push_back(s.out);
    used.insert(used.end(), s.args.begin(), s.args.end());
    for (const auto& [node, buf] : s.bound) used.push_back(buf);
    if (!s.expr) return;
    std::vector<const ir::Node*> todo{s.expr.get()};
    std::unordered_set<const ir::Node*> seen{s.expr.get()};
    while (!todo.empty()) {
      const ir::Node* n = todo.back();
      todo.pop_back();
      if (n->op == ir::Op::Input || n->op == ir::Op::Param) {
        if (const int buf = p_.buffer_of(n); buf >= 0) used.push_back(buf);
        continue;
      }
      if (n != s.expr.get() && s.bound.count(n)) continue;
      for (const ir::NodePtr& in : n->inputs)
        if (seen.insert(in.get()).second) todo.push_back(in.get());
    }
  }

  // Emits the current function as a call of an internal function `inner` that takes the
  // base pointer of every buffer that `lists` use as its own `noalias` argument, and
  // `stages` into `inner`. External buffers are distinct arrays by the kernel's contract and
  // temporaries distinct regions of the workspace; as noalias arguments they are distinct
  // objects to LLVM's basic alias analysis, so no loop that reads one buffer and writes
  // another needs a runtime overlap check with a full-length scalar copy of the loop for the
  // overlapping case (code that never runs but costs compile time), and the proof costs
  // nothing: the same facts as scoped alias metadata on every access made GVN and LICM 4x
  // slower on readme's kernel.
  // `inner` stays out of line: inlined, its noalias arguments would become that metadata.
  // With `parts` (a program split by stages()), there is no such function: each part
  // computes the bases of the buffers it uses and passes them to its own noalias function.
  // One function taking every buffer (thousands, for a model of many layers) would make
  // LLVM's interprocedural passes (called-value propagation, function attributes, IPSCCP)
  // superlinear.
  template <class Stages>
  void with_noalias_buffers(const std::string& inner, std::initializer_list<const std::vector<Stage>*> lists,
                            Stages stages) {
    bases_.assign(p_.buffers.size(), nullptr);
    base_owner_.assign(p_.buffers.size(), -1);
    bool parts = false;
    for (const auto* list : lists) parts = parts || split(*list);
    if (parts) {
      in_parts_ = true;
      stages();
      in_parts_ = false;
    } else {
      std::vector<int> used;
      for (const auto* list : lists)
        for (const Stage& s : *list) add_buffers(s, used);
      if (p_.optional_output >= 0) used.push_back(p_.optional_output);
      outline(inner, sorted_unique(std::move(used)), stages);
    }
    end_function();
  }

  // Emits a new internal, never inlined function `name` of `params`, whose body `body`
  // emits (with f_, the builder and function_id_ on the new function), and a call of it
  // with `args` here.
  template <class Body>
  void call_new_function(const std::string& name, const std::vector<llvm::Type*>& params,
                         const std::vector<Value*>& args, Body body) {
    llvm::Function* outer = f_;
    llvm::BasicBlock* outer_entry = entry_;
    llvm::BasicBlock* outer_start = start_;
    const int outer_id = function_id_;
    llvm::IRBuilderBase::InsertPoint call_site = b_.saveIP();
    begin_function(name, params, llvm::Function::InternalLinkage);
    f_->addFnAttr(llvm::Attribute::NoInline);
    body();
    end_function();
    llvm::Function* callee = f_;
    f_ = outer, entry_ = outer_entry, start_ = outer_start, function_id_ = outer_id;
    b_.restoreIP(call_site);
    b_.CreateCall(callee, args);
  }

  // `body` in a function with the kernel's own arguments (buffers, shared, workspace; b0,
  // b1, k_steps), which computes the bases it needs itself.
  template <class Body>
  void with_kernel_arguments(const std::string& name, Body body) {
    llvm::Value* null = llvm::ConstantPointerNull::get(llvm::PointerType::getUnqual(ctx_));
    Value *bufs = bufs_, *shared = shared_, *ws = ws_, *b0 = b0_, *b1 = b1_, *k = ksteps_;
    call_new_function(name, {ptr_, ptr_, ptr_, i64_, i64_, i64_}, {bufs, shared, ws ? ws : null, b0, b1, k}, [&] {
      bufs_ = f_->getArg(0);
      shared_ = f_->getArg(1);
      ws_ = ws ? f_->getArg(2) : nullptr;  // (the prologue has no workspace)
      b0_ = f_->getArg(3);
      b1_ = f_->getArg(4);
      ksteps_ = f_->getArg(5);
      body();
    });
    bufs_ = bufs, shared_ = shared, ws_ = ws, b0_ = b0, b1_ = b1, ksteps_ = k;
  }

  // `body` in a function that takes the base pointers of the buffers `used` (sorted,
  // distinct) as noalias arguments (and b0, b1, k_steps). There, other buffers have no base
  // (base() refuses them): bases_ entries are swapped for the arguments and back, so a part
  // costs the buffers it uses, not all of them.
  template <class Body>
  void outline(const std::string& name, const std::vector<int>& used, Body body) {
    const int outer_id = function_id_;
    std::vector<Value*> args;
    for (int buf : used) args.push_back(base(buf));
    const unsigned n = static_cast<unsigned>(args.size());
    args.insert(args.end(), {b0_, b1_, ksteps_});
    std::vector<llvm::Type*> params(n, ptr_);
    params.insert(params.end(), {i64_, i64_, i64_});
    Value *bufs = bufs_, *b0 = b0_, *b1 = b1_, *k = ksteps_;
    call_new_function(name, params, args, [&] {
      for (unsigned i = 0; i < n; ++i) {
        f_->addParamAttr(i, llvm::Attribute::NoAlias);
        bases_[used[i]] = f_->getArg(i);
        base_owner_[used[i]] = function_id_;
      }
      bufs_ = nullptr;  // bases of other buffers cannot be computed here
      b0_ = f_->getArg(n);
      b1_ = f_->getArg(n + 1);
      ksteps_ = f_->getArg(n + 2);
      body();
    });
    bufs_ = bufs, b0_ = b0, b1_ = b1, ksteps_ = k;
    for (unsigned i = 0; i < n; ++i) {
      bases_[used[i]] = args[i];
      base_owner_[used[i]] = outer_id;
    }
  }

  void begin_function(const std::string& name, const std::vector<llvm::Type*>& params,
                      llvm::GlobalValue::LinkageTypes linkage) {
    auto* fty = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx_), params, false);
    f_ = llvm::Function::Create(fty, linkage, name, m_);
    f_->setDoesNotThrow();
    target_.annotate(*f_);
    entry_ = llvm::BasicBlock::Create(ctx_, "entry", f_);
    start_ = llvm::BasicBlock::Create(ctx_, "start", f_);
    b_.SetInsertPoint(start_);
    function_id_ = functions_++;
  }
  void end_function() {
    b_.CreateRetVoid();
    llvm::IRBuilder<> eb(entry_);
    eb.CreateBr(start_);
  }

  // ---- buffers ----
  // The base pointer of buffer `buf` in the current function: an argument of an outlined
  // function, or computed (once, in the entry block) from the kernel's arguments.
  Value* base(int buf) {
    if (buf < 0 || static_cast<size_t>(buf) >= bases_.size()) HAMUX_INTERNAL("no buffer " + std::to_string(buf));
    if (base_owner_[buf] == function_id_) return bases_[buf];
    if (!bufs_) HAMUX_INTERNAL("buffer " + std::to_string(buf) + " is not an argument of " + f_->getName().str());
    const Buffer& bu = p_.buffers[buf];
    llvm::IRBuilder<> eb(entry_);
    Value* v;
    if (bu.external >= 0) {
      v = eb.CreateLoad(ptr_, eb.CreateGEP(ptr_, bufs_, eb.getInt64(bu.external)), bu.name);
    } else if (!bu.batched) {
      v = eb.CreateGEP(eb.getInt8Ty(), shared_, eb.getInt64(bu.ws_offset), bu.name);
    } else if (!ws_) {
      v = llvm::ConstantPointerNull::get(llvm::PointerType::getUnqual(ctx_));  // not in the prologue
    } else {
      // Temporaries hold only the slice: rebase so that sample b is at b * elements.
      Value* off = eb.CreateMul(eb.CreateSub(b1_, b0_, "nb"), eb.getInt64(bu.ws_offset));
      Value* slice = eb.CreateGEP(eb.getInt8Ty(), ws_, off);
      v = eb.CreateGEP(t_, slice, eb.CreateNeg(eb.CreateMul(b0_, eb.getInt64(bu.elements()))), bu.name);
    }
    bases_[buf] = v;
    base_owner_[buf] = function_id_;
    return v;
  }

  // Address of element `lin` of sample `b` (b ignored for shared buffers).
  Value* address(int buf, Value* b, Value* lin) {
    const Buffer& bu = p_.buffers[buf];
    if (bu.batched) lin = b_.CreateAdd(b_.CreateMul(b, b_.getInt64(bu.elements())), lin);
    return b_.CreateGEP(t_, base(buf), lin);
  }
  // Pointer to the first sample of the slice (or the shared buffer).
  Value* slice_start(int buf) {
    return p_.buffers[buf].batched ? address(buf, b0_, b_.getInt64(0)) : base(buf);
  }

  Value* linearize(const std::vector<Value*>& idx, const Shape& shape) {
    // A flat elementwise loop: the index is already linear; a one-element value (a scalar
    // under a broadcast, same_index_everywhere) is read at 0.
    if (flat_) return num_elements(shape) == 1 ? b_.getInt64(0) : idx[0];
    Value* lin = b_.getInt64(0);
    for (size_t i = 0; i < idx.size(); ++i)
      lin = b_.CreateAdd(b_.CreateMul(lin, b_.getInt64(shape[i]), "", true, true), idx[i], "", true, true);
    return lin;
  }

  // ---- loops ----
  template <class Body>
  void loop(Value* lo, Value* hi, const char* name, Body body, bool scalar = false) {
    llvm::BasicBlock* pre = b_.GetInsertBlock();
    auto* head = llvm::BasicBlock::Create(ctx_, name, f_);
    auto* inner = llvm::BasicBlock::Create(ctx_, std::string(name) + ".body", f_);
    auto* exit = llvm::BasicBlock::Create(ctx_, std::string(name) + ".end", f_);
    b_.CreateBr(head);
    b_.SetInsertPoint(head);
    llvm::PHINode* iv = b_.CreatePHI(i64_, 2, name);
    iv->addIncoming(lo, pre);
    b_.CreateCondBr(b_.CreateICmpSLT(iv, hi), inner, exit);
    b_.SetInsertPoint(inner);
    const int64_t math_before = math_calls_;
    body(iv);
    const bool calls_math = math_calls_ > math_before;
    iv->addIncoming(b_.CreateAdd(iv, b_.getInt64(1), "", true, true), b_.GetInsertBlock());
    llvm::BranchInst* latch = b_.CreateBr(head);
    const int64_t trips = static_trip_count(lo, hi);
    if (scalar) {
      latch->setMetadata(llvm::LLVMContext::MD_loop, scalar_loop_md(true));
    } else if (trips >= 0 && trips < 16) {
      const bool vector_calls = calls_math && options_.vector_math && trips >= 4;
      latch->setMetadata(llvm::LLVMContext::MD_loop, vector_calls ? vectorised_loop_md() : scalar_loop_md(false));
    }
    b_.SetInsertPoint(exit);
  }

  // A loop with a static trip count below 16 (a softmax row of 9, a 3-tap window) gains
  // nothing from the loop vectoriser - its vector body would hardly run - but each
  // vectorised loop brings a vector body, a remainder loop and runtime checks, and machine
  // code generation time grows with all of that. Such loops are left scalar (the unroller
  // and the SLP vectoriser still see them), except those of at least 4 iterations that call
  // exp, tanh, log ...: with libmvec one vector call replaces 4-8 scalar ones (readme's
  // softmax rows of 8 and 9: 17 scalar expf calls per step were a fifth of its step time),
  // and they are vectorised though the vectoriser's cost model would not for so few
  // iterations. -1: not a constant trip count.
  static int64_t static_trip_count(Value* lo, Value* hi) {
    auto* l = llvm::dyn_cast<llvm::ConstantInt>(lo);
    auto* h = llvm::dyn_cast<llvm::ConstantInt>(hi);
    return l && h ? std::max<int64_t>(h->getSExtValue() - l->getSExtValue(), 0) : -1;
  }
  llvm::MDNode* vectorised_loop_md() {
    auto* i1 = llvm::Type::getInt1Ty(ctx_);
    auto* i32 = llvm::Type::getInt32Ty(ctx_);
    llvm::Metadata* enable[] = {llvm::MDString::get(ctx_, "llvm.loop.vectorize.enable"),
                                llvm::ConstantAsMetadata::get(llvm::ConstantInt::get(i1, 1))};
    llvm::Metadata* interleave[] = {llvm::MDString::get(ctx_, "llvm.loop.interleave.count"),
                                    llvm::ConstantAsMetadata::get(llvm::ConstantInt::get(i32, 1))};
    // Not unrolled first: the full unroller runs before the vectoriser and would leave it
    // nothing to vectorise.
    llvm::Metadata* no_unroll = llvm::MDNode::get(ctx_, {llvm::MDString::get(ctx_, "llvm.loop.unroll.disable")});
    llvm::MDNode* md = llvm::MDNode::getDistinct(
        ctx_, {nullptr, llvm::MDNode::get(ctx_, enable), llvm::MDNode::get(ctx_, interleave), no_unroll});
    md->replaceOperandWith(0, md);
    return md;
  }
  llvm::MDNode* scalar_loop_md(bool no_unroll) {
    // A distinct self-referencing node per loop, as LLVM's loop metadata requires.
    auto* i32 = llvm::Type::getInt32Ty(ctx_);
    llvm::Metadata* width[] = {llvm::MDString::get(ctx_, "llvm.loop.vectorize.width"),
                               llvm::ConstantAsMetadata::get(llvm::ConstantInt::get(i32, 1))};
    llvm::Metadata* interleave[] = {llvm::MDString::get(ctx_, "llvm.loop.interleave.count"),
                                    llvm::ConstantAsMetadata::get(llvm::ConstantInt::get(i32, 1))};
    std::vector<llvm::Metadata*> ops{nullptr, llvm::MDNode::get(ctx_, width), llvm::MDNode::get(ctx_, interleave)};
    if (no_unroll) ops.push_back(llvm::MDNode::get(ctx_, {llvm::MDString::get(ctx_, "llvm.loop.unroll.disable")}));
    llvm::MDNode* md = llvm::MDNode::getDistinct(ctx_, ops);
    md->replaceOperandWith(0, md);
    return md;
  }

  // Nested loops over `shape` (row-major, innermost last); body gets the index vector.
  template <class Body>
  void nest(const Shape& shape, std::vector<Value*>& idx, size_t d, Body& body) {
    if (d == shape.size()) {
      body();
      return;
    }
    loop(b_.getInt64(0), b_.getInt64(shape[d]), "i", [&](Value* iv) {
      idx.push_back(iv);
      nest(shape, idx, d + 1, body);
      idx.pop_back();
    });
  }

  // Over the slice when the output is batched, once otherwise. The sample loop is never
  // vectorised: the work inside it is (its long inner loops), and vectorising across samples
  // as well only multiplies the code - once inner loops of 7-9 iterations are unrolled, the
  // vectoriser would turn every such sample loop into strided-gather vector code with
  // runtime checks and remainders, for the cost of compile time, not a faster kernel.
  template <class Body>
  void samples(bool batched, Body body) {
    if (batched) loop(b0_, b1_, "b", [&](Value* b) { body(b); }, /*scalar=*/true);
    else body(static_cast<Value*>(b_.getInt64(0)));
  }

  // ---- stages ----
  void stage(const Stage& s) {
    memo_.clear();
    const Buffer& out = p_.buffers[s.out];
    switch (s.kind) {
      case StageKind::Elementwise:
        if (out.shape.size() > 1 && same_index_everywhere(s, s.expr, out.shape, true)) {
          // One flat loop over all elements: a [32,32,3] nest would vectorise only its
          // innermost 3.
          samples(out.batched, [&](Value* b) {
            flat_ = true;
            loop(b_.getInt64(0), b_.getInt64(out.elements()), "i", [&](Value* i) {
              std::vector<Value*> idx{i};
              b_.CreateStore(expr(s, s.expr, idx, b, true), address(s.out, b, i));
            });
            flat_ = false;
          });
          break;
        }
        samples(out.batched, [&](Value* b) {
          std::vector<Value*> idx;
          auto body = [&] {
            Value* v = expr(s, s.expr, idx, b, true);
            b_.CreateStore(v, address(s.out, b, linearize(idx, out.shape)));
          };
          nest(out.shape, idx, 0, body);
        });
        break;
      case StageKind::Reduce: reduce(s); break;
      case StageKind::Einsum:
      case StageKind::Pack: einsum(s); break;
      case StageKind::Conv: conv(s); break;
    }
  }

  // Does every value the fused region of `s` loads or computes have the output's shape,
  // with no layout op in between? Then element i of each is read at linear index i.
  // (`seen` keeps shared subexpressions from being walked more than once.)
  bool same_index_everywhere(const Stage& s, const ir::NodePtr& n, const Shape& shape, bool root) {
    std::set<const ir::Node*> seen;
    return same_index_everywhere(s, n, shape, root, seen);
  }
  bool same_index_everywhere(const Stage& s, const ir::NodePtr& n, const Shape& shape, bool root,
                             std::set<const ir::Node*>& seen) {
    if (n->op == ir::Op::Const || !seen.insert(n.get()).second) return true;
    if (n->shape != shape) return false;
    // A broadcast one-element value (dt / tau in a state update): every node below it has one
    // element too (layout and elementwise ops never shrink a value; reductions and
    // contractions are buffers), so it is read at index 0 whatever the loop's index.
    if (n->op == ir::Op::Broadcast && num_elements(n->inputs[0]->shape) == 1) return true;
    int buf = p_.buffer_of(s, n.get());
    if (buf >= 0 && (!root || n->op == ir::Op::Input || n->op == ir::Op::Param)) return true;
    if (!ir::is_unary(n->op) && !ir::is_binary(n->op)) return false;
    for (const ir::NodePtr& in : n->inputs)
      if (!same_index_everywhere(s, in, shape, false, seen)) return false;
    return true;
  }

  void reduce(const Stage& s) {
    const Shape& in = s.expr->shape;
    Shape kept, red;
    for (size_t a = 0; a < in.size(); ++a)
      (std::binary_search(s.axes.begin(), s.axes.end(), static_cast<int64_t>(a)) ? red : kept).push_back(in[a]);
    const bool is_sum = s.reduce_op == ir::Op::Sum;
    llvm::IRBuilder<> eb(entry_, entry_->begin());
    llvm::AllocaInst* acc = eb.CreateAlloca(t_, nullptr, "acc");
    samples(p_.buffers[s.out].batched, [&](Value* b) {
      std::vector<Value*> kidx;
      auto outer = [&] {
        b_.CreateStore(llvm::ConstantFP::get(t_, is_sum ? 0.0 : -INFINITY), acc);
        std::vector<Value*> ridx;
        auto inner = [&] {
          // Interleave kept and reduced indices back into the operand's axis order.
          std::vector<Value*> idx;
          size_t k = 0, r = 0;
          for (size_t a = 0; a < in.size(); ++a)
            idx.push_back(std::binary_search(s.axes.begin(), s.axes.end(), static_cast<int64_t>(a)) ? ridx[r++] : kidx[k++]);
          memo_.clear();
          Value* v = expr(s, s.expr, idx, b, false);
          Value* a = b_.CreateLoad(t_, acc);
          Value* n;
          if (is_sum) {
            n = b_.CreateFAdd(a, v);
            llvm::FastMathFlags fm;
            fm.setAllowReassoc();  // lets the vectoriser split the sum into lanes
            llvm::cast<llvm::Instruction>(n)->setFastMathFlags(fm);
          } else {
            n = b_.CreateBinaryIntrinsic(llvm::Intrinsic::maximum, a, v);
          }
          b_.CreateStore(n, acc);
        };
        nest(red, ridx, 0, inner);
        b_.CreateStore(b_.CreateLoad(t_, acc), address(s.out, b, linearize(kidx, kept)));
      };
      nest(kept, kidx, 0, outer);
    });
  }

  llvm::Constant* i64_array(const std::vector<int64_t>& v, const std::string& name) {
    auto* ty = llvm::ArrayType::get(i64_, v.size());
    std::vector<llvm::Constant*> elems;
    for (int64_t x : v) elems.push_back(b_.getInt64(x));
    return new llvm::GlobalVariable(m_, ty, true, llvm::GlobalValue::PrivateLinkage,
                                    llvm::ConstantArray::get(ty, elems), name);
  }

  llvm::FunctionCallee runtime(const char* stem, std::vector<llvm::Type*> args, llvm::Type* ret = nullptr) {
    std::string name = std::string(stem) + (p_.dtype == ir::DType::F32 ? "_f32" : "_f64");
    return m_.getOrInsertFunction(name, llvm::FunctionType::get(ret ? ret : b_.getVoidTy(), args, false));
  }

  // ---- contractions, by their plans (loops/contraction.h) ----
  Value* i64(int64_t v) { return b_.getInt64(v); }
  Value* slice_size() { return b_.CreateSub(b1_, b0_, "nb"); }
  Value* extent(const Extent& e) {
    Value* v = i64(e.size);
    return e.per_sample ? b_.CreateMul(v, slice_size()) : v;
  }
  // An i64 array in this function's frame holding `dims` (-1: the slice size).
  Value* dims_array(const std::vector<int64_t>& dims) {
    llvm::IRBuilder<> eb(entry_, entry_->begin());
    llvm::AllocaInst* a = eb.CreateAlloca(i64_, i64(std::max<size_t>(dims.size(), 1)), "dims");
    for (size_t i = 0; i < dims.size(); ++i)
      b_.CreateStore(dims[i] < 0 ? slice_size() : i64(dims[i]), b_.CreateGEP(i64_, a, i64(i)));
    return a;
  }
  Value* elements(const EinsumTerm& t) {
    Extent e;
    for (int64_t d : t.dims) d < 0 ? (void)(e.per_sample = true) : (void)(e.size *= d);
    return extent(e);
  }
  // This thread's scratch slot `slot`, large enough for term `t`.
  Value* scratch(int slot, const EinsumTerm& t) {
    llvm::FunctionCallee f = m_.getOrInsertFunction("hamux_scratch", llvm::FunctionType::get(ptr_, {i64_, i64_}, false));
    return b_.CreateCall(f, {i64(slot), b_.CreateMul(elements(t), i64(p_.element_bytes()))});
  }
  // dst (term `to`) = src (term `from`, the same letters in another order).
  void permute(const EinsumTerm& from, const EinsumTerm& to, Value* src, Value* dst) {
    // Row-major strides of `from`, listed in the axis order of `to`; they grow with the
    // slice when the sample axis is not the first of `from`.
    std::vector<Value*> from_stride(from.letters.size());
    Value* stride = i64(1);
    for (size_t i = from.letters.size(); i-- > 0;) {
      from_stride[i] = stride;
      stride = b_.CreateMul(stride, from.dims[i] < 0 ? slice_size() : i64(from.dims[i]));
    }
    llvm::IRBuilder<> eb(entry_, entry_->begin());
    llvm::AllocaInst* st = eb.CreateAlloca(i64_, i64(std::max<size_t>(to.letters.size(), 1)), "strides");
    for (size_t i = 0; i < to.letters.size(); ++i) {
      const size_t j = std::find(from.letters.begin(), from.letters.end(), to.letters[i]) - from.letters.begin();
      if (j == from.letters.size()) HAMUX_INTERNAL("a permutation between terms of other letters");
      b_.CreateStore(from_stride[j], b_.CreateGEP(i64_, st, i64(i)));
    }
    b_.CreateCall(runtime("hamux_permute", {i64_, ptr_, ptr_, ptr_, ptr_}),
                  {i64(static_cast<int64_t>(to.letters.size())), dims_array(to.dims), st, src, dst});
  }
  const VectorShape& vector_shape() {
    if (!vs_) vs_ = target_.vector_shape(*f_);
    return *vs_;
  }
  Value* call_loops(llvm::Function* f, const std::vector<Value*>& ptrs) {
    std::vector<Value*> args{slice_size()};
    args.insert(args.end(), ptrs.begin(), ptrs.end());
    return b_.CreateCall(f, args);
  }

  void einsum(const Stage& s) {
    const EinsumPlan& plan = s.einsum;
    if (plan.ops.size() != s.args.size()) HAMUX_INTERNAL("an einsum stage whose plan has other operands");
    if (s.kind == StageKind::Pack) return pack(s);
    if (options_.contractions == Contractions::kLoops) {
      if (s.operand >= 0) HAMUX_INTERNAL("a packed operand in a kernel without the kernels library");
      llvm::Function* f = emit_einsum_loops(m_, kEinsumLoopsPrefix + std::to_string(loop_functions_++), t_, plan,
                                            target_, vector_shape());
      std::vector<Value*> ptrs{slice_start(s.out)};
      for (int a : s.args) ptrs.push_back(slice_start(a));
      call_loops(f, ptrs);
      return;
    }
    if (!plan.gemm) return naive_einsum(s);
    const GemmPlan& g = *plan.gemm;
    Value* pa = slice_start(s.args[g.swap ? 1 : 0]);
    Value* pb = slice_start(s.args[g.swap ? 0 : 1]);
    if (g.a_perm) {
      Value* t = scratch(0, g.amk);
      permute(g.a, g.amk, pa, t);
      pa = t;
    }
    Value* out = slice_start(s.out);
    Value* pc = g.o_perm ? scratch(2, g.omn) : out;
    if (s.operand >= 0) {
      if (s.operand != (g.swap ? 0 : 1) || !plan.packable(s.operand)) HAMUX_INTERNAL("a packed operand that is not B");
      b_.CreateCall(runtime("hamux_gemm_packed", {i64_, i64_, i64_, i64_, ptr_, ptr_, ptr_}),
                    {extent(g.m), extent(g.n), extent(g.k), i64(g.a_t), pa, pb, pc});
    } else {
      if (g.b_perm) {
        Value* t = scratch(1, g.bkn);
        permute(g.b, g.bkn, pb, t);
        pb = t;
      }
      b_.CreateCall(runtime("hamux_gemm", {i64_, i64_, i64_, i64_, i64_, ptr_, ptr_, ptr_}),
                    {extent(g.batches), extent(g.m), extent(g.n), extent(g.k), i64((g.a_t ? 1 : 0) | (g.b_t ? 2 : 0)),
                     pa, pb, pc});
    }
    if (g.o_perm) permute(g.omn, g.o, pc, out);
  }

  // A Pack stage: operand B of the einsum's GEMM, into the panel layout.
  void pack(const Stage& s) {
    const EinsumPlan& plan = s.einsum;
    if (!plan.packable(s.operand) || s.blocking.size() != 3) HAMUX_INTERNAL("a Pack stage of an operand that is not B");
    const GemmPlan& g = *plan.gemm;
    Value* src = slice_start(s.args[s.operand]);
    if (g.b_perm) {
      Value* t = scratch(1, g.bkn);
      permute(g.b, g.bkn, src, t);
      src = t;
    }
    b_.CreateCall(runtime("hamux_gemm_pack_b", {i64_, i64_, i64_, i64_, i64_, i64_, ptr_, ptr_}),
                  {extent(g.k), extent(g.n), i64(g.b_t && !g.b_perm), i64(s.blocking[0]), i64(s.blocking[1]),
                   i64(s.blocking[2]), src, slice_start(s.out)});
  }

  // What is not a GEMM: the definition of einsum, over the letters of the operands.
  void naive_einsum(const Stage& s) {
    const EinsumPlan& plan = s.einsum;
    std::vector<int64_t> letters, sizes;
    for (const EinsumTerm& t : plan.ops)
      for (size_t i = 0; i < t.letters.size(); ++i)
        if (std::find(letters.begin(), letters.end(), t.letters[i]) == letters.end()) {
          letters.push_back(t.letters[i]);
          sizes.push_back(t.dims[i]);
        }
    const size_t L = letters.size();
    std::vector<int64_t> strides;
    auto add_strides = [&](const EinsumTerm& t) {
      std::vector<int64_t> st(L, 0);
      int64_t stride = 1;
      for (size_t i = t.letters.size(); i-- > 0;) {
        const size_t l = std::find(letters.begin(), letters.end(), t.letters[i]) - letters.begin();
        if (l == L) HAMUX_INTERNAL("an einsum output letter that no operand has");
        st[l] += stride;
        stride *= std::max<int64_t>(t.dims[i], 0);  // (the slice axis is first: its size never multiplies)
      }
      strides.insert(strides.end(), st.begin(), st.end());
    };
    for (const EinsumTerm& t : plan.ops) add_strides(t);
    add_strides(plan.out);
    llvm::IRBuilder<> eb(entry_, entry_->begin());
    llvm::AllocaInst* ops = eb.CreateAlloca(ptr_, i64(s.args.size()), "ops");
    for (size_t k = 0; k < s.args.size(); ++k) b_.CreateStore(slice_start(s.args[k]), b_.CreateGEP(ptr_, ops, i64(k)));
    b_.CreateCall(runtime("hamux_einsum_naive", {i64_, i64_, ptr_, ptr_, i64_, ptr_, ptr_}),
                  {i64(static_cast<int64_t>(plan.ops.size())), i64(static_cast<int64_t>(L)), dims_array(sizes),
                   i64_array(strides, "einsum_strides"), elements(plan.out), ops, slice_start(s.out)});
  }

  void conv(const Stage& s) {
    const hamux_conv_plan& c = s.conv;
    if (options_.contractions == Contractions::kLoops ||
        conv_loops_for_jit(c, static_cast<int>(p_.element_bytes()), vector_shape(), options_.conv_loops_max_channels)) {
      llvm::Function* f = emit_conv_loops(m_, kConvLoopsPrefix + std::to_string(loop_functions_++), t_, c, target_,
                                          vector_shape());
      call_loops(f, {slice_start(s.out), slice_start(s.args[0]), slice_start(s.args[1])});
      return;
    }
    static_assert(sizeof(hamux_conv_plan) == 16 * sizeof(int64_t), "hamux_conv_plan is 16 int64 fields");
    const std::vector<int64_t> fields{c.kind, c.H, c.W, c.C, c.KH, c.KW, c.O, c.OH, c.OW, c.sh, c.sw, c.pt, c.pl,
                                      c.a_b, c.b_b, c.o_b};
    b_.CreateCall(runtime("hamux_conv", {ptr_, i64_, ptr_, ptr_, ptr_}),
                  {i64_array(fields, "conv_plan"), slice_size(), slice_start(s.args[0]), slice_start(s.args[1]),
                   slice_start(s.out)});
  }

  // ---- expressions ----
  llvm::FunctionCallee libm(const char* name) {
    std::string fn = std::string(name) + (p_.dtype == ir::DType::F32 ? "f" : "");
    llvm::FunctionCallee c = m_.getOrInsertFunction(fn, llvm::FunctionType::get(t_, {t_}, false));
    if (auto* f = llvm::dyn_cast<llvm::Function>(c.getCallee())) {
      f->setDoesNotAccessMemory();  // pure: CSE and hoisting may treat it like an operator
      f->setDoesNotThrow();
      f->setWillReturn();
    }
    return c;
  }
  Value* call(const char* name, Value* x) {
    ++math_calls_;
    return b_.CreateCall(libm(name), {x});
  }
  Value* intr(llvm::Intrinsic::ID id, Value* x) {
    if (id == llvm::Intrinsic::exp || id == llvm::Intrinsic::log) ++math_calls_;
    return b_.CreateUnaryIntrinsic(id, x);
  }
  Value* c(double v) { return llvm::ConstantFP::get(t_, v); }
  Value* flag(Value* cond) { return b_.CreateSelect(cond, c(1.0), c(0.0)); }

  Value* unary(ir::Op op, Value* x) {
    using ir::Op;
    switch (op) {
      case Op::Neg: return b_.CreateFNeg(x);
      case Op::Exp: return intr(llvm::Intrinsic::exp, x);
      case Op::Log: return intr(llvm::Intrinsic::log, x);
      case Op::Log1p: return call("log1p", x);
      case Op::Sqrt: return intr(llvm::Intrinsic::sqrt, x);
      case Op::Abs: return intr(llvm::Intrinsic::fabs, x);
      case Op::Sign:  // NaN and zeros pass through
        return b_.CreateSelect(b_.CreateFCmpOGT(x, c(0)), c(1.0),
                               b_.CreateSelect(b_.CreateFCmpOLT(x, c(0)), c(-1.0), x));
      case Op::Step: return flag(b_.CreateFCmpOGT(x, c(0)));
      case Op::Relu: return b_.CreateSelect(b_.CreateFCmpUGT(x, c(0)), x, c(0));  // NaN stays
      case Op::Sigmoid: {
        // Exponentiate only -|x| so nothing overflows: s = 1/(1+e) or e/(1+e).
        Value* e = intr(llvm::Intrinsic::exp, b_.CreateFNeg(intr(llvm::Intrinsic::fabs, x)));
        Value* d = b_.CreateFAdd(c(1.0), e);
        return b_.CreateSelect(b_.CreateFCmpOGE(x, c(0)), b_.CreateFDiv(c(1.0), d), b_.CreateFDiv(e, d));
      }
      case Op::Tanh: return call("tanh", x);
      case Op::Softplus: {  // max(x, 0) + log1p(exp(-|x|))
        Value* m = b_.CreateSelect(b_.CreateFCmpUGT(x, c(0)), x, c(0));
        return b_.CreateFAdd(m, call("log1p", intr(llvm::Intrinsic::exp, b_.CreateFNeg(intr(llvm::Intrinsic::fabs, x)))));
      }
      case Op::LogCosh: {
        // |x| < 1: log1p(2 sinh(x/2)^2) (no cancellation); else |x| + log1p(e^-2|x|) - log 2.
        Value* a = intr(llvm::Intrinsic::fabs, x);
        Value* sh = call("sinh", b_.CreateFMul(c(0.5), x));
        Value* small = call("log1p", b_.CreateFMul(c(2.0), b_.CreateFMul(sh, sh)));
        Value* e = intr(llvm::Intrinsic::exp, b_.CreateFMul(c(-2.0), a));
        Value* big = b_.CreateFSub(b_.CreateFAdd(a, call("log1p", e)), c(0.69314718055994530942));
        return b_.CreateSelect(b_.CreateFCmpOLT(a, c(1.0)), small, big);
      }
      default: break;
    }
    HAMUX_INTERNAL(std::string("not a unary op: ") + ir::op_name(op));
  }

  Value* binary(ir::Op op, Value* x, Value* y) {
    using ir::Op;
    switch (op) {
      case Op::Add: return b_.CreateFAdd(x, y);
      case Op::Sub: return b_.CreateFSub(x, y);
      case Op::Mul: return b_.CreateFMul(x, y);
      case Op::Div: return b_.CreateFDiv(x, y);
      case Op::Pow: return b_.CreateBinaryIntrinsic(llvm::Intrinsic::pow, x, y);
      case Op::Max: return b_.CreateBinaryIntrinsic(llvm::Intrinsic::maximum, x, y);
      case Op::Min: return b_.CreateBinaryIntrinsic(llvm::Intrinsic::minimum, x, y);
      case Op::Greater: return flag(b_.CreateFCmpOGT(x, y));
      case Op::Equal: return flag(b_.CreateFCmpOEQ(x, y));
      default: break;
    }
    HAMUX_INTERNAL(std::string("not a binary op: ") + ir::op_name(op));
  }

  // The value of `n` at multi-index `idx` of sample `b`. Layout ops only remap the index.
  Value* expr(const Stage& s, const ir::NodePtr& n, const std::vector<Value*>& idx, Value* b, bool root) {
    auto key = std::make_pair(n.get(), idx);
    if (auto it = memo_.find(key); it != memo_.end()) return it->second;
    Value* v = nullptr;
    int buf = p_.buffer_of(s, n.get());
    if (buf >= 0 && (!root || n->op == ir::Op::Input || n->op == ir::Op::Param)) {
      v = b_.CreateLoad(t_, address(buf, b, linearize(idx, n->shape)));
    } else if (n->op == ir::Op::Const) {
      v = c(n->attrs.value);
    } else if (ir::is_unary(n->op)) {
      v = unary(n->op, expr(s, n->inputs[0], idx, b, false));
    } else if (ir::is_binary(n->op)) {
      Value* x = expr(s, n->inputs[0], idx, b, false);
      v = binary(n->op, x, expr(s, n->inputs[1], idx, b, false));
    } else if (n->op == ir::Op::Broadcast) {
      const Shape& sh = n->inputs[0]->shape;
      size_t off = n->shape.size() - sh.size();
      std::vector<Value*> in;
      for (size_t i = 0; i < sh.size(); ++i) in.push_back(sh[i] == 1 ? b_.getInt64(0) : idx[off + i]);
      v = expr(s, n->inputs[0], in, b, false);
    } else if (n->op == ir::Op::Transpose) {
      std::vector<Value*> in(idx.size());
      for (size_t i = 0; i < idx.size(); ++i) in[n->attrs.axes[i]] = idx[i];
      v = expr(s, n->inputs[0], in, b, false);
    } else if (n->op == ir::Op::Reshape) {
      const Shape& sh = n->inputs[0]->shape;
      Value* lin = linearize(idx, n->shape);
      std::vector<Value*> in(sh.size());
      for (size_t i = sh.size(); i-- > 0;) {
        if (sh[i] == 1) {
          in[i] = b_.getInt64(0);
          continue;
        }
        in[i] = i == 0 ? lin : b_.CreateURem(lin, b_.getInt64(sh[i]));
        if (i > 0) lin = b_.CreateUDiv(lin, b_.getInt64(sh[i]));
      }
      v = expr(s, n->inputs[0], in, b, false);
    } else {
      HAMUX_INTERNAL(std::string("op ") + ir::op_name(n->op) + " has no buffer");
    }
    memo_[key] = v;
    return v;
  }

  const Program& p_;
  llvm::LLVMContext& ctx_;
  llvm::Module& m_;
  llvm::IRBuilder<> b_;
  const Target& target_;
  EmitOptions options_;
  std::optional<VectorShape> vs_;  // of the target, seen from the kernel's functions
  int loop_functions_ = 0;         // contraction loop functions emitted so far
  int64_t math_calls_ = 0;         // calls of exp, log, tanh ... emitted so far (loop() looks)
  int parts_ = 0;                  // functions of stages() emitted so far
  bool in_parts_ = false;          // stages() emits parts (with_noalias_buffers)
  llvm::Type *t_, *i64_, *ptr_;
  llvm::Function* f_ = nullptr;
  llvm::BasicBlock* entry_ = nullptr;
  llvm::BasicBlock* start_ = nullptr;
  Value *bufs_, *b0_, *b1_, *shared_, *ws_, *ksteps_;
  std::vector<Value*> bases_;    // of every buffer, in the function base_owner_ says
  std::vector<int> base_owner_;
  int functions_ = 0, function_id_ = -1;  // functions begun so far; the current one
  bool flat_ = false;  // emitting a flat elementwise loop (same_index_everywhere)
  std::map<std::pair<const ir::Node*, std::vector<Value*>>, Value*> memo_;
};

}  // namespace

bool is_split(const Program& p) {
  return p.prologue.size() > kSplitAbove || p.body.size() > kSplitAbove || p.epilogue.size() > kSplitAbove;
}

std::unique_ptr<llvm::Module> emit_module(const Program& program, llvm::LLVMContext& ctx,
                                          const std::string& function_name, const Target& target,
                                          const EmitOptions& options) {
  auto m = std::make_unique<llvm::Module>("hamux_kernel", ctx);
  m->setDataLayout(target.machine().createDataLayout());
  m->setTargetTriple(target.triple());
  Emitter(program, ctx, *m, target, options).emit(function_name);
  std::string err;
  llvm::raw_string_ostream os(err);
  if (llvm::verifyModule(*m, &os)) HAMUX_INTERNAL("emitted invalid LLVM IR: " + os.str());
  return m;
}

}  // namespace hamux::codegen
