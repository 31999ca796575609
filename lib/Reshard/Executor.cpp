//===- Executor.cpp - move the bytes a reshard plan lists -----------------===//

#include "dinfer/Reshard/Executor.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/ThreadPool.h"
#include "llvm/Support/Threading.h"
#include "llvm/Support/xxhash.h"

#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>

using namespace dinfer;
using llvm::SmallVector;

namespace {
constexpr uint64_t kDefaultSlabBytes = 64 << 20;
/// A box whose source byte span is at most this much larger than the box is
/// read in one pread and scattered; otherwise run by run.
constexpr uint64_t kGatherSlack = 1 << 20;
/// Runs at least this long are read one by one rather than gathered from a
/// span: a read call costs about as much as copying a few KiB, less than
/// reading the gaps between runs and copying each run a second time.
constexpr uint64_t kDirectRunBytes = 16 << 10;

template <typename... Ts>
llvm::Error execError(const char *fmt, Ts &&...vals) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), llvm::formatv(fmt, std::forward<Ts>(vals)...).str());
}

SmallVector<int64_t, 4> stridesOf(llvm::ArrayRef<int64_t> shape) {
  SmallVector<int64_t, 4> strides(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;)
    strides[d - 1] = strides[d] * shape[d];
  return strides;
}

/// Builds one destination tensor slab by slab, or straight into the
/// caller's buffer where it asks for whole rows.
class Assembler {
public:
  Assembler(const TensorPlan &tensor, llvm::ArrayRef<const Checkpoint *> sources, uint64_t slabBudget,
            ScratchBuffer &slab, ScratchBuffer &span)
      : tensor_(tensor), sources_(sources), slabStorage_(slab), spanStorage_(span) {
    rows_ = tensor.shape.empty() ? 1 : tensor.shape[0];
    rowBytes_ = rows_ ? tensor.bytes / rows_ : 0;
    slabRows_ = rowBytes_ ? std::max<int64_t>(1, std::min<int64_t>(rows_, slabBudget / rowBytes_)) : rows_;
  }

  /// A tensor that is one whole source tensor streams straight from it.
  bool isWholeCopy() const {
    if (tensor_.copies.size() != 1)
      return false;
    const TensorCopy &copy = tensor_.copies.front();
    return llvm::equal(copy.srcShape, tensor_.shape) &&
           llvm::all_of(copy.srcOffset, [](int64_t o) { return o == 0; });
  }

  llvm::Error fill(uint64_t offset, llvm::MutableArrayRef<char> out) {
    if (isWholeCopy()) {
      const TensorCopy &copy = tensor_.copies.front();
      const Checkpoint *source = sources_[copy.srcRank];
      const CheckpointTensor *src = source->find(tensor_.name);
      if (!src)
        return execError("source rank {0}: tensor '{1}' vanished from {2}", copy.srcRank, tensor_.name, source->path());
      return source->read(*src, offset, out);
    }
    while (!out.empty()) {
      int64_t row = rowBytes_ ? static_cast<int64_t>(offset / rowBytes_) : 0;
      // Whole rows asked for and not in the slab: built where they go.
      uint64_t wholeRows = rowBytes_ && offset % rowBytes_ == 0 ? out.size() / rowBytes_ : 0;
      if (wholeRows > 0 && (row < slabRow_ || row >= slabRow_ + slabCount_)) {
        int64_t count = static_cast<int64_t>(std::min<uint64_t>(wholeRows, static_cast<uint64_t>(rows_ - row)));
        if (llvm::Error err = assemble(row, count, out.data()))
          return err;
        uint64_t n = static_cast<uint64_t>(count) * rowBytes_;
        out = out.drop_front(n);
        offset += n;
        continue;
      }
      if (row < slabRow_ || row >= slabRow_ + slabCount_) {
        int64_t count = std::min<int64_t>(slabRows_, rows_ - row);
        char *slab = slabStorage_.get(static_cast<size_t>(count) * rowBytes_);
        if (llvm::Error err = assemble(row, count, slab))
          return err;
        slab_ = slab;
        slabRow_ = row;
        slabCount_ = count;
      }
      uint64_t within = offset - static_cast<uint64_t>(slabRow_) * rowBytes_;
      uint64_t n = std::min<uint64_t>(out.size(), static_cast<uint64_t>(slabCount_) * rowBytes_ - within);
      std::memcpy(out.data(), slab_ + within, n);
      out = out.drop_front(n);
      offset += n;
    }
    return llvm::Error::success();
  }

private:
  /// Rows [row0, row0 + count) of the tensor, written to `target`.
  llvm::Error assemble(int64_t row0, int64_t count, char *target) {
    std::optional<DType> dtype = parseDType(tensor_.typeName);
    if (!dtype || dtypeBits(*dtype) % 8 != 0 || *dtype == DType::String)
      return execError("tensor '{0}' of type {1} would have to be sliced, which only whole-byte types allow",
                       tensor_.name, tensor_.typeName);
    uint64_t elementBytes = dtypeBits(*dtype) / 8;
    SmallVector<int64_t, 4> slabShape(tensor_.shape);
    if (!slabShape.empty())
      slabShape[0] = count;
    for (const TensorCopy &copy : tensor_.copies) {
      Slice src = copy.srcRegion(), dst = copy.dstRegion();
      if (!dst.shape.empty()) {
        int64_t lo = std::max(dst.offset[0], row0), hi = std::min(dst.offset[0] + dst.shape[0], row0 + count);
        if (lo >= hi)
          continue;
        src.offset[0] += lo - dst.offset[0];
        dst.offset[0] = lo - row0;
        src.shape[0] = dst.shape[0] = hi - lo;
      }
      if (llvm::Error err = copyBox(copy.srcRank, copy.srcShape, src, dst, slabShape, elementBytes, target))
        return err;
    }
    return llvm::Error::success();
  }

