//===- ShardingRules.cpp - the sharding rule of every nn op ---------------===//
//
// Factor form, as Shardy writes rules: every dimension of every operand and
// result is a product of factors (major first). A factor shared between
// values must be split alike; one missing from the results is summed over
// (splitting it leaves a pending sum); one marked need-replication must stay
// whole. A dimension of extent 1 broadcast to more has no factor.
//
//===----------------------------------------------------------------------===//

#include "dinfer/Transforms/ShardingRules.h"

#include "dialects/dist/DistDialect.h"
#include "dialects/nn/NNDialect.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectRegistry.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/Sequence.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace dinfer;
using dist::FactorKind;
using dist::ShardingRule;

namespace {

RankedTensorType typeOf(Value v) { return llvm::dyn_cast<RankedTensorType>(v.getType()); }

int64_t normalizeAxis(int64_t axis, int64_t rank) { return axis < 0 ? axis + rank : axis; }

class RuleBuilder {
public:
  explicit RuleBuilder(Operation *op) {
    for (Value v : op->getOperands())
      rule_.operandFactors.emplace_back(typeOf(v) ? typeOf(v).getRank() : 0);
    for (Value v : op->getResults())
      rule_.resultFactors.emplace_back(typeOf(v) ? typeOf(v).getRank() : 0);
  }

