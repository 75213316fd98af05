// compiler/codegen/aot_contract.cpp - einsum/conv descriptors -> specialised LLVM loops.
#include "codegen/llvm/contraction_loops.h"

#include <llvm/Analysis/TargetTransformInfo.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Module.h>
#include <llvm/Target/TargetMachine.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <stdexcept>
#include <vector>

#include "codegen/kernels/kernels.h"  // the descriptor formats (constants only)

namespace hamux::codegen {
namespace {

using llvm::Value;

// Rows of the blocked output letter handled per pass over the largest operand: 8 rows of
// a 1024-float output row are 32 KiB, about one L1 data cache.
constexpr int64_t kBlock = 8;
// Stand-in for the slice size when estimating which operand is largest.
constexpr int64_t kTypicalBatch = 64;

// A function under construction: its builder and structured control flow.
class Fn {
 public:
  Fn(llvm::Module& m, const std::string& name, llvm::Type* t, int n_ptrs, const Target& target)
      : ctx_(m.getContext()), b_(ctx_), t_(t) {
    llvm::Type* i64 = b_.getInt64Ty();
    llvm::Type* ptr = b_.getPtrTy();
    std::vector<llvm::Type*> args{i64};
    for (int k = 0; k < n_ptrs; ++k) args.push_back(ptr);
    f_ = llvm::Function::Create(llvm::FunctionType::get(b_.getVoidTy(), args, false),
                                llvm::Function::InternalLinkage, name, m);
    f_->setDoesNotThrow();
    target.annotate(*f_);
    // The output (argument 1) is a buffer of its own, and operands are only read, so no
    // pointer argument aliases a written one: the vectoriser needs no runtime checks.
    for (int k = 1; k <= n_ptrs; ++k) f_->addParamAttr(k, llvm::Attribute::NoAlias);
    entry_ = llvm::BasicBlock::Create(ctx_, "entry", f_);
    b_.SetInsertPoint(entry_);
  }

  llvm::Function* function() const { return f_; }
  llvm::IRBuilder<>& b() { return b_; }
  Value* arg(int k) { return f_->getArg(k); }
  Value* i64(int64_t v) { return b_.getInt64(v); }
  Value* zero() { return llvm::ConstantFP::get(t_, 0.0); }
  Value* mul(Value* a, Value* c) { return b_.CreateMul(a, c, "", true, true); }
  Value* add(Value* a, Value* c) { return b_.CreateAdd(a, c, "", true, true); }
  Value* load(Value* base, Value* off) { return b_.CreateLoad(t_, b_.CreateGEP(t_, base, off)); }
  void store(Value* v, Value* base, Value* off) { b_.CreateStore(v, b_.CreateGEP(t_, base, off)); }
  // *p += v at element `off` of `base`.
  void accumulate(Value* base, Value* off, Value* v) {
    Value* p = b_.CreateGEP(t_, base, off);
    b_.CreateStore(b_.CreateFAdd(b_.CreateLoad(t_, p), v), p);
  }
  llvm::AllocaInst* local(const char* name, llvm::Type* type = nullptr) {
    llvm::IRBuilder<> eb(entry_, entry_->begin());
    return eb.CreateAlloca(type ? type : t_, nullptr, name);
  }
  llvm::Type* real() const { return t_; }

  // for (iv = lo; iv < hi; iv += step) body(iv)
  void loop(Value* lo, Value* hi, int64_t step, const std::function<void(Value*)>& body) {
    llvm::BasicBlock* pre = b_.GetInsertBlock();
    auto* head = llvm::BasicBlock::Create(ctx_, "l", f_);
    auto* inner = llvm::BasicBlock::Create(ctx_, "l.body", f_);
    auto* exit = llvm::BasicBlock::Create(ctx_, "l.end", f_);
    b_.CreateBr(head);
    b_.SetInsertPoint(head);
    llvm::PHINode* iv = b_.CreatePHI(b_.getInt64Ty(), 2);
    iv->addIncoming(lo, pre);
    b_.CreateCondBr(b_.CreateICmpSLT(iv, hi), inner, exit);
    b_.SetInsertPoint(inner);
    body(iv);
    iv->addIncoming(add(iv, i64(step)), b_.GetInsertBlock());
    b_.CreateBr(head);
    b_.SetInsertPoint(exit);
  }
  void loop(int64_t n, const std::function<void(Value*)>& body) { loop(i64(0), i64(n), 1, body); }

  // if (cond) body()
  void when(Value* cond, const std::function<void()>& body) {
    auto* then = llvm::BasicBlock::Create(ctx_, "then", f_);
    auto* done = llvm::BasicBlock::Create(ctx_, "endif", f_);
    b_.CreateCondBr(cond, then, done);
    b_.SetInsertPoint(then);
    body();
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
  }
  // 0 <= v < n
  Value* in_range(Value* v, int64_t n) { return b_.CreateICmpULT(v, i64(n)); }

  void finish() { b_.CreateRetVoid(); }