  /// Copies box `src` of the source slice into box `dst` of the slab.
  llvm::Error copyBox(int64_t srcRank, llvm::ArrayRef<int64_t> srcShape, const Slice &src, const Slice &dst,
                      llvm::ArrayRef<int64_t> slabShape, uint64_t elementBytes, char *slab) {
    const Checkpoint *source = sources_[srcRank];
    const CheckpointTensor *tensor = source->find(tensor_.name);
    if (!tensor)
      return execError("source rank {0}: tensor '{1}' vanished from {2}", srcRank, tensor_.name, source->path());
    const size_t rank = src.shape.size();
    SmallVector<int64_t, 4> srcStrides = stridesOf(srcShape), dstStrides = stridesOf(slabShape);

    // Trailing dimensions the box spans whole in both slices form one run.
    size_t split = rank;
    int64_t runElements = 1;
    while (split > 0) {
      size_t d = split - 1;
      runElements *= src.shape[d];
      if (src.shape[d] != srcShape[d] || dst.shape[d] != slabShape[d]) {
        --split;
        break;
      }
      --split;
    }
    // Dimensions [0, split) are iterated; [split, rank) form the run.
    uint64_t runBytes = static_cast<uint64_t>(runElements) * elementBytes;
    auto offsetOf = [](llvm::ArrayRef<int64_t> index, llvm::ArrayRef<int64_t> base, llvm::ArrayRef<int64_t> strides,
                       size_t upTo) {
      int64_t linear = 0;
      for (size_t d = 0; d < strides.size(); ++d)
        linear += (base[d] + (d < upTo ? index[d] : 0)) * strides[d];
      return linear;
    };
    SmallVector<int64_t, 4> index(rank, 0);
    int64_t runs = 1;
    for (size_t d = 0; d < split; ++d)
      runs *= src.shape[d];
    if (runs == 0 || runElements == 0)
      return llvm::Error::success();

    // One read of the whole source span when it is not much larger than the box.
    SmallVector<int64_t, 4> last(rank, 0);
    for (size_t d = 0; d < split; ++d)
      last[d] = src.shape[d] - 1;
    uint64_t spanBegin = static_cast<uint64_t>(offsetOf(index, src.offset, srcStrides, split)) * elementBytes;
    uint64_t spanEnd = static_cast<uint64_t>(offsetOf(last, src.offset, srcStrides, split)) * elementBytes + runBytes;
    uint64_t boxBytes = static_cast<uint64_t>(runs) * runBytes;
    // A single run, or runs long enough that a read each costs less than
    // reading the gaps and copying again, go straight to the slab.
    bool gather = runs > 1 && runBytes < kDirectRunBytes &&
                  spanEnd - spanBegin <= boxBytes + std::max(boxBytes, kGatherSlack);
    char *span = nullptr;
    if (gather) {
      span = spanStorage_.get(spanEnd - spanBegin);
      if (llvm::Error err = source->read(*tensor, spanBegin, llvm::MutableArrayRef<char>(span, spanEnd - spanBegin)))
        return err;
    }
    for (int64_t r = 0; r < runs; ++r) {
      uint64_t srcByte = static_cast<uint64_t>(offsetOf(index, src.offset, srcStrides, split)) * elementBytes;
      uint64_t dstByte = static_cast<uint64_t>(offsetOf(index, dst.offset, dstStrides, split)) * elementBytes;
      char *target = slab + dstByte;
      if (gather)
        std::memcpy(target, span + (srcByte - spanBegin), runBytes);
      else if (llvm::Error err = source->read(*tensor, srcByte, llvm::MutableArrayRef<char>(target, runBytes)))
        return err;
      for (size_t d = split; d-- > 0;) {
        if (++index[d] < src.shape[d])
          break;
        index[d] = 0;
      }
    }
    return llvm::Error::success();
  }