  int64_t factor(int64_t size, FactorKind kind = FactorKind::Parallel) {
    rule_.factorSizes.push_back(size);
    rule_.factorKinds.push_back(kind);
    return rule_.factorSizes.size() - 1;
  }
  RuleBuilder &operand(unsigned index, int64_t dim, int64_t f) {
    rule_.operandFactors[index][dim].push_back(f);
    return *this;
  }
  RuleBuilder &result(unsigned index, int64_t dim, int64_t f) {
    rule_.resultFactors[index][dim].push_back(f);
    return *this;
  }
  /// A dimension nothing may split: a factor of its own.
  void operandWhole(unsigned index, int64_t dim, int64_t size) {
    operand(index, dim, factor(size, FactorKind::NeedReplication));
  }
  void resultWhole(unsigned index, int64_t dim, int64_t size) {
    result(index, dim, factor(size, FactorKind::NeedReplication));
  }
  ShardingRule take() { return std::move(rule_); }

private:
  ShardingRule rule_;
};

/// Elementwise ops with numpy broadcasting: result dimension d is operand
/// dimension d - (rank difference) unless the operand broadcasts a 1 there.
ShardingRule elementwise(Operation *op) {
  RuleBuilder b(op);
  for (unsigned r = 0; r < op->getNumResults(); ++r) {
    RankedTensorType result = typeOf(op->getResult(r));
    if (r > 0) // every result of an elementwise op has the first one's shape
      break;
    for (int64_t d = 0; d < result.getRank(); ++d) {
      int64_t f = b.factor(result.getDimSize(d));
      for (unsigned i = 0; i < op->getNumResults(); ++i)
        b.result(i, d, f);
      for (auto [index, operand] : llvm::enumerate(op->getOperands())) {
        RankedTensorType type = typeOf(operand);
        int64_t od = d - (result.getRank() - type.getRank());
        if (od >= 0 && type.getDimSize(od) == result.getDimSize(d))
          b.operand(index, od, f);
      }
    }
  }
  return b.take();
}

/// x [batch..., M, K] (or [.., K, M]) · y [batch..., K, N] (or [.., N, K]):
/// batch, M and N parallel, K summed over.
ShardingRule matmul(Operation *op, bool transposeX, bool transposeY) {
  RuleBuilder b(op);
  RankedTensorType x = typeOf(op->getOperand(0)), y = typeOf(op->getOperand(1)), z = typeOf(op->getResult(0));
  int64_t rx = x.getRank(), ry = y.getRank(), rz = z.getRank();
  for (int64_t d = 0; d < rz - 2; ++d) {
    int64_t f = b.factor(z.getDimSize(d));
    b.result(0, d, f);
    int64_t xd = d - (rz - rx), yd = d - (rz - ry);
    if (xd >= 0 && x.getDimSize(xd) == z.getDimSize(d))
      b.operand(0, xd, f);
    if (yd >= 0 && y.getDimSize(yd) == z.getDimSize(d))
      b.operand(1, yd, f);
  }
  int64_t m = b.factor(z.getDimSize(rz - 2)), n = b.factor(z.getDimSize(rz - 1));
  int64_t k = b.factor(transposeX ? x.getDimSize(rx - 2) : x.getDimSize(rx - 1), FactorKind::Reduction);
  b.operand(0, transposeX ? rx - 1 : rx - 2, m).operand(0, transposeX ? rx - 2 : rx - 1, k);
  b.operand(1, transposeY ? ry - 1 : ry - 2, k).operand(1, transposeY ? ry - 2 : ry - 1, n);
  b.result(0, rz - 2, m).result(0, rz - 1, n);
  return b.take();
}

/// Every dimension parallel except `whole` (from `firstWhole` on), which must
/// stay whole; operands after the first cover the trailing dimensions from
/// `paramsFrom` on (LayerNorm's gamma and beta).
ShardingRule normalization(Operation *op, int64_t firstWhole, int64_t paramsFrom) {
  RuleBuilder b(op);
  RankedTensorType x = typeOf(op->getOperand(0));
  for (int64_t d = 0; d < x.getRank(); ++d) {
    int64_t f = b.factor(x.getDimSize(d), d >= firstWhole ? FactorKind::NeedReplication : FactorKind::Parallel);
    b.operand(0, d, f).result(0, d, f);
    for (unsigned i = 1; i < op->getNumOperands(); ++i) {
      int64_t pd = d - paramsFrom;
      RankedTensorType param = typeOf(op->getOperand(i));
      if (pd >= 0 && pd < param.getRank() && param.getDimSize(pd) == x.getDimSize(d))
        b.operand(i, pd, f);
    }
  }
  return b.take();
}

/// Reshape-like ops: dimensions of equal products are matched left to right,
/// a dimension that splits into several (or several that merge into one)
/// sharing factors; shapes that do not nest are left whole.
ShardingRule reshape(Operation *op) {
  RuleBuilder b(op);
  RankedTensorType in = typeOf(op->getOperand(0)), out = typeOf(op->getResult(0));
  int64_t i = 0, j = 0, inRank = in.getRank(), outRank = out.getRank();
  int64_t inLeft = inRank ? in.getDimSize(0) : 1, outLeft = outRank ? out.getDimSize(0) : 1;
  while (i < inRank && j < outRank) {
    if (inLeft == 1) {
      if (++i < inRank)
        inLeft = in.getDimSize(i);
      continue;
    }
    if (outLeft == 1) {
      if (++j < outRank)
        outLeft = out.getDimSize(j);
      continue;
    }
    if (inLeft % outLeft == 0) {
      int64_t f = b.factor(outLeft);
      b.operand(0, i, f).result(0, j, f);
      inLeft /= outLeft;
      outLeft = 1;
    } else if (outLeft % inLeft == 0) {
      int64_t f = b.factor(inLeft);
      b.operand(0, i, f).result(0, j, f);
      outLeft /= inLeft;
      inLeft = 1;
    } else {
      break; // the shapes stop nesting: what is left stays whole
    }
  }
  // Dimensions not covered (or covered only in part) must not be split.
  auto covered = [](int64_t size, llvm::ArrayRef<int64_t> factors, llvm::ArrayRef<int64_t> sizes) {
    int64_t product = 1;
    for (int64_t f : factors)
      product *= sizes[f];
    return product == size;
  };
  ShardingRule rule = b.take();
  // Keep only the factors of dimensions they cover completely.
  for (int64_t d = 0; d < inRank; ++d)
    if (!covered(in.getDimSize(d), rule.operandFactors[0][d], rule.factorSizes))
      rule.operandFactors[0][d].clear();
  for (int64_t d = 0; d < outRank; ++d)
    if (!covered(out.getDimSize(d), rule.resultFactors[0][d], rule.factorSizes))
      rule.resultFactors[0][d].clear();
  for (int64_t d = 0; d < inRank; ++d)
    if (rule.operandFactors[0][d].empty() && in.getDimSize(d) != 1) {
      rule.factorSizes.push_back(in.getDimSize(d));
      rule.factorKinds.push_back(FactorKind::NeedReplication);
      rule.operandFactors[0][d].push_back(rule.factorSizes.size() - 1);
    }
  for (int64_t d = 0; d < outRank; ++d)
    if (rule.resultFactors[0][d].empty() && out.getDimSize(d) != 1) {
      rule.factorSizes.push_back(out.getDimSize(d));
      rule.factorKinds.push_back(FactorKind::NeedReplication);
      rule.resultFactors[0][d].push_back(rule.factorSizes.size() - 1);
    }
  // A factor that lost its partner in the other value must not be split
  // either: splitting it would move data between dimensions.
  llvm::SmallVector<int, 8> uses(rule.factorSizes.size(), 0);
  for (const auto &dims : {rule.operandFactors[0], rule.resultFactors[0]})
    for (const auto &factors : dims)
      for (int64_t f : factors)
        ++uses[f];
  for (size_t f = 0; f < uses.size(); ++f)
    if (uses[f] == 1 && rule.factorKinds[f] == FactorKind::Parallel)
      rule.factorKinds[f] = FactorKind::NeedReplication;
  return rule;
}

ShardingRule transpose(nn::TransposeOp op) {
  RuleBuilder b(op);
  RankedTensorType x = typeOf(op.getX());
  llvm::SmallVector<int64_t, 4> factors;
  for (int64_t d = 0; d < x.getRank(); ++d) {
    factors.push_back(b.factor(x.getDimSize(d)));
    b.operand(0, d, factors.back());
  }
  for (auto [d, from] : llvm::enumerate(op.getPerm()))
    b.result(0, d, factors[from]);
  return b.take();
}

ShardingRule reduction(Operation *op, llvm::ArrayRef<int64_t> axes, bool keepDims) {
  RuleBuilder b(op);
  RankedTensorType x = typeOf(op->getOperand(0));
  int64_t rank = x.getRank(), out = 0;
  for (int64_t d = 0; d < rank; ++d) {
    bool reduced = axes.empty() || llvm::any_of(axes, [&](int64_t a) { return normalizeAxis(a, rank) == d; });
    int64_t f = b.factor(x.getDimSize(d), reduced ? FactorKind::Reduction : FactorKind::Parallel);
    b.operand(0, d, f);
    if (!reduced)
      b.result(0, out++, f);
    else if (keepDims)
      ++out; // a dimension of 1 in the result
  }
  return b.take();
}

/// Every dimension of every operand and result whole: ops whose reads follow
/// index data (scatters, GatherNd), computed where their operands are whole.
ShardingRule allWhole(Operation *op) {
  RuleBuilder b(op);
  for (auto [i, v] : llvm::enumerate(op->getOperands()))
    for (int64_t d = 0; d < typeOf(v).getRank(); ++d)
      b.operandWhole(i, d, typeOf(v).getDimSize(d));
  for (auto [i, v] : llvm::enumerate(op->getResults()))
    for (int64_t d = 0; d < typeOf(v).getRank(); ++d)
      b.resultWhole(i, d, typeOf(v).getDimSize(d));
  return b.take();
}

/// One operand and one result of the same rank whose dimension `d` is
/// parallel where `parallel(d)` holds and the extents agree, whole elsewhere
/// (a scan's axis, a padded dimension, GatherD's dim).
template <typename Pred>
ShardingRule sameRankExcept(Operation *op, unsigned operandCount, Pred parallel) {
  RuleBuilder b(op);
  RankedTensorType y = typeOf(op->getResult(0));
  for (int64_t d = 0; d < y.getRank(); ++d) {
    bool agree = llvm::all_of(llvm::seq(0u, operandCount),
                              [&](unsigned i) { return typeOf(op->getOperand(i)).getDimSize(d) == y.getDimSize(d); });
    if (parallel(d) && agree) {
      int64_t f = b.factor(y.getDimSize(d));
      for (unsigned i = 0; i < operandCount; ++i)
        b.operand(i, d, f);
      b.result(0, d, f);
      continue;
    }
    for (unsigned i = 0; i < operandCount; ++i)
      b.operandWhole(i, d, typeOf(op->getOperand(i)).getDimSize(d));
    b.resultWhole(0, d, y.getDimSize(d));
  }
  for (unsigned i = operandCount; i < op->getNumOperands(); ++i)
    for (int64_t d = 0; d < typeOf(op->getOperand(i)).getRank(); ++d)
      b.operandWhole(i, d, typeOf(op->getOperand(i)).getDimSize(d));
  return b.take();
}

/// Argmax / argmin: the searched axis whole, the others parallel.
ShardingRule argReduce(Operation *op, int64_t axisAttr) {
  RuleBuilder b(op);
  RankedTensorType x = typeOf(op->getOperand(0));
  int64_t axis = normalizeAxis(axisAttr, x.getRank()), out = 0;
  for (int64_t d = 0; d < x.getRank(); ++d) {
    if (d == axis) {
      b.operandWhole(0, d, x.getDimSize(d));
      continue;
    }
    int64_t f = b.factor(x.getDimSize(d));
    b.operand(0, d, f).result(0, out++, f);
  }
  return b.take();
}

/// Concat (operands -> one result) and Split (one operand -> results) along
/// `axis`: every other dimension shared; the axis stays whole everywhere.
ShardingRule concatLike(Operation *op, int64_t axis) {
  RuleBuilder b(op);
  RankedTensorType first = typeOf(op->getOperand(0));
  int64_t rank = first.getRank();
  axis = normalizeAxis(axis, rank);
  for (int64_t d = 0; d < rank; ++d) {
    if (d == axis) {
      for (unsigned i = 0; i < op->getNumOperands(); ++i)
        b.operandWhole(i, d, typeOf(op->getOperand(i)).getDimSize(d));
      for (unsigned i = 0; i < op->getNumResults(); ++i)
        b.resultWhole(i, d, typeOf(op->getResult(i)).getDimSize(d));
      continue;
    }
    int64_t f = b.factor(first.getDimSize(d));
    for (unsigned i = 0; i < op->getNumOperands(); ++i)
      b.operand(i, d, f);
    for (unsigned i = 0; i < op->getNumResults(); ++i)
      b.result(i, d, f);
  }
  return b.take();
}

FailureOr<ShardingRule> stridedSlice(nn::StridedSliceOp op) {
  RuleBuilder b(op);
  RankedTensorType x = typeOf(op.getX());
  auto begin = op.getBegin(), end = op.getEnd(), strides = op.getStrides();
  uint64_t beginMask = op.getBeginMask(), endMask = op.getEndMask(), shrinkMask = op.getShrinkAxisMask();
  int64_t out = 0;
  for (int64_t d = 0; d < x.getRank(); ++d) {
    int64_t size = x.getDimSize(d);
    bool given = d < static_cast<int64_t>(begin.size());
    bool shrink = given && (shrinkMask >> d & 1);
    bool whole =
        !given || (!shrink && strides[d] == 1 && ((beginMask >> d & 1) || begin[d] == 0 || begin[d] == -size) &&
                   ((endMask >> d & 1) || end[d] >= size));
    if (whole) {
      int64_t f = b.factor(size);
      b.operand(0, d, f).result(0, out++, f);
      continue;
    }
    b.operandWhole(0, d, size);
    if (!shrink) {
      b.resultWhole(0, out, typeOf(op.getResult()).getDimSize(out));
      ++out;
    }
  }
  return b.take();
}

/// params [outer..., V, inner...] gathered by indices [I...] along the axis:
/// the result is [outer..., I..., inner...]. Splitting V (a vocabulary-
/// parallel table) leaves a pending sum: each rank looks up the rows it
/// holds, zeroes the others, and an all_reduce completes the result.
ShardingRule gather(nn::GatherOp op) {
  RuleBuilder b(op);
  RankedTensorType params = typeOf(op.getParams()), indices = typeOf(op.getIndices());
  int64_t axis = normalizeAxis(op.getAxis(), params.getRank()), out = 0;
  for (int64_t d = 0; d < params.getRank(); ++d) {
    if (d == axis) {
      b.operand(0, d, b.factor(params.getDimSize(d), FactorKind::Reduction));
      for (int64_t i = 0; i < indices.getRank(); ++i) {
        int64_t f = b.factor(indices.getDimSize(i));
        b.operand(1, i, f).result(0, out++, f);
      }
      continue;
    }
    int64_t f = b.factor(params.getDimSize(d));
    b.operand(0, d, f).result(0, out++, f);
  }
  return b.take();
}

/// x [N, C, H, W] * w [O, C/G, KH, KW] -> y [N, O, OH, OW]: batch and output
/// channels parallel, input channels summed over (only without groups),
/// windows whole (a split would need halos).
ShardingRule conv2d(nn::Conv2DOp op) {
  RuleBuilder b(op);
  RankedTensorType x = typeOf(op.getX()), w = typeOf(op.getW()), y = typeOf(op.getResult());
  int64_t n = b.factor(x.getDimSize(0)), o = b.factor(w.getDimSize(0));
  b.operand(0, 0, n).result(0, 0, n).operand(1, 0, o).result(0, 1, o);
  if (op.getGroup() == 1) {
    int64_t c = b.factor(x.getDimSize(1), FactorKind::Reduction);
    b.operand(0, 1, c).operand(1, 1, c);
  } else {
    b.operandWhole(0, 1, x.getDimSize(1));
    b.operandWhole(1, 1, w.getDimSize(1));
  }
  for (int64_t d = 2; d < x.getRank(); ++d) {
    b.operandWhole(0, d, x.getDimSize(d));
    b.operandWhole(1, d, w.getDimSize(d));
    b.resultWhole(0, d, y.getDimSize(d));
  }
  return b.take();
}

/// Pooling: batch and channels parallel, windows whole.
ShardingRule pool(Operation *op) {
  RuleBuilder b(op);
  RankedTensorType x = typeOf(op->getOperand(0)), y = typeOf(op->getResult(0));
  for (int64_t d : {0, 1}) {
    int64_t f = b.factor(x.getDimSize(d));
    b.operand(0, d, f).result(0, d, f);
  }
  for (int64_t d = 2; d < x.getRank(); ++d) {
    b.operandWhole(0, d, x.getDimSize(d));
    b.resultWhole(0, d, y.getDimSize(d));
  }
  return b.take();
}

/// LSTM: the batch (dimension 1 of the sequence, the states and every
/// result) is parallel; the sequence runs step after step and every step
/// reads the whole state and all of w, so the rest stays whole.
ShardingRule lstm(nn::LSTMOp op) {
  RuleBuilder b(op);
  int64_t batch = b.factor(typeOf(op.getX()).getDimSize(1));
  for (unsigned i = 0; i < 3; ++i)
    b.operand(i, 1, batch).result(i, 1, batch);
  for (unsigned i = 0; i < 3; ++i)
    for (int64_t d : {0, 2}) {
      b.operandWhole(i, d, typeOf(op->getOperand(i)).getDimSize(d));
      b.resultWhole(i, d, typeOf(op->getResult(i)).getDimSize(d));
    }
  for (int64_t d = 0; d < typeOf(op.getW()).getRank(); ++d)
    b.operandWhole(3, d, typeOf(op.getW()).getDimSize(d));
  return b.take();
}

FailureOr<ShardingRule> ruleOf(Operation *op) {
  for (Type t : op->getOperandTypes())
    if (!llvm::isa<RankedTensorType>(t))
      return failure();
  for (Type t : op->getResultTypes())
    if (!llvm::isa<RankedTensorType>(t))
      return failure();
  return llvm::TypeSwitch<Operation *, FailureOr<ShardingRule>>(op)
      .Case<nn::SqrtOp, nn::NegOp, nn::ExpOp, nn::ErfOp, nn::TanhOp, nn::SigmoidOp, nn::ReLUOp, nn::FastGeLUOp,
            nn::SiLUOp, nn::GeLUOp, nn::AddOp, nn::SubOp, nn::MulOp, nn::DivOp, nn::PowOp, nn::SelectOp, nn::CastOp,
            nn::LogOp, nn::FloorOp, nn::CeilOp, nn::RoundOp, nn::SinOp, nn::CosOp, nn::TanOp, nn::AsinOp, nn::AcosOp,
            nn::AtanOp, nn::SinhOp, nn::CoshOp, nn::AsinhOp, nn::AcoshOp, nn::AtanhOp, nn::ReciprocalOp, nn::SignOp,
            nn::SoftplusOp, nn::SoftsignOp, nn::MishOp, nn::HSwishOp, nn::LogicalNotOp, nn::IsNanOp, nn::IsInfOp,
            nn::MaximumOp, nn::MinimumOp, nn::FloorModOp, nn::ModOp, nn::EqualOp, nn::NotEqualOp, nn::LessOp,
            nn::LessEqualOp, nn::GreaterOp, nn::GreaterEqualOp, nn::LogicalAndOp, nn::LogicalOrOp,
            nn::BroadcastToOp>(
          [](Operation *o) { return elementwise(o); })
      .Case([](nn::MatMulOp o) { return matmul(o, o.getTransposeA(), o.getTransposeB()); })
      .Case([](nn::BatchMatMulOp o) { return matmul(o, o.getTransposeA(), o.getTransposeB()); })
      .Case([](nn::BiasAddOp o) {
        RuleBuilder b(o);
        RankedTensorType x = typeOf(o.getX());
        int64_t channel = o.getDataFormat() == "NHWC" ? x.getRank() - 1 : 1;
        for (int64_t d = 0; d < x.getRank(); ++d) {
          int64_t f = b.factor(x.getDimSize(d));
          b.operand(0, d, f).result(0, d, f);
          if (d == channel)
            b.operand(1, 0, f);
        }
        return b.take();
      })
      .Case([](nn::TileOp o) {
        // An untiled dimension splits with its result; a tiled one stays
        // whole (each result block repeats the whole operand dimension).
        RuleBuilder b(o);
        RankedTensorType x = typeOf(o.getX()), y = typeOf(o.getY());
        for (int64_t d = 0; d < x.getRank(); ++d) {
          if (o.getMultiples()[d] == 1) {
            int64_t f = b.factor(x.getDimSize(d));
            b.operand(0, d, f).result(0, d, f);
            continue;
          }
          b.operand(0, d, b.factor(x.getDimSize(d), FactorKind::NeedReplication));
          b.result(0, d, b.factor(y.getDimSize(d), FactorKind::NeedReplication));
        }
        return b.take();
      })
      .Case<nn::SoftmaxOp, nn::LogSoftmaxOp>([](Operation *o) {
        RuleBuilder b(o);
        RankedTensorType x = typeOf(o->getOperand(0));
        int64_t axis = normalizeAxis(o->getAttrOfType<IntegerAttr>("axis").getInt(), x.getRank());
        for (int64_t d = 0; d < x.getRank(); ++d) {
          int64_t f = b.factor(x.getDimSize(d), d == axis ? FactorKind::NeedReplication : FactorKind::Parallel);
          b.operand(0, d, f).result(0, d, f);
        }
        return b.take();
      })
      .Case([](nn::LayerNormOp o) {
        int64_t rank = typeOf(o.getX()).getRank();
        return normalization(o, normalizeAxis(o.getBeginNormAxis(), rank), normalizeAxis(o.getBeginParamsAxis(), rank));
      })
      .Case([](nn::RMSNormOp o) {
        int64_t rank = typeOf(o.getX()).getRank(), params = typeOf(o.getGamma()).getRank();
        return normalization(o, rank - params, rank - params);
      })
      .Case([](nn::BatchNormOp o) {
        // Per channel: every dimension parallel, the statistics follow C.
        RuleBuilder b(o);
        RankedTensorType x = typeOf(o.getX());
        for (int64_t d = 0; d < x.getRank(); ++d) {
          int64_t f = b.factor(x.getDimSize(d));
          b.operand(0, d, f).result(0, d, f);
          if (d == 1)
            for (unsigned i = 1; i < 5; ++i)
              b.operand(i, 0, f);
        }
        return b.take();
      })
      .Case([](nn::ReduceSumOp o) { return reduction(o, o.getAxis(), o.getKeepDims()); })
      .Case([](nn::ReduceMeanOp o) { return reduction(o, o.getAxis(), o.getKeepDims()); })
      .Case([](nn::ReduceMaxOp o) { return reduction(o, o.getAxis(), o.getKeepDims()); })
      .Case([](nn::ReduceMinOp o) { return reduction(o, o.getAxis(), o.getKeepDims()); })
      .Case([](nn::ReduceProdOp o) { return reduction(o, o.getAxis(), o.getKeepDims()); })
      .Case([](nn::ArgmaxOp o) { return argReduce(o, o.getAxis()); })
      .Case([](nn::ArgminOp o) { return argReduce(o, o.getAxis()); })
      .Case([](nn::CumSumOp o) {
        int64_t axis = normalizeAxis(o.getAxis(), typeOf(o.getX()).getRank());
        return sameRankExcept(o, 1, [&](int64_t d) { return d != axis; });
      })
      .Case([](nn::GatherDOp o) {
        int64_t dim = normalizeAxis(o.getDim(), typeOf(o.getX()).getRank());
        return sameRankExcept(o, 2, [&](int64_t d) { return d != dim; });
      })
      .Case([](nn::PadOp o) {
        ArrayRef<int64_t> paddings = o.getPaddings();
        return sameRankExcept(o, 1, [&](int64_t d) { return paddings[2 * d] == 0 && paddings[2 * d + 1] == 0; });
      })
      .Case<nn::Conv2DTransposeOp, nn::Conv3DTransposeOp>([](Operation *o) {
        // The batch splits; channels and space stay whole (each output
        // element sums over input channels of its group and several inputs).
        return sameRankExcept(o, 1, [](int64_t d) { return d == 0; });
      })
      .Case<nn::GatherNdOp, nn::TensorScatterUpdateOp, nn::TensorScatterAddOp, nn::TensorScatterMulOp,
            nn::TensorScatterMaxOp, nn::TensorScatterMinOp, nn::TensorScatterElementsOp>(
          [](Operation *o) { return allWhole(o); })
      .Case<nn::ReshapeOp, nn::ExpandDimsOp, nn::SqueezeOp, nn::FlattenOp>([](Operation *o) { return reshape(o); })
      .Case([](nn::TransposeOp o) { return transpose(o); })
      .Case([](nn::ConcatOp o) { return concatLike(o, o.getAxis()); })
      .Case([](nn::SplitOp o) { return concatLike(o, o.getAxis()); })
      .Case([](nn::StridedSliceOp o) { return stridedSlice(o); })
      .Case([](nn::GatherOp o) { return gather(o); })
      .Case([](nn::Conv2DOp o) { return conv2d(o); })
      .Case<nn::MaxPoolOp, nn::AvgPoolOp, nn::MaxPool3DOp, nn::AvgPool3DOp>([](Operation *o) { return pool(o); })
      .Case([](nn::LSTMOp o) { return lstm(o); })
      .Default([](Operation *) { return failure(); });
}

template <typename OpT>
struct NNShardingRule : dist::ShardingRuleOpInterface::ExternalModel<NNShardingRule<OpT>, OpT> {
  FailureOr<ShardingRule> getShardingRule(Operation *op) const { return ruleOf(op); }
};

template <typename... OpTs>
void attachAll(MLIRContext *context) {
  (OpTs::template attachInterface<NNShardingRule<OpTs>>(*context), ...);
}

std::string factorName(int64_t f) {
  std::string name(1, static_cast<char>('i' + f % 18));
  if (f >= 18)
    name += std::to_string(f / 18);
  return name;
}

} // namespace