 private:
  llvm::LLVMContext& ctx_;
  llvm::IRBuilder<> b_;
  llvm::Type* t_;
  llvm::Function* f_;
  llvm::BasicBlock* entry_;
};

// ---- einsum ----

using Term = EinsumTerm;  // dims: -1 is the slice size

bool has(const Term& t, int64_t l) { return std::find(t.letters.begin(), t.letters.end(), l) != t.letters.end(); }

class Einsum {
 public:
  Einsum(Fn& fn, const EinsumPlan& plan, const VectorShape& vs) : fn_(fn), vs_(vs), out_(plan.out), ops_(plan.ops) {
    for (const Term* t : terms())
      for (size_t i = 0; i < t->letters.size(); ++i)
        if (!size_.count(t->letters[i])) {
          size_[t->letters[i]] = t->dims[i];
          order_.push_back(t->letters[i]);
        }
  }

  void emit() {
    if (axpy_tiles() || dot_tiles()) return;
    // Innermost: the letter that is the unit-stride axis of the most terms (the output
    // wins ties, so the plain in-place form is preferred over a reduction).
    std::map<int64_t, int> unit;
    for (const Term* t : terms())
      if (!t->letters.empty()) ++unit[t->letters.back()];
    int64_t inner = -1;
    int best = 0;
    std::vector<int64_t> out_letters;
    for (int64_t l : out_.letters)
      if (std::find(out_letters.begin(), out_letters.end(), l) == out_letters.end()) out_letters.push_back(l);
    const bool out_unique = out_letters.size() == out_.letters.size();
    std::vector<int64_t> by_preference = out_letters;
    for (int64_t l : order_)
      if (!has(out_, l)) by_preference.push_back(l);
    for (int64_t l : by_preference)
      if (unit[l] > best) best = unit[l], inner = l;
    // A repeated output letter writes a diagonal only: zero everything and accumulate.
    if (!out_unique) inner = out_.letters.empty() ? -1 : out_.letters.back();
    const bool reduction = inner >= 0 && !has(out_, inner);

    // Blocked letter: an output letter that the largest operand does not have.
    int64_t blocked = -1;
    if (ops_.size() >= 2) {
      size_t largest = 0;
      for (size_t k = 1; k < ops_.size(); ++k)
        if (estimate(ops_[k]) > estimate(ops_[largest])) largest = k;
      for (int64_t l : out_letters)
        if (l != inner && !has(ops_[largest], l) && (size_[l] < 0 || size_[l] > kBlock)) {
          blocked = l;
          break;
        }
    }

    std::vector<Loop> outer, contraction;
    if (blocked >= 0) outer.push_back({blocked, Loop::BlockOuter});
    for (int64_t l : out_letters)
      if (l != blocked && (reduction || l != inner)) outer.push_back({l, Loop::Full});
    for (int64_t l : order_)
      if (!has(out_, l) && l != inner) contraction.push_back({l, Loop::Full});
    if (reduction) contraction.push_back({inner, Loop::Full});

    Value* out = fn_.arg(1);
    if (reduction) {
      if (blocked >= 0) outer.push_back({blocked, Loop::BlockInner});
      llvm::AllocaInst* acc = fn_.local("acc");
      nest(outer, 0, [&] {
        fn_.b().CreateStore(fn_.zero(), acc);
        nest(contraction, 0, [&] {
          Value* s = fn_.b().CreateFAdd(fn_.b().CreateLoad(acc->getAllocatedType(), acc), product());
          llvm::FastMathFlags fm;
          fm.setAllowReassoc();  // lets the vectoriser split the sum into lanes
          llvm::cast<llvm::Instruction>(s)->setFastMathFlags(fm);
          fn_.b().CreateStore(s, acc);
        });
        fn_.store(fn_.b().CreateLoad(acc->getAllocatedType(), acc), out, offset(out_));
      });
    } else {
      Value* total = fn_.i64(1);
      for (size_t i = 0; i < out_.dims.size(); ++i) total = fn_.mul(total, size_value(out_.letters[i]));
      fn_.loop(fn_.i64(0), total, 1, [&](Value* i) { fn_.store(fn_.zero(), out, i); });
      std::vector<Loop> all = outer;
      all.insert(all.end(), contraction.begin(), contraction.end());
      if (blocked >= 0) all.push_back({blocked, Loop::BlockInner});
      if (inner >= 0) all.push_back({inner, Loop::Full});
      nest(all, 0, [&] { fn_.accumulate(out, offset(out_), product()); });
    }
  }

 private:
  struct Loop {
    int64_t letter;
    enum Kind { Full, BlockOuter, BlockInner } kind;
  };

  std::vector<const Term*> terms() const {
    std::vector<const Term*> t{&out_};
    for (const Term& o : ops_) t.push_back(&o);
    return t;
  }
  static int64_t estimate(const Term& t) {
    int64_t n = 1;
    for (int64_t d : t.dims) n *= d < 0 ? kTypicalBatch : d;
    return n;
  }
  Value* size_value(int64_t letter) {
    const int64_t s = size_.at(letter);
    return s < 0 ? fn_.arg(0) : fn_.i64(s);
  }

