//===- Interpreter.cpp - run an nn-dialect program on the host CPU --------===//

#include "InterpreterImpl.h"

#include "dinfer/Layout/Layout.h"

#include "dialects/dist/DistOps.h"
#include "dialects/nn/NNDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <memory>

using namespace mlir;
using namespace dinfer;
using namespace dinfer::interp;
using llvm::SmallVector;

std::optional<DType> dinfer::runtimeDType(Type t) {
  if (t.isF32())
    return DType::Float32;
  if (t.isF16())
    return DType::Float16;
  if (t.isBF16())
    return DType::BFloat16;
  if (t.isF64())
    return DType::Float64;
  if (auto i = llvm::dyn_cast<IntegerType>(t)) {
    switch (i.getWidth()) {
    case 1: return DType::Bool;
    case 8: return i.isUnsigned() ? DType::UInt8 : DType::Int8;
    case 16: return i.isUnsigned() ? DType::UInt16 : DType::Int16;
    case 32: return i.isUnsigned() ? DType::UInt32 : DType::Int32;
    case 64: return i.isUnsigned() ? DType::UInt64 : DType::Int64;
    default: return std::nullopt;
    }
  }
  return std::nullopt;
}

namespace dinfer::interp {

llvm::Error Interpreter::constant(arith::ConstantOp op) {
  auto elements = llvm::dyn_cast<ElementsAttr>(op.getValue());
  auto type = llvm::dyn_cast<RankedTensorType>(op.getType());
  if (!elements || !type || !runtimeDType(type.getElementType()))
    return opError(op, "only tensor constants of supported element types can run");
  DType dtype = *runtimeDType(type.getElementType());
  size_t bytes = static_cast<size_t>(type.getNumElements()) * (dtypeBits(dtype) / 8);
  // Weights are read where the module holds them, never copied.
  auto viewOf = [&](const char *data) {
    values_[op.getResult()] = std::make_shared<Buffer>(Buffer::view(dtype, type.getShape(), data));
    return llvm::Error::success();
  };
  if (auto resource = llvm::dyn_cast<DenseResourceElementsAttr>(elements)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob || blob->getData().size() != bytes)
      return opError(op, "resource blob '" + resource.getRawHandle().getKey() + "' has no data of the right size");
    return viewOf(blob->getData().data());
  }
  auto dense = llvm::dyn_cast<DenseElementsAttr>(elements);
  if (!dense)
    return opError(op, "unsupported constant");
  llvm::ArrayRef<char> raw = dense.getRawData();
  bool isBool = type.getElementType().isInteger(1);
  if (!isBool && !dense.isSplat() && raw.size() == bytes)
    return viewOf(raw.data());
  Buffer &out = define(op.getResult());
  if (isBool) {
    int64_t i = 0;
    for (bool b : dense.getValues<bool>())
      out.data[i++] = b;
  } else if (dense.isSplat()) {
    for (size_t i = 0; i < out.data.size(); i += raw.size())
      copyBytes(out.data.data() + i, raw.data(), raw.size());
  } else {
    copyBytes(out.data.data(), raw.data(), out.data.size());
  }
  return llvm::Error::success();
}

} // namespace dinfer::interp

Kernel dinfer::interp::selectKernel(Operation *op) {
  for (Kernel (*select)(Operation *) : {selectCoreKernel, selectElementwiseKernel, selectLinalgKernel,
                                        selectNormalizationKernel, selectDataMovementKernel, selectIndexingKernel,
                                        selectCollectivesKernel})
    if (Kernel kernel = select(op))
      return kernel;
  return nullptr;
}