  const TensorPlan &tensor_;
  llvm::ArrayRef<const Checkpoint *> sources_;
  ScratchBuffer &slabStorage_, &spanStorage_;
  const char *slab_ = nullptr; ///< rows [slabRow_, slabRow_ + slabCount_), in slabStorage_
  int64_t rows_ = 0, slabRows_ = 0, slabRow_ = 0, slabCount_ = 0;
  uint64_t rowBytes_ = 0;
};
} // namespace

llvm::Error dinfer::executeReshard(const ReshardPlan &plan, llvm::ArrayRef<const Checkpoint *> sources,
                                   llvm::ArrayRef<std::string> outputs, const ExecuteOptions &options) {
  if (outputs.size() != plan.ranks.size())
    return execError("{0} outputs for {1} planned ranks", outputs.size(), plan.ranks.size());
  unsigned threads = options.threads ? options.threads : llvm::hardware_concurrency().compute_thread_count();
  threads = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(plan.ranks.size())));
  uint64_t slabBudget =
      options.maxMemory ? std::max<uint64_t>(1 << 20, options.maxMemory / threads / 2) : kDefaultSlabBytes;

  std::atomic<uint64_t> written{0};
  std::vector<std::string> errors(plan.ranks.size());
  auto writeRank = [&](size_t i) {
    const RankPlan &rank = plan.ranks[i];
    // What each tensor becomes: its output name, type and size.
    std::vector<PlannedTensor> planned;
    for (const TensorPlan &tensor : rank.tensors) {
      std::optional<DType> from = parseDType(tensor.typeName);
      bool convert = options.convertTo && from && isFloatingPoint(*from) && *from != *options.convertTo;
      auto renamed = options.rename.find(tensor.name);
      planned.push_back(PlannedTensor{renamed == options.rename.end() ? tensor.name : renamed->second,
                                      convert ? dtypeName(*options.convertTo).str() : tensor.typeName, tensor.shape,
                                      convert ? tensor.bytes / (dtypeBits(*from) / 8) *
                                                    (dtypeBits(*options.convertTo) / 8)
                                              : tensor.bytes});
    }
    TensorWriterOptions writerOptions;
    writerOptions.format = options.format;
    writerOptions.sync = options.sync;
    writerOptions.encryptWith = options.encryptWith;
    auto writer = createTensorWriter(outputs[i], planned, writerOptions);
    if (!writer) {
      errors[i] = llvm::toString(writer.takeError());
      return;
    }
    ScratchBuffer slab, span, staging; // reused by every tensor of the rank
    for (auto [tensor, output] : llvm::zip_equal(rank.tensors, planned)) {
      Assembler assembler(tensor, sources, slabBudget, slab, span);
      std::optional<DType> from = parseDType(tensor.typeName);
      bool convert = output.typeName != tensor.typeName;
      uint64_t inElement = convert ? dtypeBits(*from) / 8 : 1;
      uint64_t outElement = convert ? dtypeBits(*options.convertTo) / 8 : 1;
      llvm::Error err = (*writer)->add(
          output.name, output.typeName, output.shape, output.bytes,
          [&](uint64_t offset, llvm::MutableArrayRef<char> out) -> llvm::Error {
            if (!convert) {
              if (llvm::Error fillError = assembler.fill(offset, out))
                return fillError;
            } else {
              // Chunks hold whole elements: the writer's chunk size is a multiple of 8.
              uint64_t count = out.size() / outElement;
              llvm::MutableArrayRef<char> in(staging.get(count * inElement), count * inElement);
              if (llvm::Error fillError = assembler.fill(offset / outElement * inElement, in))
                return fillError;
              convertFloats(*from, *options.convertTo, in.data(), out.data(), count);
            }
            uint64_t total = written.fetch_add(out.size()) + out.size();
            if (options.progress)
              options.progress(total);
            return llvm::Error::success();
          },
          tensor.zeroDimScalar || !tensor.shape.empty());
      if (err) {
        errors[i] = "destination rank " + std::to_string(rank.rank) + ": " + llvm::toString(std::move(err));
        return;
      }
    }
    if (llvm::Error err = (*writer)->finish())
      errors[i] = llvm::toString(std::move(err));
  };

  if (threads == 1) {
    for (size_t i = 0; i < plan.ranks.size(); ++i)
      writeRank(i);
  } else {
    llvm::DefaultThreadPool pool(llvm::hardware_concurrency(threads));
    for (size_t i = 0; i < plan.ranks.size(); ++i)
      pool.async([&writeRank, i] { writeRank(i); });
    pool.wait();
  }
  for (const std::string &error : errors)
    if (!error.empty())
      return llvm::createStringError(llvm::inconvertibleErrorCode(), error);
  return llvm::Error::success();
}