  void nest(const std::vector<Loop>& loops, size_t i, const std::function<void()>& body) {
    if (i == loops.size()) return body();
    const Loop& l = loops[i];
    Value* n = size_value(l.letter);
    auto next = [&](Value* iv) {
      (l.kind == Loop::BlockOuter ? block_ : idx_)[l.letter] = iv;
      nest(loops, i + 1, body);
    };
    if (l.kind == Loop::Full) {
      fn_.loop(fn_.i64(0), n, 1, next);
    } else if (l.kind == Loop::BlockOuter) {
      fn_.loop(fn_.i64(0), n, kBlock, next);
    } else {
      Value* lo = block_.at(l.letter);
      Value* hi = fn_.b().CreateBinaryIntrinsic(llvm::Intrinsic::smin, fn_.add(lo, fn_.i64(kBlock)), n);
      fn_.loop(lo, hi, 1, next);
    }
  }

  // Row-major element offset of the current indices in `t` (repeated letters included).
  Value* offset(const Term& t) {
    Value* off = fn_.i64(0);
    int64_t stride = 1;
    for (size_t a = t.letters.size(); a-- > 0;) {
      off = fn_.add(off, fn_.mul(idx_.at(t.letters[a]), fn_.i64(stride)));
      stride *= std::max<int64_t>(t.dims[a], 1);
    }
    return off;
  }

  Value* product() {
    Value* p = nullptr;
    for (size_t k = 0; k < ops_.size(); ++k) {
      Value* v = fn_.load(fn_.arg(2 + static_cast<int>(k)), offset(ops_[k]));
      p = p ? fn_.b().CreateFMul(p, v) : v;
    }
    return p ? p : llvm::ConstantFP::get(fn_.zero()->getType(), 1.0);
  }

  // ---- register-blocked GEMM shapes ----
  // Both need two operands, no repeated letter in any term, and static sizes for the
  // vectorised letter. Letters other than the tile's are plain loops around the tiles
  // (output letters) or inside them (contraction letters).

  bool simple_terms() const {
    if (ops_.size() != 2) return false;
    for (const Term* t : terms())
      for (size_t i = 0; i < t->letters.size(); ++i)
        for (size_t j = i + 1; j < t->letters.size(); ++j)
          if (t->letters[i] == t->letters[j]) return false;
    return true;
  }
  // The last output letter (other than `except`) that `in` has and `notin` has not.
  int64_t tile_letter(const Term& in, const Term& notin, int64_t except) const {
    for (size_t i = out_.letters.size(); i-- > 0;) {
      int64_t l = out_.letters[i];
      if (l != except && has(in, l) && !has(notin, l)) return l;
    }
    return -1;
  }
  // Emits loops over [lo, hi): first with the largest step, then the rest with smaller ones.
  void split(Value* lo, Value* hi, const std::vector<int64_t>& steps, const std::function<void(Value*, size_t)>& body) {
    for (size_t k = 0; k < steps.size(); ++k) {
      Value* s = fn_.i64(steps[k]);
      Value* end = k + 1 == steps.size() ? hi : fn_.add(lo, fn_.mul(fn_.b().CreateUDiv(fn_.b().CreateSub(hi, lo), s), s));
      fn_.loop(lo, end, steps[k], [&](Value* at) { body(at, k); });
      lo = end;
    }
  }
  std::vector<Loop> loops_over(const std::vector<int64_t>& letters) const {
    std::vector<Loop> v;
    for (int64_t l : letters) v.push_back({l, Loop::Full});
    return v;
  }
  llvm::Type* vec(int vl) const { return vl > 1 ? llvm::FixedVectorType::get(fn_.real(), vl) : fn_.real(); }
  Value* load_vec(int vl, int op, const Term& t) {
    Value* p = fn_.b().CreateGEP(fn_.real(), op < 0 ? fn_.arg(1) : fn_.arg(2 + op), offset(t));
    return fn_.b().CreateAlignedLoad(vec(vl), p, llvm::Align(fn_.real()->getPrimitiveSizeInBits() / 8));
  }
  Value* fma(Value* a, Value* b, Value* c) {
    return fn_.b().CreateIntrinsic(llvm::Intrinsic::fmuladd, {a->getType()}, {a, b, c});
  }