Kernel dinfer::interp::selectCoreKernel(Operation *op) {
  return llvm::TypeSwitch<Operation *, Kernel>(op)
      .Case([](arith::ConstantOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto c = llvm::cast<arith::ConstantOp>(op);
          return self.constant(c);
        };
      })
      .Case([](dist::ParamOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto p = llvm::cast<dist::ParamOp>(op);

          auto data = self.weights_(p.getName());
          if (!data)
            return opError(op, llvm::toString(data.takeError()));
          RankedTensorType type = typeOf(p.getResult());
          if (data->shape != SmallVector<int64_t, 4>(type.getShape()) ||
              data->dtype != *runtimeDType(type.getElementType()))
            return opError(op, "the data of parameter '" + p.getName() + "' has another shape or dtype than " +
                                   "its reference");
          size_t alignment = std::min<size_t>(std::max<size_t>(data->elementBytes(), 1), alignof(std::max_align_t));
          if (data->isView() && reinterpret_cast<uintptr_t>(data->bytes()) % alignment != 0 &&
              !self.state_.readByOneDnnOnly.contains(p.getResult())) {
            Executable::State::AlignedWeight &aligned = self.state_.alignedWeights[p.getResult()];
            if (!aligned.copy || aligned.source != data->bytes()) {
              aligned.source = data->bytes();
              auto copy = std::make_shared<Buffer>(std::move(*data));
              copy->materialize();
              aligned.copy = std::move(copy);
            }
            const std::shared_ptr<const Buffer> &held = aligned.copy;
            self.values_[p.getResult()] =
                std::make_shared<Buffer>(Buffer::view(held->dtype, held->shape, held->bytes(), held));
            return llvm::Error::success();
          }
          self.values_[p.getResult()] = std::make_shared<Buffer>(std::move(*data));
          return llvm::Error::success();
        };
      })
      .Case([](dist::AnnotateOp) -> Kernel {
        return [](Interpreter &self, Operation *op) -> llvm::Error {
          auto a = llvm::cast<dist::AnnotateOp>(op);

          self.values_[a.getResult()] = self.values_.lookup(a.getInput());
          return llvm::Error::success();
        };
      })
      .Default([](Operation *) -> Kernel { return nullptr; });
}

void dinfer::interp::Interpreter::toRowMajor(const Buffer &nhwc, char *plain) {
  llvm::ArrayRef<int64_t> s = nhwc.shape;
  int64_t stored[] = {s[0], s[2], s[3], s[1]}, perm[] = {0, 3, 1, 2};
  kernels::transpose(nhwc.bytes(), plain, stored, perm, nhwc.elementBytes());
}

std::vector<char> Executable::State::take(size_t bytes) {
  size_t step = takes++;
  std::vector<char> storage;
  if (bytes) {
    auto chosen = pool.rend();
    // What this step took last run, when it is free again: a program whose
    // values come and go in the same order every run then takes the same
    // storage every run, and never more than the first run allocated.
    if (step < plan.size() && plan[step])
      for (auto it = pool.rbegin(); it != pool.rend(); ++it)
        if (it->data() == plan[step] && it->capacity() >= bytes) {
          chosen = it;
          break;
        }
    if (chosen == pool.rend())
      for (auto it = pool.rbegin(); it != pool.rend(); ++it)
        if (it->capacity() >= bytes && it->capacity() / 2 <= bytes) {
          chosen = it;
          break;
        }
    if (chosen != pool.rend()) {
      storage = std::move(*chosen);
      pool.erase(std::next(chosen).base());
      pooledBytes -= storage.capacity();
      storage.resize(bytes); // zeroes only what grows within the capacity
    }
  }
  if (storage.empty()) {
    storage.assign(bytes, 0);
    (ranOnce ? laterActivationBytes : activationBytes) += bytes;
  }
  if (step >= plan.size())
    plan.resize(step + 1, nullptr);
  plan[step] = storage.data();
  return storage;
}