llvm::Error dinfer::assembleTensor(const TensorPlan &tensor, llvm::ArrayRef<const Checkpoint *> sources,
                                   llvm::MutableArrayRef<char> out) {
  if (out.size() != tensor.bytes)
    return execError("tensor '{0}': {1} bytes planned for a buffer of {2}", tensor.name, tensor.bytes, out.size());
  ScratchBuffer slab, span;
  Assembler assembler(tensor, sources, kDefaultSlabBytes, slab, span);
  return assembler.fill(0, out);
}

struct dinfer::TensorStream::Impl {
  Impl(const TensorPlan &tensor, llvm::ArrayRef<const Checkpoint *> sources)
      : tensor(tensor), assembler(this->tensor, sources, kDefaultSlabBytes, slab, span) {}
  TensorPlan tensor; // owned: the caller's plan may be a temporary
  ScratchBuffer slab, span;
  Assembler assembler;
};

dinfer::TensorStream::TensorStream(const TensorPlan &tensor, llvm::ArrayRef<const Checkpoint *> sources)
    : impl_(std::make_unique<Impl>(tensor, sources)) {}
dinfer::TensorStream::~TensorStream() = default;

llvm::Error dinfer::TensorStream::fill(uint64_t offset, llvm::MutableArrayRef<char> out) {
  if (offset + out.size() > impl_->tensor.bytes)
    return execError("tensor '{0}': bytes [{1}, {2}) asked of {3}", impl_->tensor.name, offset, offset + out.size(),
                     impl_->tensor.bytes);
  return impl_->assembler.fill(offset, out);
}

llvm::Expected<std::vector<std::string>> dinfer::disagreeingReplicas(const ReshardPlan &plan,
                                                                     llvm::ArrayRef<const Checkpoint *> sources) {
  std::vector<std::string> disagreeing;
  std::vector<char> buffer;
  for (const std::string &name : plan.replicated) {
    std::optional<uint64_t> first;
    for (const Checkpoint *source : sources) {
      const CheckpointTensor *tensor = source->find(name);
      if (!tensor)
        continue;
      buffer.resize(tensor->bytes);
      if (llvm::Error err = source->read(*tensor, 0, buffer))
        return std::move(err);
      uint64_t hash =
          llvm::xxh3_64bits(llvm::ArrayRef<uint8_t>(reinterpret_cast<uint8_t *>(buffer.data()), buffer.size())) ^
          (tensor->shape.size() << 1);
      if (!first)
        first = hash;
      else if (*first != hash) {
        disagreeing.push_back(name);
        break;
      }
    }
  }
  return disagreeing;
}