  // out[.., r, n] = sum_k A[.., r, ..] * B[.., n] with n the last (unit-stride) letter of
  // out and B: a tile of `rows` r values x `nv` vectors of n held in registers across
  // the whole contraction; per contraction index, nv vector loads of B and `rows`
  // broadcasts of A feed rows * nv multiply-adds.
  bool axpy_tiles() {
    if (!simple_terms() || out_.letters.empty()) return false;
    const int64_t n = out_.letters.back();
    int ib = -1;
    for (int k = 0; k < 2; ++k)
      if (!ops_[k].letters.empty() && ops_[k].letters.back() == n) ib = k;
    if (ib < 0 || has(ops_[1 - ib], n) || size_[n] < 0) return false;
    const Term &A = ops_[1 - ib], &B = ops_[ib];
    const int64_t r = tile_letter(A, B, n);
    if (r < 0) return false;
    const int ia = 1 - ib, vl = vs_.lanes(static_cast<int>(fn_.real()->getPrimitiveSizeInBits() / 8)), rows = 4, nv = vs_.registers >= 32 ? 4 : 2;
    std::vector<int64_t> outer, inner;
    for (int64_t l : out_.letters)
      if (l != r && l != n) outer.push_back(l);
    for (int64_t l : order_)
      if (!has(out_, l)) inner.push_back(l);
    auto tile = [&](Value* r0, Value* n0, int nrows, int nvec, int lanes) {
      std::vector<llvm::AllocaInst*> acc(nrows * nvec);
      for (auto& a : acc) {
        a = fn_.local("acc", vec(lanes));
        fn_.b().CreateStore(llvm::Constant::getNullValue(vec(lanes)), a);
      }
      nest(loops_over(inner), 0, [&] {
        std::vector<Value*> bv(nvec);
        for (int v = 0; v < nvec; ++v) {
          idx_[n] = fn_.add(n0, fn_.i64(v * lanes));
          bv[v] = load_vec(lanes, ib, B);
        }
        for (int i = 0; i < nrows; ++i) {
          idx_[r] = fn_.add(r0, fn_.i64(i));
          Value* a = fn_.load(fn_.arg(2 + ia), offset(A));
          if (lanes > 1) a = fn_.b().CreateVectorSplat(lanes, a);
          for (int v = 0; v < nvec; ++v) {
            llvm::AllocaInst* c = acc[i * nvec + v];
            fn_.b().CreateStore(fma(a, bv[v], fn_.b().CreateLoad(vec(lanes), c)), c);
          }
        }
      });
      for (int i = 0; i < nrows; ++i)
        for (int v = 0; v < nvec; ++v) {
          idx_[r] = fn_.add(r0, fn_.i64(i));
          idx_[n] = fn_.add(n0, fn_.i64(v * lanes));
          Value* p = fn_.b().CreateGEP(fn_.real(), fn_.arg(1), offset(out_));
          fn_.b().CreateAlignedStore(fn_.b().CreateLoad(vec(lanes), acc[i * nvec + v]), p,
                                     llvm::Align(fn_.real()->getPrimitiveSizeInBits() / 8));
        }
    };
    nest(loops_over(outer), 0, [&] {
      split(fn_.i64(0), size_value(r), {rows, 1}, [&](Value* r0, size_t rk) {
        const int nrows = rk == 0 ? rows : 1;
        split(fn_.i64(0), size_value(n), {int64_t(nv) * vl, vl, 1}, [&](Value* n0, size_t nk) {
          tile(r0, n0, nrows, nk == 0 ? nv : 1, nk == 2 ? 1 : vl);
        });
      });
    });
    return true;
  }

  // out[.., r, c] = sum A[.., r, .., k] * B[.., c, .., k] with k the last letter of both
  // operands: a tile of rows x cols dot products, each a vector accumulator along k
  // (rows + cols vector loads feed rows * cols multiply-adds), reduced at the end.
  bool dot_tiles() {
    if (!simple_terms()) return false;
    const Term &A = ops_[0], &B = ops_[1];
    if (A.letters.empty() || B.letters.empty() || A.letters.back() != B.letters.back()) return false;
    const int64_t k = A.letters.back();
    if (has(out_, k) || size_[k] < 0) return false;
    const int64_t r = tile_letter(A, B, -1), c = tile_letter(B, A, -1);
    if (r < 0 || c < 0) return false;
    const int vl = vs_.lanes(static_cast<int>(fn_.real()->getPrimitiveSizeInBits() / 8)), rows = vs_.registers >= 32 ? 4 : 2, cols = 4;
    const int64_t K = size_[k], kfull = K / vl * vl;
    std::vector<int64_t> outer, inner;
    for (int64_t l : out_.letters)
      if (l != r && l != c) outer.push_back(l);
    for (int64_t l : order_)
      if (!has(out_, l) && l != k) inner.push_back(l);
    auto tile = [&](Value* r0, Value* c0, int nrows, int ncols) {
      std::vector<llvm::AllocaInst*> acc(nrows * ncols), rest(nrows * ncols);
      for (int t = 0; t < nrows * ncols; ++t) {
        acc[t] = fn_.local("acc", vec(vl));
        rest[t] = fn_.local("rest");
        fn_.b().CreateStore(llvm::Constant::getNullValue(vec(vl)), acc[t]);
        fn_.b().CreateStore(fn_.zero(), rest[t]);
      }
      auto step = [&](int lanes, const std::vector<llvm::AllocaInst*>& into) {
        return [&, lanes](Value* kk) {
          idx_[k] = kk;
          std::vector<Value*> av(nrows), bv(ncols);
          for (int i = 0; i < nrows; ++i) {
            idx_[r] = fn_.add(r0, fn_.i64(i));
            av[i] = load_vec(lanes, 0, A);
          }
          for (int j = 0; j < ncols; ++j) {
            idx_[c] = fn_.add(c0, fn_.i64(j));
            bv[j] = load_vec(lanes, 1, B);
          }
          for (int i = 0; i < nrows; ++i)
            for (int j = 0; j < ncols; ++j) {
              llvm::AllocaInst* a = into[i * ncols + j];
              fn_.b().CreateStore(fma(av[i], bv[j], fn_.b().CreateLoad(vec(lanes), a)), a);
            }
        };
      };
      nest(loops_over(inner), 0, [&] {
        if (kfull > 0) fn_.loop(fn_.i64(0), fn_.i64(kfull), vl, step(vl, acc));
        if (kfull < K) fn_.loop(fn_.i64(kfull), fn_.i64(K), 1, step(1, rest));
      });
      for (int i = 0; i < nrows; ++i)
        for (int j = 0; j < ncols; ++j) {
          idx_[r] = fn_.add(r0, fn_.i64(i));
          idx_[c] = fn_.add(c0, fn_.i64(j));
          Value* v = fn_.b().CreateLoad(fn_.real(), rest[i * ncols + j]);
          Value* a = fn_.b().CreateLoad(vec(vl), acc[i * ncols + j]);
          if (vl > 1) {
            auto* sum = fn_.b().CreateFAddReduce(v, a);
            llvm::FastMathFlags fm;
            fm.setAllowReassoc();  // a tree of lane sums, not lane by lane
            sum->setFastMathFlags(fm);
            v = sum;
          } else {
            v = fn_.b().CreateFAdd(v, a);
          }
          fn_.store(v, fn_.arg(1), offset(out_));
        }
    };
    nest(loops_over(outer), 0, [&] {
      split(fn_.i64(0), size_value(r), {rows, 1}, [&](Value* r0, size_t rk) {
        split(fn_.i64(0), size_value(c), {cols, 1}, [&](Value* c0, size_t ck) {
          tile(r0, c0, rk == 0 ? rows : 1, ck == 0 ? cols : 1);
        });
      });
    });
    return true;
  }