void dinfer::registerNNShardingRules(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *context, nn::NNDialect *) {
    attachAll<
#define GET_OP_LIST
#include "dialects/nn/NNOps.cpp.inc"
        >(context);
  });
}

std::string dinfer::formatShardingRule(const ShardingRule &rule) {
  auto values = [&](const auto &list) {
    std::string text = "(";
    for (auto [i, dims] : llvm::enumerate(list)) {
      text += i ? ", [" : "[";
      for (auto [d, factors] : llvm::enumerate(dims)) {
        if (d)
          text += ", ";
        for (int64_t f : factors)
          text += factorName(f);
        if (factors.empty())
          text += "1";
      }
      text += "]";
    }
    return text + ")";
  };
  std::string text = values(rule.operandFactors) + "->" + values(rule.resultFactors) + " {";
  for (size_t f = 0; f < rule.factorSizes.size(); ++f)
    text += (f ? ", " : "") + factorName(f) + "=" + std::to_string(rule.factorSizes[f]);
  text += "}";
  for (auto [kind, label] : {std::pair(FactorKind::Reduction, " reduction={"),
                             std::pair(FactorKind::NeedReplication, " need_replication={")}) {
    std::string listed;
    for (size_t f = 0; f < rule.factorKinds.size(); ++f)
      if (rule.factorKinds[f] == kind)
        listed += (listed.empty() ? "" : ", ") + factorName(f);
    if (!listed.empty())
      text += label + listed + "}";
  }
  return text;
}