llvm::Expected<std::vector<Buffer>> dinfer::interp::Interpreter::run(std::vector<Buffer> inputs) {
  func::FuncOp function = state_.entry;
  if (inputs.size() != function.getNumArguments())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "the program takes " + std::to_string(function.getNumArguments()) + " inputs, " +
                                       std::to_string(inputs.size()) + " were given");
  for (auto [i, arg] : llvm::enumerate(function.getArguments()))
    values_[arg] = std::make_shared<Buffer>(std::move(inputs[i]));
  if (auto ret = llvm::dyn_cast<func::ReturnOp>(function.getBody().front().getTerminator()))
    liveOutputs_.assign(ret.getOperands().begin(), ret.getOperands().end());

  for (auto [opPointer, kernel] : state_.steps) {
    Operation &op = *opPointer;
    if (auto ret = llvm::dyn_cast<func::ReturnOp>(op)) {
      std::vector<Buffer> outputs;
      auto pooledCopy = [&](const Buffer &from) {
        Buffer copy;
        copy.dtype = from.dtype;
        copy.shape = from.shape;
        copy.data = state_.take(from.byteSize());
        std::memcpy(copy.data.data(), from.bytes(), from.byteSize());
        return copy;
      };
      llvm::SmallDenseMap<Value, size_t, 4> returnedAt;
      for (Value v : ret.getOperands()) {
        // A value returned twice: its first output was moved out of it.
        if (auto first = returnedAt.find(v); first != returnedAt.end()) {
          outputs.push_back(pooledCopy(outputs[first->second]));
          continue;
        }
        returnedAt[v] = outputs.size();
        (void)in(v); // row-major
        std::shared_ptr<Buffer> &buffer = values_[v];
        if (buffer.use_count() == 1)
          outputs.push_back(std::move(*buffer));
        else if (buffer->isView())
          outputs.push_back(*buffer);
        else // another value's buffer too
          outputs.push_back(pooledCopy(*buffer));
        outputs.back().materialize();
      }
      // What is left goes back to the pool, not to the system: the next run
      // takes the same storage.
      retireReplaced();
      for (auto &entry : values_)
        retire(std::move(entry.second));
      values_.clear();
      return outputs;
    }
    dyingHere_.clear();
    auto dead = state_.dying.find(&op);
    if (dead != state_.dying.end())
      dyingHere_.insert(dead->second.begin(), dead->second.end());
    auto began = profile_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
    auto kept = state_.keptCasts.find(&op);
    if (kept != state_.keptCasts.end()) {
      if (llvm::Error err = runKeptCast(op, kernel, kept->second))
        return std::move(err);
    } else if (llvm::Error err = kernel(*this, &op)) {
      return std::move(err);
    } else if (!state_.keptCasts.empty() && state_.prepacked.count(&op)) {
      for (Value operand : op.getOperands())
        if (Operation *producer = operand.getDefiningOp())
          releaseIfOnlyPacked(producer);
    }
    if (profile_) {
      std::string key = op.getName().getStringRef().str();
      if (profile_->byShape) {
        // Which convolution or product: its operands' types.
        llvm::raw_string_ostream os(key);
        for (Value v : op.getOperands())
          os << " " << v.getType();
      }
      auto &[seconds, calls] = profile_->byOp[key];
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
      ++calls;
    }
    retireReplaced();
    for (Value v : dyingHere_)
      release(v);
  }
  return llvm::createStringError(llvm::inconvertibleErrorCode(), "the program has no return");
}

llvm::Error dinfer::interp::Interpreter::runKeptCast(Operation &cast, Kernel kernel, Executable::State::KeptCast &kept) {
  std::shared_ptr<Buffer> operand = values_.lookup(cast.getOperand(0));
  if (kept.result && kept.source == operand->bytes()) {
    values_[cast.getResult(0)] = kept.result;
    return llvm::Error::success();
  }
  size_t allocated = state_.activationBytes, allocatedLater = state_.laterActivationBytes;
  if (llvm::Error err = kernel(*this, &cast))
    return err;
  // A weight copy, counted as one.
  state_.activationBytes = allocated;
  state_.laterActivationBytes = allocatedLater;
  kept = {operand->bytes(), values_.lookup(cast.getResult(0))};
  // The float16 weight itself is not read again: its pages of the model
  // file go back.
  if (operand->isView() && cast.getOperand(0).getDefiningOp<dist::ParamOp>())
    kernels::releasePages(operand->bytes(), operand->byteSize(), /*fileBacked=*/true);
  return llvm::Error::success();
}

