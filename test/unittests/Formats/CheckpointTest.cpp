//===- CheckpointTest.cpp - checkpoint index, read and write --------------===//

#include "dinfer/Formats/Checkpoint.h"

#include "SampleFiles.h"
#include "TestUtils.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include "gtest/gtest.h"

#include <cstring>
#include <numeric>

using namespace dinfer;
using llvm::SmallVector;

namespace {



std::vector<char> tensorBytes(const Checkpoint &ckpt, const CheckpointTensor &t) {
  std::vector<char> data(t.bytes);
  llvm::cantFail(ckpt.read(t, 0, data));
  return data;
}

/// Rewrites every tensor of `ckpt` into `path`.
void copyCheckpoint(const Checkpoint &ckpt, llvm::StringRef path, CheckpointWriter::Options options) {
  auto writer = llvm::cantFail(CheckpointWriter::create(path, options));
  for (const CheckpointTensor &t : ckpt.tensors()) {
    std::vector<char> data = tensorBytes(ckpt, t);
    llvm::cantFail(writer->add(t.name, t.typeName, t.shape, data, t.zeroDimScalar || t.shape.empty()));
  }
  llvm::cantFail(writer->finish());
}

llvm::Expected<Checkpoint> indexBytes(const std::string &bytes) {
  return Checkpoint::index(ByteSource::fromBuffer(bytes, "buffer.ckpt"));
}

std::string errorOf(const std::string &bytes) {
  auto ckpt = indexBytes(bytes);
  if (ckpt)
    return "";
  return llvm::toString(ckpt.takeError());
}

TEST(Checkpoint, ReadsMindSpore111Lenet) {
  std::string path = samplePath("lenet_v111.ckpt");
  auto ckpt = Checkpoint::open(path);
  ASSERT_TRUE(static_cast<bool>(ckpt)) << llvm::toString(ckpt.takeError());
  ASSERT_EQ(ckpt->tensors().size(), 21u);
  const CheckpointTensor &conv1 = ckpt->tensors()[0];
  EXPECT_EQ(conv1.name, "conv1.weight");
  EXPECT_EQ(conv1.dtype, DType::Float32);
  EXPECT_EQ(conv1.shape, (SmallVector<int64_t, 4>{6, 1, 5, 5}));
  EXPECT_EQ(conv1.bytes, 600u);
  const CheckpointTensor *fc1 = ckpt->find("fc1.weight");
  ASSERT_NE(fc1, nullptr);
  EXPECT_EQ(fc1->shape, (SmallVector<int64_t, 4>{120, 400}));
  const CheckpointTensor *lr = ckpt->find("learning_rate");
  ASSERT_NE(lr, nullptr);
  EXPECT_TRUE(lr->shape.empty());
  EXPECT_TRUE(lr->zeroDimScalar);
  const CheckpointTensor *step = ckpt->find("current_iterator_step");
  ASSERT_NE(step, nullptr);
  EXPECT_EQ(step->dtype, DType::Int32);
  EXPECT_NE(ckpt->find("moments.fc3.bias"), nullptr);
  EXPECT_EQ(ckpt->crc(), Checkpoint::Crc::Absent);
  // The first weight's first float, as the file stores it.
  float first;
  llvm::cantFail(ckpt->read(conv1, 0, llvm::MutableArrayRef<char>(reinterpret_cast<char *>(&first), 4)));
  uint32_t bits;
  std::memcpy(&bits, &first, 4);
  EXPECT_EQ(bits, 0xbd0f5db7u);
}

TEST(Checkpoint, RewritingMindSporeFileGivesTheSameBytes) {
  std::string path = samplePath("lenet_v111.ckpt");
  auto ckpt = llvm::cantFail(Checkpoint::open(path));
  TempDir dir;
  std::string out = dir.file("lenet.ckpt");
  copyCheckpoint(ckpt, out, CheckpointWriter::Options());
  EXPECT_EQ(readAll(out), readAll(path));
}

TEST(Checkpoint, WriteThenReadIsLossless) {
  TempDir dir;
  std::string out = dir.file("w.ckpt");
  std::vector<float> weight(96 * 16);
  std::iota(weight.begin(), weight.end(), 0.0f);
  std::vector<int32_t> step = {7};
  std::vector<char> empty;
  auto writer = llvm::cantFail(CheckpointWriter::create(out));
  llvm::cantFail(writer->add("matmul_weight", "Float32", {96, 16},
                             llvm::ArrayRef<char>(reinterpret_cast<char *>(weight.data()), weight.size() * 4)));
  llvm::cantFail(writer->add("global_step", "Int32", {},
                             llvm::ArrayRef<char>(reinterpret_cast<char *>(step.data()), 4)));
  llvm::cantFail(writer->add("empty", "Float16", {0}, empty));
  llvm::cantFail(writer->add("bf", "BFloat16", {2}, llvm::ArrayRef<char>("\x01\x02\x03\x04", 4)));
  llvm::cantFail(writer->add("int4", "Int4", {3}, llvm::ArrayRef<char>("\x12\x30", 2)));
  llvm::cantFail(writer->add("note", "str", {}, llvm::ArrayRef<char>("h\0\0\0i\0\0\0", 8)));
  llvm::cantFail(writer->add("new_scalar", "Float64", {}, llvm::ArrayRef<char>("\0\0\0\0\0\0\xf0\x3f", 8),
                             /*zeroDimScalar=*/false));
  EXPECT_FALSE(llvm::sys::fs::exists(out)) << "visible before finish()";
  llvm::cantFail(writer->finish());

  auto ckpt = llvm::cantFail(Checkpoint::open(out));
  ASSERT_EQ(ckpt.tensors().size(), 7u);
  const CheckpointTensor &w = ckpt.tensors()[0];
  EXPECT_EQ(w.shape, (SmallVector<int64_t, 4>{96, 16}));
  std::vector<char> back = tensorBytes(ckpt, w);
  EXPECT_EQ(std::memcmp(back.data(), weight.data(), back.size()), 0);
  EXPECT_TRUE(ckpt.tensors()[1].zeroDimScalar);
  EXPECT_TRUE(ckpt.tensors()[1].shape.empty());
  EXPECT_EQ(ckpt.tensors()[2].shape, (SmallVector<int64_t, 4>{0}));
  EXPECT_EQ(ckpt.tensors()[3].dtype, DType::BFloat16);
  EXPECT_EQ(ckpt.tensors()[4].dtype, DType::Int4);
  EXPECT_EQ(ckpt.tensors()[5].dtype, DType::String);
  EXPECT_EQ(ckpt.tensors()[5].bytes, 8u);
  EXPECT_FALSE(ckpt.tensors()[6].zeroDimScalar);
  EXPECT_TRUE(ckpt.tensors()[6].shape.empty());
  // Partial reads.
  char middle[8];
  llvm::cantFail(ckpt.read(w, 40, middle));
  EXPECT_EQ(std::memcmp(middle, reinterpret_cast<char *>(weight.data()) + 40, 8), 0);
  auto outside = ckpt.read(w, w.bytes - 4, middle);
  EXPECT_TRUE(static_cast<bool>(outside));
  llvm::consumeError(std::move(outside));
}

TEST(Checkpoint, LargeTensorsAreSplitAsMindSpore17SplitsThem) {
  TempDir dir;
  std::string out = dir.file("split.ckpt");
  std::vector<int32_t> values(1001);
  std::iota(values.begin(), values.end(), 0);
  CheckpointWriter::Options options;
  options.sliceBytes = 1000; // 4004 bytes -> 5 parts of 201, 200, 200, 200, 200 elements
  auto writer = llvm::cantFail(CheckpointWriter::create(out, options));
  llvm::cantFail(writer->add("big", "Int32", {7, 143},
                             llvm::ArrayRef<char>(reinterpret_cast<char *>(values.data()), values.size() * 4)));
  llvm::cantFail(writer->add("after", "Int32", {1}, llvm::ArrayRef<char>("\0\0\0\0", 4)));
  llvm::cantFail(writer->finish());
  auto ckpt = llvm::cantFail(Checkpoint::open(out));
  ASSERT_EQ(ckpt.tensors().size(), 2u);
  const CheckpointTensor &big = ckpt.tensors()[0];
  ASSERT_EQ(big.segments.size(), 5u);
  EXPECT_EQ(big.segments[0].size, 201u * 4);
  EXPECT_EQ(big.segments[4].size, 200u * 4);
  EXPECT_EQ(big.bytes, 4004u);
  std::vector<char> back = tensorBytes(ckpt, big);
  EXPECT_EQ(std::memcmp(back.data(), values.data(), back.size()), 0);
  // A read that spans two parts.
  int32_t pair[2];
  llvm::cantFail(ckpt.read(big, 200 * 4, llvm::MutableArrayRef<char>(reinterpret_cast<char *>(pair), 8)));
  EXPECT_EQ(pair[0], 200);
  EXPECT_EQ(pair[1], 201);
}

TEST(Checkpoint, CrcTrailer) {
  TempDir dir;
  std::string out = dir.file("crc.ckpt");
  CheckpointWriter::Options options;
  options.crc = true;
  auto writer = llvm::cantFail(CheckpointWriter::create(out, options));
  llvm::cantFail(writer->add("w", "Float32", {2}, llvm::ArrayRef<char>("\0\0\x80\x3f\0\0\0\x40", 8)));
  llvm::cantFail(writer->finish());
  std::string bytes = readAll(out);
  ASSERT_GT(bytes.size(), 17u);
  EXPECT_EQ(bytes.substr(bytes.size() - 17, 7), "crc_num");

  auto ckpt = llvm::cantFail(indexBytes(bytes));
  EXPECT_EQ(ckpt.crc(), Checkpoint::Crc::Unchecked);
  ASSERT_EQ(ckpt.tensors().size(), 1u);
  llvm::cantFail(ckpt.verifyIntegrity());
  EXPECT_EQ(ckpt.crc(), Checkpoint::Crc::Ok);

  std::string corrupt = bytes;
  corrupt[corrupt.size() - 20] ^= 1; // a content byte
  auto bad = llvm::cantFail(indexBytes(corrupt));
  llvm::Error err = bad.verifyIntegrity();
  ASSERT_TRUE(static_cast<bool>(err));
  EXPECT_NE(llvm::toString(std::move(err)).find("buffer.ckpt: CRC mismatch"), std::string::npos);
}

//===----------------------------------------------------------------------===//
// Bad input: an error naming the file (and tensor), never a crash.
//===----------------------------------------------------------------------===//

std::string smallCheckpoint(char name = 'w') {
  // 0a { 0a "w" 12 { 08 02 08 02 12 "Float32" 1a <16 bytes> } }
  std::string tensor = std::string("\x08\x02\x08\x02\x12\x07", 6) + "Float32" + "\x1a\x10" + std::string(16, 'x');
  std::string value = std::string("\x0a\x01", 2) + name + "\x12" + static_cast<char>(tensor.size()) + tensor;
  return std::string("\x0a", 1) + static_cast<char>(value.size()) + value;
}

TEST(CheckpointBadInput, EveryTruncationIsAnError) {
  std::string bytes = smallCheckpoint('w') + smallCheckpoint('v');
  auto whole = indexBytes(bytes);
  ASSERT_TRUE(static_cast<bool>(whole)) << llvm::toString(whole.takeError());
  size_t half = bytes.size() / 2;
  for (size_t n = 1; n < bytes.size(); ++n) {
    if (n == half)
      continue; // a whole first entry is a valid checkpoint
    EXPECT_NE(errorOf(bytes.substr(0, n)), "") << "prefix of " << n << " bytes";
  }
}

TEST(CheckpointBadInput, NotACheckpoint) {
  EXPECT_EQ(errorOf("\x08\x01\x12\x00"),
            "buffer.ckpt: offset 0: not a checkpoint: expected a value (field 1), found field 1 of wire type 0");
  // An empty file is an empty checkpoint: a rank may hold no parameters.
  auto empty = indexBytes("");
  ASSERT_TRUE(static_cast<bool>(empty));
  EXPECT_TRUE(empty->tensors().empty());
}

TEST(CheckpointBadInput, ContentDisagreesWithShape) {
  std::string bytes = smallCheckpoint();
  bytes[8] = 0x03; // dims [3,2]
  EXPECT_EQ(errorOf(bytes), "buffer.ckpt: tensor 'w' has 16 bytes of content, but shape [3,2] of Float32 needs 24");
}

TEST(CheckpointBadInput, DimsOverflow) {
  std::string huge("\x08\xff\xff\xff\xff\xff\xff\xff\x3f\x08\xff\xff\xff\xff\xff\xff\xff\x3f", 18);
  std::string tensor = huge + std::string("\x12\x07", 2) + "Float32" + std::string("\x1a\x00", 2);
  std::string value = std::string("\x0a\x01w\x12", 4) + static_cast<char>(tensor.size()) + tensor;
  std::string bytes = std::string("\x0a", 1) + static_cast<char>(value.size()) + value;
  EXPECT_EQ(errorOf(bytes), "buffer.ckpt: tensor 'w': the element count of "
                            "[36028797018963967,36028797018963967] overflows");
}

TEST(CheckpointBadInput, LengthBeyondTheMessage) {
  std::string bytes = smallCheckpoint();
  bytes[1] = 0x7f;
  EXPECT_NE(errorOf(bytes).find("claims 127 bytes, but only"), std::string::npos);
}

TEST(CheckpointBadInput, MissingContent) {
  std::string tensor = std::string("\x08\x02\x12\x07", 4) + "Float32";
  std::string value = std::string("\x0a\x01w\x12", 4) + static_cast<char>(tensor.size()) + tensor;
  std::string bytes = std::string("\x0a", 1) + static_cast<char>(value.size()) + value;
  EXPECT_EQ(errorOf(bytes), "buffer.ckpt: tensor 'w' has no tensor_content");
}

TEST(CheckpointBadInput, UnknownTypeNamesAreListedNotRefused) {
  std::string bytes = smallCheckpoint();
  std::string renamed = bytes;
  renamed.replace(renamed.find("Float32"), 7, "Float99");
  auto ckpt = indexBytes(renamed);
  ASSERT_TRUE(static_cast<bool>(ckpt)) << llvm::toString(ckpt.takeError());
  EXPECT_EQ(ckpt->tensors()[0].typeName, "Float99");
  EXPECT_FALSE(ckpt->tensors()[0].dtype.has_value());
}

TEST(CheckpointBadInput, MissingFile) {
  auto ckpt = Checkpoint::open("/nonexistent/x.ckpt");
  ASSERT_FALSE(static_cast<bool>(ckpt));
  EXPECT_EQ(llvm::toString(ckpt.takeError()).rfind("/nonexistent/x.ckpt: cannot open", 0), 0u);
}

TEST(CheckpointWriter, NothingUnderTheFinalNameWithoutFinish) {
  TempDir dir;
  std::string out = dir.file("abandoned.ckpt");
  {
    auto writer = llvm::cantFail(CheckpointWriter::create(out));
    llvm::cantFail(writer->add("w", "Float32", {1}, llvm::ArrayRef<char>("\0\0\0\0", 4)));
  }
  EXPECT_FALSE(llvm::sys::fs::exists(out));
  std::error_code ec;
  int leftovers = 0;
  for (llvm::sys::fs::directory_iterator it(llvm::sys::path::parent_path(out), ec), end; it != end && !ec;
       it.increment(ec))
    ++leftovers;
  EXPECT_EQ(leftovers, 0) << "the temporary file was left behind";
}

TEST(CheckpointWriter, FillErrorsStopTheWrite) {
  TempDir dir;
  std::string out = dir.file("failed.ckpt");
  auto writer = llvm::cantFail(CheckpointWriter::create(out));
  llvm::Error err = writer->add("w", "Float32", {4}, 16, [](uint64_t, llvm::MutableArrayRef<char>) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), "source vanished");
  });
  EXPECT_EQ(llvm::toString(std::move(err)), "source vanished");
}

} // namespace