  Fn& fn_;
  VectorShape vs_;
  Term out_;
  std::vector<Term> ops_;
  std::map<int64_t, int64_t> size_;  // letter -> size (-1: slice size)
  std::vector<int64_t> order_;       // letters by first appearance (output first)
  std::map<int64_t, Value*> idx_, block_;
};

// ---- conv2d and its gradients ----
// Layouts per sample: x [H,W,C], kernel [KH,KW,C,O], y = conv2d(x,k) [OH,OW,O].

using ConvDesc = hamux_conv_plan;

// The output channels in register-sized pieces: (first channel, lanes) with full vectors
// first, then halves, quarters ... down to 4 lanes, then single channels (8 channels with
// 16-lane vectors: one 8-lane piece, not 8 scalars).
std::vector<std::pair<int64_t, int>> channel_chunks(int64_t O, int vl) {
  std::vector<std::pair<int64_t, int>> chunks;
  int64_t o = 0;
  for (int lanes = vl; lanes >= 4; lanes /= 2)
    for (; o + lanes <= O; o += lanes) chunks.push_back({o, lanes});
  for (; o < O; ++o) chunks.push_back({o, 1});
  return chunks;
}

llvm::Type* vec_type(Fn& fn, int lanes) {
  return lanes > 1 ? llvm::FixedVectorType::get(fn.real(), lanes) : fn.real();
}
Value* load_lanes(Fn& fn, int lanes, Value* base, Value* off) {
  return fn.b().CreateAlignedLoad(vec_type(fn, lanes), fn.b().CreateGEP(fn.real(), base, off),
                                  llvm::Align(fn.real()->getPrimitiveSizeInBits() / 8));
}
Value* fmuladd(Fn& fn, Value* a, Value* b, Value* c) {
  return fn.b().CreateIntrinsic(llvm::Intrinsic::fmuladd, {a->getType()}, {a, b, c});
}

// y[pixel, :] = sum over taps and channels of x * k. A tile of up to 4 neighbouring output
// pixels of a row keeps its output rows in vector registers across all the taps (no
// load/store of y per tap); each k vector is loaded once per tile, and the tile's
// independent accumulator chains hide the FMA latency (one pixel at a time was bound by it:
// 27 dependent FMAs per pixel for a 3x3x3 kernel).
void conv_forward(Fn& fn, const ConvDesc& c, int vl, int budget, Value* out, Value* pa, Value* pb) {
  llvm::IRBuilder<>& b = fn.b();
  const auto chunks = channel_chunks(c.O, vl);
  const int64_t nq = static_cast<int64_t>(chunks.size());
  const int64_t px = std::clamp<int64_t>(budget / nq, 1, 4);
  auto tile = [&](Value* oy, Value* ox0, int64_t n) {  // output pixels ox0 .. ox0 + n - 1
    std::vector<llvm::AllocaInst*> acc;                // acc[p * nq + q]
    for (int64_t p = 0; p < n; ++p)
      for (auto [o, lanes] : chunks) {
        acc.push_back(fn.local("acc", vec_type(fn, lanes)));
        b.CreateStore(llvm::Constant::getNullValue(vec_type(fn, lanes)), acc.back());
      }
    fn.loop(c.KH, [&](Value* ky) {
      Value* iy = b.CreateSub(fn.add(fn.mul(oy, fn.i64(c.sh)), ky), fn.i64(c.pt));
      fn.when(fn.in_range(iy, c.H), [&] {
        fn.loop(c.KW, [&](Value* kx) {
          Value* tap = fn.mul(fn.add(fn.mul(ky, fn.i64(c.KW)), kx), fn.i64(c.C));
          fn.loop(c.C, [&](Value* ch) {
            Value* krow = fn.mul(fn.add(tap, ch), fn.i64(c.O));
            std::vector<Value*> kv;
            for (auto [o, lanes] : chunks) kv.push_back(load_lanes(fn, lanes, pb, fn.add(krow, fn.i64(o))));
            for (int64_t p = 0; p < n; ++p) {
              Value* ix = b.CreateSub(fn.add(fn.mul(fn.add(ox0, fn.i64(p)), fn.i64(c.sw)), kx), fn.i64(c.pl));
              fn.when(fn.in_range(ix, c.W), [&] {
                Value* a = fn.load(pa, fn.add(fn.mul(fn.add(fn.mul(iy, fn.i64(c.W)), ix), fn.i64(c.C)), ch));
                for (int64_t q = 0; q < nq; ++q) {
                  const int lanes = chunks[q].second;
                  Value* av = lanes > 1 ? b.CreateVectorSplat(lanes, a) : a;
                  llvm::AllocaInst* r = acc[p * nq + q];
                  b.CreateStore(fmuladd(fn, av, kv[q], b.CreateLoad(vec_type(fn, lanes), r)), r);
                }
              });
            }
          });
        });
      });
    });
    for (int64_t p = 0; p < n; ++p) {
      Value* pixel = fn.mul(fn.add(fn.mul(oy, fn.i64(c.OW)), fn.add(ox0, fn.i64(p))), fn.i64(c.O));
      for (int64_t q = 0; q < nq; ++q) {
        auto [o, lanes] = chunks[q];
        b.CreateAlignedStore(b.CreateLoad(vec_type(fn, lanes), acc[p * nq + q]),
                             b.CreateGEP(fn.real(), out, fn.add(pixel, fn.i64(o))),
                             llvm::Align(fn.real()->getPrimitiveSizeInBits() / 8));
      }
    }
  };
  const int64_t tiled = c.OW / px * px;
  fn.loop(c.OH, [&](Value* oy) {
    fn.loop(fn.i64(0), fn.i64(tiled), px, [&](Value* ox) { tile(oy, ox, px); });
    if (tiled < c.OW) fn.loop(fn.i64(tiled), fn.i64(c.OW), 1, [&](Value* ox) { tile(oy, ox, 1); });
  });
}

// dx[iy, ix, ch] = sum over the taps that read (iy, ix) of <g[pixel, :], k[tap, ch, :]>,
// gathered per input element (each written once) with vector accumulators over the output
// channels, reduced once per element rather than once per tap.
void conv_input_grad(Fn& fn, const ConvDesc& c, int vl, int budget, Value* out, Value* pa, Value* pb) {
  llvm::IRBuilder<>& b = fn.b();
  const auto chunks = channel_chunks(c.O, vl);
  const int64_t nq = static_cast<int64_t>(chunks.size());
  // The output coordinate whose tap `k` reads input coordinate `i`, if any.
  auto source = [&](Value* i, Value* k, int64_t stride, int64_t pad, int64_t out_size, Value*& o) {
    Value* num = b.CreateSub(fn.add(i, fn.i64(pad)), k);  // o * stride
    Value* ok = b.CreateICmpSGE(num, fn.i64(0));
    Value* q = b.CreateSDiv(num, fn.i64(stride));
    if (stride > 1) ok = b.CreateAnd(ok, b.CreateICmpEQ(b.CreateSRem(num, fn.i64(stride)), fn.i64(0)));
    o = q;
    return b.CreateAnd(ok, b.CreateICmpSLT(q, fn.i64(out_size)));
  };
  // The lanes of accumulators acc[first .. first + nq) summed into one value (as a tree).
  auto reduce = [&](const std::vector<llvm::AllocaInst*>& acc, size_t first) {
    Value* sum = fn.zero();
    llvm::FastMathFlags fm;
    fm.setAllowReassoc();
    for (int64_t q = 0; q < nq; ++q) {
      Value* v = b.CreateLoad(vec_type(fn, chunks[q].second), acc[first + q]);
      if (chunks[q].second > 1) {
        auto* r = b.CreateFAddReduce(sum, v);
        r->setFastMathFlags(fm);
        sum = r;
      } else {
        sum = b.CreateFAdd(sum, v);
      }
    }
    return sum;
  };
  // A group of g input channels of a pixel at a time (as many as the accumulator budget
  // holds): each g vector is loaded once per tap and feeds g * nq independent accumulator
  // chains (one channel at a time was bound by the FMA latency).
  const int64_t group = std::clamp<int64_t>(budget / nq, 1, c.C);
  auto channels = [&](Value* iy, Value* ix, Value* c0, int64_t g) {  // channels c0 .. c0 + g - 1
    std::vector<llvm::AllocaInst*> acc;                              // acc[ch * nq + q]
    for (int64_t ch = 0; ch < g; ++ch)
      for (auto [o, lanes] : chunks) {
        acc.push_back(fn.local("acc", vec_type(fn, lanes)));
        b.CreateStore(llvm::Constant::getNullValue(vec_type(fn, lanes)), acc.back());
      }
    fn.loop(c.KH, [&](Value* ky) {
      Value* oy;
      Value* oky = source(iy, ky, c.sh, c.pt, c.OH, oy);
      fn.when(oky, [&] {
        fn.loop(c.KW, [&](Value* kx) {
          Value* ox;
          Value* okx = source(ix, kx, c.sw, c.pl, c.OW, ox);
          fn.when(okx, [&] {
            Value* pixel = fn.mul(fn.add(fn.mul(oy, fn.i64(c.OW)), ox), fn.i64(c.O));
            Value* tap = fn.add(fn.mul(fn.add(fn.mul(ky, fn.i64(c.KW)), kx), fn.i64(c.C)), c0);
            std::vector<Value*> gv;
            for (auto [o, lanes] : chunks) gv.push_back(load_lanes(fn, lanes, pa, fn.add(pixel, fn.i64(o))));
            for (int64_t ch = 0; ch < g; ++ch) {
              Value* krow = fn.mul(fn.add(tap, fn.i64(ch)), fn.i64(c.O));
              for (int64_t q = 0; q < nq; ++q) {
                auto [o, lanes] = chunks[q];
                Value* kv = load_lanes(fn, lanes, pb, fn.add(krow, fn.i64(o)));
                llvm::AllocaInst* r = acc[ch * nq + q];
                b.CreateStore(fmuladd(fn, gv[q], kv, b.CreateLoad(vec_type(fn, lanes), r)), r);
              }
            }
          });
        });
      });
    });
    Value* xpix = fn.add(fn.mul(fn.add(fn.mul(iy, fn.i64(c.W)), ix), fn.i64(c.C)), c0);
    for (int64_t ch = 0; ch < g; ++ch) fn.store(reduce(acc, ch * nq), out, fn.add(xpix, fn.i64(ch)));
  };
  const int64_t grouped = c.C / group * group;
  fn.loop(c.H, [&](Value* iy) {
    fn.loop(c.W, [&](Value* ix) {
      fn.loop(fn.i64(0), fn.i64(grouped), group, [&](Value* c0) { channels(iy, ix, c0, group); });
      if (grouped < c.C) channels(iy, ix, fn.i64(grouped), c.C - grouped);
    });
  });
}

// Accumulator registers a conv loop nest may hold: about half the vector registers.
int accumulator_budget(const VectorShape& vs) { return std::max(vs.registers / 2, 4); }

// Register accumulators only while one pixel's output channels fit in the budget.
bool conv_in_registers(const ConvDesc& c, int vl, const VectorShape& vs) {
  return static_cast<int>(channel_chunks(c.O, vl).size()) <= accumulator_budget(vs);
}

// The JIT's choice (Inline::kSmallConvolutions): the direct loops with register accumulators
// for conv2d and its input gradient with few channels, where they beat im2col + Eigen GEMM
// (whose column matrix and packing cost more than the few FLOPs per pixel); for many
// channels the packed GEMM is the better loop nest. The crossover is measured in
// docs/performance.md (CompileOptions::conv_loops_max_channels).
bool jit_inlines(const ConvDesc& c, int vl, const VectorShape& vs, int64_t max_channels) {
  return (c.kind == 0 || c.kind == 1) && c.C <= max_channels && c.O <= max_channels && conv_in_registers(c, vl, vs);
}

void emit_conv(Fn& fn, const ConvDesc& c, const VectorShape& vs) {
  llvm::IRBuilder<>& b = fn.b();
  const int vl = vs.lanes(static_cast<int>(fn.real()->getPrimitiveSizeInBits() / 8));
  const bool in_registers = conv_in_registers(c, vl, vs);
  const int64_t x_size = c.H * c.W * c.C, g_size = c.OH * c.OW * c.O, k_size = c.KH * c.KW * c.C * c.O;
  const int64_t a_size = c.kind == 0 || c.kind == 2 ? x_size : g_size;
  const int64_t b_size = c.kind == 2 ? g_size : k_size;
  const int64_t o_size = c.kind == 0 ? g_size : c.kind == 1 ? x_size : k_size;
  Value* n = c.o_b ? fn.arg(0) : fn.i64(1);
  fn.loop(fn.i64(0), n, 1, [&](Value* s) {
    Value* out = b.CreateGEP(fn.zero()->getType(), fn.arg(1), fn.mul(s, fn.i64(o_size)));
    Value* pa = b.CreateGEP(fn.zero()->getType(), fn.arg(2), fn.mul(s, fn.i64(c.a_b ? a_size : 0)));
    Value* pb = b.CreateGEP(fn.zero()->getType(), fn.arg(3), fn.mul(s, fn.i64(c.b_b ? b_size : 0)));
    if (in_registers && c.kind == 0) return conv_forward(fn, c, vl, accumulator_budget(vs), out, pa, pb);
    if (in_registers && c.kind == 1) return conv_input_grad(fn, c, vl, accumulator_budget(vs), out, pa, pb);
    if (c.kind != 0) fn.loop(o_size, [&](Value* i) { fn.store(fn.zero(), out, i); });
    fn.loop(c.OH, [&](Value* oy) {
      fn.loop(c.OW, [&](Value* ox) {
        Value* pixel = fn.mul(fn.add(fn.mul(oy, fn.i64(c.OW)), ox), fn.i64(c.O));  // into y / g
        if (c.kind == 0) fn.loop(c.O, [&](Value* o) { fn.store(fn.zero(), out, fn.add(pixel, o)); });
        fn.loop(c.KH, [&](Value* ky) {
          Value* iy = b.CreateSub(fn.add(fn.mul(oy, fn.i64(c.sh)), ky), fn.i64(c.pt));
          fn.when(fn.in_range(iy, c.H), [&] {
            fn.loop(c.KW, [&](Value* kx) {
              Value* ix = b.CreateSub(fn.add(fn.mul(ox, fn.i64(c.sw)), kx), fn.i64(c.pl));
              fn.when(fn.in_range(ix, c.W), [&] {
                Value* xpix = fn.mul(fn.add(fn.mul(iy, fn.i64(c.W)), ix), fn.i64(c.C));
                Value* tap = fn.mul(fn.add(fn.mul(ky, fn.i64(c.KW)), kx), fn.i64(c.C));
                fn.loop(c.C, [&](Value* ch) {
                  Value* krow = fn.mul(fn.add(tap, ch), fn.i64(c.O));  // k[ky,kx,ch,:]
                  if (c.kind == 0) {         // y[pixel,:] += x[iy,ix,ch] * k[ky,kx,ch,:]
                    Value* v = fn.load(pa, fn.add(xpix, ch));
                    fn.loop(c.O, [&](Value* o) {
                      fn.accumulate(out, fn.add(pixel, o), b.CreateFMul(v, fn.load(pb, fn.add(krow, o))));
                    });
                  } else if (c.kind == 1) {  // dx[iy,ix,ch] += <g[pixel,:], k[ky,kx,ch,:]>
                    llvm::AllocaInst* acc = fn.local("acc");
                    b.CreateStore(fn.zero(), acc);
                    fn.loop(c.O, [&](Value* o) {
                      Value* prod = b.CreateFMul(fn.load(pa, fn.add(pixel, o)), fn.load(pb, fn.add(krow, o)));
                      Value* sum = b.CreateFAdd(b.CreateLoad(acc->getAllocatedType(), acc), prod);
                      llvm::FastMathFlags fm;
                      fm.setAllowReassoc();
                      llvm::cast<llvm::Instruction>(sum)->setFastMathFlags(fm);
                      b.CreateStore(sum, acc);
                    });
                    fn.accumulate(out, fn.add(xpix, ch), b.CreateLoad(acc->getAllocatedType(), acc));
                  } else {                   // dk[ky,kx,ch,:] += x[iy,ix,ch] * g[pixel,:]
                    Value* v = fn.load(pa, fn.add(xpix, ch));
                    fn.loop(c.O, [&](Value* o) {
                      fn.accumulate(out, fn.add(krow, o), b.CreateFMul(v, fn.load(pb, fn.add(pixel, o))));
                    });
                  }
                });
              });
            });
          });
        });
      });
    });
  });
}

}  // namespace

bool has_contraction_loops(const llvm::Module& m) {
  for (const llvm::Function& f : m)
    if (f.getName().starts_with(kEinsumLoopsPrefix) || f.getName().starts_with(kConvLoopsPrefix)) return true;
  return false;
}

llvm::Function* emit_einsum_loops(llvm::Module& m, const std::string& name, llvm::Type* real, const EinsumPlan& plan,
                                  const Target& target, const VectorShape& vs) {
  Fn fn(m, name, real, 1 + static_cast<int>(plan.ops.size()), target);
  Einsum(fn, plan, vs).emit();
  fn.finish();
  return fn.function();
}

llvm::Function* emit_conv_loops(llvm::Module& m, const std::string& name, llvm::Type* real,
                                const hamux_conv_plan& plan, const Target& target, const VectorShape& vs) {
  Fn fn(m, name, real, 3, target);
  VectorShape wide = vs;
  wide.bytes = vs.widest_bytes;
  fn.function()->addFnAttr("min-legal-vector-width", std::to_string(wide.bytes * 8));
  emit_conv(fn, plan, wide);
  fn.finish();
  return fn.function();
}

bool conv_loops_for_jit(const hamux_conv_plan& c, int element_bytes, const VectorShape& vs, int64_t max_channels) {
  const int vl = std::max(1, vs.widest_bytes / element_bytes);  // conv lanes
  return jit_inlines(c, vl, vs, max_channels);
}

}  // namespace hamux::codegen