void dinfer::interp::Interpreter::releaseIfOnlyPacked(Operation *cast) {
  auto kept = state_.keptCasts.find(cast);
  if (kept == state_.keptCasts.end() || kept->second.released || !kept->second.result ||
      kept->second.result->isView() || llvm::is_contained(liveOutputs_, cast->getResult(0)))
    return;
  // Only the weight operand of a product is read from its packed copy; one
  // that reads the value as its other operand reads these bytes every run.
  auto packedWeight = [](Operation *user) -> OpOperand * {
    if (auto m = llvm::dyn_cast<nn::MatMulOp>(user))
      return &m.getWMutable();
    if (auto m = llvm::dyn_cast<nn::BatchMatMulOp>(user))
      return &m.getYMutable();
    if (auto c = llvm::dyn_cast<nn::Conv2DOp>(user))
      return &c.getWMutable();
    return nullptr;
  };
  bool onlyPacked = llvm::all_of(cast->getResult(0).getUses(), [&](OpOperand &use) {
    auto packed = state_.prepacked.find(use.getOwner());
    return &use == packedWeight(use.getOwner()) && packed != state_.prepacked.end() && packed->second &&
           packed->second->holdsOwnCopy();
  });
  if (!onlyPacked)
    return;
  const Buffer &converted = *kept->second.result;
  kernels::releasePages(converted.bytes(), converted.byteSize(), /*fileBacked=*/false);
  kept->second.released = true;
}

void OpProfile::print(llvm::raw_ostream &os) const {
  double total = 0;
  for (const auto &[name, entry] : byOp)
    total += entry.first;
  std::vector<std::pair<std::string, std::pair<double, int64_t>>> rows(byOp.begin(), byOp.end());
  std::sort(rows.begin(), rows.end(), [](const auto &a, const auto &b) { return a.second.first > b.second.first; });
  os << llvm::formatv("{0,-24} {1,10} {2,7} {3,6}\n", "op", "ms", "calls", "share");
  for (const auto &[name, entry] : rows)
    os << llvm::formatv("{0,-24} {1,10:f3} {2,7} {3,5:f1}%\n", name, entry.first * 1e3, entry.second,
                        total > 0 ? 100 * entry.first / total : 0.0);
  os << llvm::formatv("{0,-24} {1,10:f3}\n", "total", total * 1e3);
}

Executable::Executable() : state_(std::make_unique<State>()) {}
Executable::~Executable() = default;

llvm::Expected<std::unique_ptr<Executable>> Executable::prepare(ModuleOp module) { return prepare(module, ""); }

llvm::Expected<std::unique_ptr<Executable>> Executable::prepare(ModuleOp module, llvm::StringRef entryName) {
  func::FuncOp entry = module.lookupSymbol<func::FuncOp>(entryName.empty() ? "main" : entryName);
  if (!entry && !entryName.empty())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "the module has no function @" + entryName.str() + " to run");
  if (!entry) {
    auto functions = llvm::to_vector(module.getOps<func::FuncOp>());
    if (functions.size() != 1)
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "the module needs a function @main, or exactly one function, to run");
    entry = functions.front();
  }
  for (Operation &op : entry.getBody().front())
    for (Value result : op.getResults())
      if (auto type = llvm::dyn_cast<RankedTensorType>(result.getType()); !type || !runtimeDType(type.getElementType()))
        return opError(&op, "produces a value of a type the runtime does not support");
  std::unique_ptr<Executable> executable(new Executable());
  executable->state_->entry = entry;
  // Every op's kernel, chosen here once: a run only calls them.
  for (Operation &op : entry.getBody().front()) {
    if (llvm::isa<func::ReturnOp>(op)) {
      executable->state_->steps.push_back({&op, nullptr});
      continue;
    }
    Kernel kernel = selectKernel(&op);
    if (!kernel)
      return opError(&op, "the runtime cannot run this op");
    executable->state_->steps.push_back({&op, kernel});
  }
  // The op at which each value is used for the last time: its storage goes
  // back to the pool there.
  llvm::DenseMap<Value, Operation *> lastUse;
  for (Operation &op : entry.getBody().front())
    for (Value operand : op.getOperands())
      lastUse[operand] = &op;
  for (auto &[value, op] : lastUse)
    executable->state_->dying[op].push_back(value);
  // Run-invariant values: an op without side effects whose operands are all
  // run-invariant (weights and constants have none) gives the same result in
  // every run, given that weights do not change between runs.
  for (Operation &op : entry.getBody().front()) {
    if (op.getNumResults() == 0 || !isMemoryEffectFree(&op))
      continue;
    if (llvm::all_of(op.getOperands(), [&](Value v) { return executable->state_->runInvariant.contains(v); }))
      executable->state_->runInvariant.insert(op.result_begin(), op.result_end());
  }
  for (Operation &op : entry.getBody().front())
    if (llvm::isa<nn::CastOp>(op) && executable->state_->runInvariant.contains(op.getOperand(0)))
      executable->state_->keptCasts[&op] = {};
  // Float32 weights that only oneDNN's products and convolutions read: a
  // misaligned view of them needs no aligned copy.
  auto isF32 = [](Value v) { return typeOf(v).getElementType().isF32(); };
  for (Operation &op : entry.getBody().front()) {
    auto param = llvm::dyn_cast<dist::ParamOp>(op);
    if (!param || !isF32(param.getResult()))
      continue;
    Value weight = param.getResult();
    bool oneDnnOnly = !weight.use_empty() && llvm::all_of(weight.getUses(), [&](OpOperand &use) {
      Operation *user = use.getOwner();
      if (auto m = llvm::dyn_cast<nn::MatMulOp>(user))
        return m.getW() == weight && m.getX() != weight && isF32(m.getX()) && isF32(m.getResult());
      if (auto m = llvm::dyn_cast<nn::BatchMatMulOp>(user))
        return m.getY() == weight && m.getX() != weight && isF32(m.getX()) && isF32(m.getResult());
      if (auto c = llvm::dyn_cast<nn::Conv2DOp>(user))
        return c.getW() == weight && c.getX() != weight && isF32(c.getX()) && isF32(c.getResult());
      return false;
    });
    if (oneDnnOnly)
      executable->state_->readByOneDnnOnly.insert(weight);
  }
  fuseEpilogues(*executable->state_);
  return executable;
}

namespace {
/// A scalar float constant operand's value.
std::optional<float> scalarConstant(Value v) {
  auto constant = v.getDefiningOp<arith::ConstantOp>();
  auto dense = constant ? llvm::dyn_cast<DenseElementsAttr>(constant.getValue()) : DenseElementsAttr();
  if (!dense || !dense.isSplat() || !dense.getElementType().isF32())
    return std::nullopt;
  return dense.getSplatValue<float>();
}

/// The one op that reads `v`, when nothing else (the return included) does.
Operation *soleUser(Value v) { return v.hasOneUse() ? *v.user_begin() : nullptr; }

llvm::Error forwardFused(Interpreter &self, Operation *op) {
  self.forward(op->getResult(0), self.state().fusedInto.lookup(op));
  return llvm::Error::success();
}
} // namespace

void dinfer::interp::fuseEpilogues(Executable::State &state) {
  using Activation = kernels::Conv2DParams::Activation;
  llvm::DenseMap<Operation *, size_t> stepOf;
  for (auto [index, step] : llvm::enumerate(state.steps))
    stepOf[step.first] = index;
  auto fuse = [&](Operation *op, Value input) {
    state.fusedInto[op] = input;
    state.steps[stepOf.lookup(op)].second = forwardFused;
  };
  for (Operation &op : state.entry.getBody().front()) {
    // A float32 batch normalization and the ReLU that alone reads it (DenseNet's
    // pre-activations): one pass.
    if (auto norm = llvm::dyn_cast<nn::BatchNormOp>(op)) {
      auto relu = llvm::dyn_cast_or_null<nn::ReLUOp>(soleUser(norm.getResult()));
      RankedTensorType type = typeOf(norm.getResult());
      if (relu && type.getElementType().isF32() && typeOf(norm.getX()).getElementType().isF32() &&
          type.getRank() >= 2 && typeOf(relu.getResult()) == type) {
        state.batchNormsWithReLU.insert(norm);
        fuse(relu, norm.getResult());
      }
      continue;
    }
    auto conv = llvm::dyn_cast<nn::Conv2DOp>(op);
    // Only where the kernel takes oneDNN's prepacked path (constant float32 weights).
    if (!conv || !state.runInvariant.contains(conv.getW()) || !typeOf(conv.getX()).getElementType().isF32() ||
        !typeOf(conv.getW()).getElementType().isF32() || !typeOf(conv.getResult()).getElementType().isF32())
      continue;
    auto biasAdd = llvm::dyn_cast_or_null<nn::BiasAddOp>(soleUser(conv.getResult()));
    if (!biasAdd || biasAdd.getX() != conv.getResult() || biasAdd.getDataFormat() == "NHWC" ||
        !state.runInvariant.contains(biasAdd.getBias()) || !typeOf(biasAdd.getBias()).getElementType().isF32() ||
        typeOf(biasAdd.getBias()).getRank() != 1)
      continue;
    // The bias must exist when the convolution runs (an imported MindIR may
    // define a parameter right before its use).
    if (Operation *biasDef = biasAdd.getBias().getDefiningOp(); biasDef && !biasDef->isBeforeInBlock(conv))
      continue;
    Executable::State::ConvEpilogue epilogue;
    epilogue.bias = biasAdd.getBias();
    fuse(biasAdd, conv.getResult());
    Value last = biasAdd.getResult();
    Operation *next = soleUser(last);
    // A residual added after the bias (ResNet's shortcut), when it is computed
    // before the convolution: oneDNN adds it in the same pass (a sum post-op).
    if (auto add = llvm::dyn_cast_or_null<nn::AddOp>(next)) {
      Value residual = add.getOperand(0) == last ? add.getOperand(1) : add.getOperand(0);
      Operation *residualDef = residual.getDefiningOp();
      if (residual != last && typeOf(residual) == typeOf(last) && typeOf(add.getResult()) == typeOf(last) &&
          (!residualDef || residualDef->isBeforeInBlock(conv))) {
        epilogue.residual = residual;
        fuse(add, last);
        // The fused add reads nothing when it runs: a residual last used by
        // it dies at the convolution, which may then write over it.
        auto &atAdd = state.dying[add];
        if (auto it = llvm::find(atAdd, residual); it != atAdd.end()) {
          atAdd.erase(it);
          state.dying[conv].push_back(residual);
        }
        last = add.getResult();
        next = soleUser(last);
      }
    }
    // SiLU spelled out (x · sigmoid(x), as torch exports it).
    if (!next && std::distance(last.use_begin(), last.use_end()) == 2) {
      nn::SigmoidOp sigmoid;
      for (Operation *user : last.getUsers())
        if (auto s = llvm::dyn_cast<nn::SigmoidOp>(user))
          sigmoid = s;
      auto product = sigmoid ? llvm::dyn_cast_or_null<nn::MulOp>(soleUser(sigmoid.getResult())) : nn::MulOp();
      if (product && ((product.getOperand(0) == last && product.getOperand(1) == sigmoid.getResult()) ||
                      (product.getOperand(1) == last && product.getOperand(0) == sigmoid.getResult())) &&
          typeOf(product.getResult()) == typeOf(last)) {
        epilogue.activation = Activation::SiLU;
        fuse(sigmoid, last); // read by the product alone, which is fused too
        fuse(product, last);
        state.convEpilogues[conv] = epilogue;
        continue;
      }
    }
    if (next && next->getNumOperands() == 1 && next->getOperand(0) == last) {
      if (llvm::isa<nn::ReLUOp>(next))
        epilogue.activation = Activation::ReLU;
      else if (llvm::isa<nn::HSwishOp>(next))
        epilogue.activation = Activation::HardSwish;
      else if (llvm::isa<nn::SigmoidOp>(next))
        epilogue.activation = Activation::Sigmoid;
      else if (llvm::isa<nn::SiLUOp>(next))
        epilogue.activation = Activation::SiLU;
      if (epilogue.activation != Activation::None)
        fuse(next, last);
    } else if (auto maximum = llvm::dyn_cast_or_null<nn::MaximumOp>(next)) {
      // ReLU6 and other clips: max(x, lo) then min(., hi), as torch exports Clip.
      Value other = maximum.getOperand(0) == last ? maximum.getOperand(1) : maximum.getOperand(0);
      std::optional<float> lo = scalarConstant(other);
      auto minimum = llvm::dyn_cast_or_null<nn::MinimumOp>(soleUser(maximum.getResult()));
      if (lo && minimum && typeOf(maximum.getResult()) == typeOf(last)) {
        Value bound = minimum.getOperand(0) == maximum.getResult() ? minimum.getOperand(1) : minimum.getOperand(0);
        std::optional<float> hi = scalarConstant(bound);
        if (hi && typeOf(minimum.getResult()) == typeOf(last)) {
          epilogue.activation = Activation::Clip;
          epilogue.alpha = *lo;
          epilogue.beta = *hi;
          fuse(maximum, last);
          fuse(minimum, maximum.getResult());
        }
      }
    }
    state.convEpilogues[conv] = epilogue;
  }
}

llvm::Expected<std::vector<Buffer>> Executable::run(std::vector<Buffer> inputs, WeightSource weights,
                                                    OpProfile *profile, const RankContext *rank) {
  state_->takes = 0;
  auto outputs = Interpreter(*state_, weights, profile, rank).run(std::move(inputs));
  state_->ranOnce = true;
  // A rank that cannot go on stops the others rather than leave them
  // waiting for it until their timeouts.
  if (!outputs && rank && rank->communicator) {
    std::string message = llvm::toString(outputs.takeError());
    rank->communicator->abort(message);
    return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
  }
  return outputs;
}

Executable::MemoryUse Executable::memoryUse() const {
  MemoryUse use;
  use.activations = state_->activationBytes;
  use.laterActivations = state_->laterActivationBytes;
  for (const auto &entry : state_->prepacked)
    if (entry.second)
      use.packedWeights += entry.second->ownBytes();
  for (const auto &entry : state_->keptCasts)
    if (entry.second.result && !entry.second.released && !entry.second.result->isView())
      use.weightCopies += entry.second.result->byteSize();
  for (const auto &entry : state_->alignedWeights)
    if (entry.second.copy)
      use.weightCopies += entry.second.copy->byteSize();
  return use;
}

void Executable::computeProductsIn(DType type) { state_->bfloat16Products = type == DType::BFloat16; }

size_t Executable::packedProducts() const {
  size_t count = 0;
  for (const auto &entry : state_->prepacked)
    count += entry.second && entry.second->storage;
  return count;
}

size_t Executable::bfloat16Products() const {
  size_t count = 0;
  for (const auto &entry : state_->prepacked)
    count += entry.second && entry.second->ranInBFloat16();
  return count;
}

void Executable::recycle(std::vector<Buffer> outputs) {
  for (Buffer &buffer : outputs)
    if (!buffer.isView())
      state_->keep(std::move(buffer.data));
}

llvm::Expected<std::vector<Buffer>> dinfer::runProgram(ModuleOp module, std::vector<Buffer> inputs,
                                                       WeightSource weights, OpProfile *profile) {
  auto executable = Executable::prepare(module);
  if (!executable)
    return executable.takeError();
  return (*executable)->run(std::move(inputs), weights, profile);
}
