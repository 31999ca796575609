//===- SafetensorsTest.cpp - safetensors files read and written -----------===//
//
// Files are built here byte by byte (as Hugging Face's writer lays them out)
// so that the reader is not only checked against dinfer's own writer.
//
//===----------------------------------------------------------------------===//

#include "dinfer/Formats/Checkpoint.h"
#include "dinfer/Formats/Safetensors.h"

#include "TestUtils.h"

#include "gtest/gtest.h"

#include <random>

namespace {
using namespace dinfer;

/// A safetensors file from a header text and data.
std::string fileOf(std::string header, const std::string &data) {
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string size(8, '\0');
  for (int i = 0; i < 8; ++i)
    size[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return size + header + data;
}

llvm::Expected<Checkpoint> indexBytes(const std::string &bytes) {
  return Checkpoint::index(ByteSource::fromBuffer(bytes, "model.safetensors"));
}

std::string errorOf(const std::string &bytes) {
  auto checkpoint = indexBytes(bytes);
  if (checkpoint)
    return "";
  return llvm::toString(checkpoint.takeError());
}

TEST(Safetensors, ReadsWhatHuggingFaceWrites) {
  std::string data(24 + 6, '\0');
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<char>(i);
  std::string bytes = fileOf(R"({"__metadata__":{"format":"pt"},"b":{"dtype":"BF16","shape":[3],"data_offsets":[24,30]},)"
                             R"("w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}})",
                             data);
  auto checkpoint = indexBytes(bytes);
  ASSERT_TRUE(static_cast<bool>(checkpoint)) << llvm::toString(checkpoint.takeError());
  EXPECT_EQ(checkpoint->format(), CheckpointFormat::Safetensors);
  ASSERT_EQ(checkpoint->tensors().size(), 2u);
  // The order of the data, not of the JSON object.
  EXPECT_EQ(checkpoint->tensors()[0].name, "w");
  EXPECT_EQ(checkpoint->tensors()[0].typeName, "Float32");
  EXPECT_EQ(checkpoint->tensors()[1].typeName, "BFloat16");
  std::vector<char> b(6);
  llvm::cantFail(checkpoint->read(*checkpoint->find("b"), 0, b));
  EXPECT_EQ(std::string(b.begin(), b.end()), data.substr(24));
  EXPECT_EQ(checkpoint->sha256(), Checkpoint::Check::Absent);
}

TEST(Safetensors, EveryDTypeRoundTripsBitExact) {
  TempDir dir;
  std::mt19937 rng(3);
  std::vector<PlannedTensor> planned;
  std::vector<std::string> contents;
  const char *types[] = {"Float64", "Float32", "Float16", "BFloat16", "Int64",  "Int32",  "Int16",
                         "Int8",    "UInt64",  "UInt32",  "UInt16",   "UInt8",  "Bool",   "F8_E4M3", "F8_E5M2"};
  for (const char *type : types) {
    std::optional<DType> dtype = parseDType(type);
    llvm::SmallVector<int64_t, 4> shape = {static_cast<int64_t>(1 + rng() % 4), 3};
    uint64_t bytes = shape[0] * shape[1] * (dtype ? dtypeBits(*dtype) / 8 : 1);
    std::string content(bytes, '\0');
    for (char &c : content)
      c = static_cast<char>(dtype == DType::Bool ? rng() % 2 : rng());
    planned.push_back({std::string("t_") + type, type, shape, bytes});
    contents.push_back(content);
  }
  planned.push_back({"scalar", "Int32", {}, 4});
  contents.push_back(std::string("\x01\x02\x03\x04", 4));

  std::string path = dir.file("all.safetensors");
  auto writer = createTensorWriter(path, planned, {CheckpointFormat::Safetensors, /*sync=*/false, std::nullopt});
  ASSERT_TRUE(static_cast<bool>(writer)) << llvm::toString(writer.takeError());
  for (auto [tensor, content] : llvm::zip_equal(planned, contents))
    llvm::cantFail((*writer)->add(tensor.name, tensor.typeName, tensor.shape,
                                  llvm::ArrayRef<char>(content.data(), content.size())));
  llvm::cantFail((*writer)->finish());

  std::string file = readAll(path);
  uint64_t headerBytes = 0;
  for (int i = 7; i >= 0; --i)
    headerBytes = (headerBytes << 8) | static_cast<uint8_t>(file[i]);
  EXPECT_EQ((8 + headerBytes) % 8, 0u) << "the data starts on 8 bytes, as Hugging Face writes it";

  auto checkpoint = Checkpoint::open(path);
  ASSERT_TRUE(static_cast<bool>(checkpoint)) << llvm::toString(checkpoint.takeError());
  EXPECT_EQ(checkpoint->sha256(), Checkpoint::Check::Unchecked);
  llvm::cantFail(checkpoint->verifyIntegrity());
  EXPECT_EQ(checkpoint->sha256(), Checkpoint::Check::Ok);
  ASSERT_EQ(checkpoint->tensors().size(), planned.size());
  for (auto [tensor, content] : llvm::zip_equal(planned, contents)) {
    const CheckpointTensor *read = checkpoint->find(tensor.name);
    ASSERT_NE(read, nullptr) << tensor.name;
    EXPECT_EQ(read->typeName, tensor.typeName);
    EXPECT_EQ(llvm::ArrayRef<int64_t>(read->shape), llvm::ArrayRef<int64_t>(tensor.shape)) << tensor.name;
    std::vector<char> back(read->bytes);
    llvm::cantFail(checkpoint->read(*read, 0, back));
    EXPECT_EQ(std::string(back.begin(), back.end()), content) << tensor.name;
  }
}

TEST(Safetensors, DamagedDataFailsTheDigestNamingTheFile) {
  TempDir dir;
  std::string path = dir.file("w.safetensors");
  std::vector<PlannedTensor> planned = {{"w", "Float32", {4}, 16}};
  auto writer = createTensorWriter(path, planned, {CheckpointFormat::Safetensors, false, std::nullopt});
  ASSERT_TRUE(static_cast<bool>(writer));
  std::string data(16, 'x');
  llvm::cantFail((*writer)->add("w", "Float32", planned[0].shape, llvm::ArrayRef<char>(data.data(), data.size())));
  llvm::cantFail((*writer)->finish());
  std::string bytes = readAll(path);
  bytes.back() ^= 1;
  llvm::cantFail(writeFileAtomically(path, bytes, false));
  auto checkpoint = Checkpoint::open(path);
  ASSERT_TRUE(static_cast<bool>(checkpoint));
  llvm::Error err = checkpoint->verifyIntegrity();
  ASSERT_TRUE(static_cast<bool>(err));
  std::string message = llvm::toString(std::move(err));
  EXPECT_NE(message.find(path + ": SHA-256 mismatch"), std::string::npos) << message;
}

TEST(Safetensors, CorruptHeadersAreErrorsNamingTheFileAndTensor) {
  std::string data(16, '\0');
  struct Case {
    std::string bytes, expected;
  };
  std::string sizePastEnd = fileOf(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", data);
  sizePastEnd[1] = 0x10; // the header size now exceeds the file
  const Case cases[] = {
      {sizePastEnd, "model.safetensors: the safetensors header size"},
      {fileOf(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,32]}})", data),
       "model.safetensors: tensor 'w': data_offsets [0, 32] lie outside the data section of 16 bytes"},
      {fileOf(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"v":{"dtype":"F32","shape":[2],)"
              R"("data_offsets":[4,12]}})",
              data),
       "model.safetensors: tensors 'w' and 'v' overlap in the data section"},
      {fileOf(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})", data),
       "model.safetensors: tensor 'w': data_offsets [0, 16] hold 16 bytes, but shape [3] of F32 needs 12"},
      {fileOf(R"({"w":{"dtype":"Q7","shape":[4],"data_offsets":[0,16]}})", data),
       "model.safetensors: tensor 'w': dtype 'Q7' is not a safetensors dtype"},
      {fileOf(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]})", data),
       "model.safetensors: the safetensors header is not valid JSON"},
      {fileOf(R"({"w":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}})", data),
       "model.safetensors: tensor 'w': its shape holds something other than non-negative integers"},
      {fileOf(R"({"w":{"dtype":"F32","shape":[4]}})", data),
       "model.safetensors: tensor 'w': its header entry needs \"dtype\", \"shape\" and \"data_offsets\""},
  };
  for (const Case &c : cases) {
    std::string message = errorOf(c.bytes);
    EXPECT_NE(message.find(c.expected), std::string::npos) << "got: " << message << "\nwanted: " << c.expected;
  }
  // Every truncation of a valid file is an error, never a crash or a read
  // past the end (an empty file is an empty .ckpt).
  std::string good = fileOf(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", data);
  for (size_t n = 1; n < good.size(); ++n) {
    auto truncated = indexBytes(good.substr(0, n));
    if (truncated)
      ADD_FAILURE() << "a file cut at " << n << " of " << good.size() << " bytes opened";
    else
      llvm::consumeError(truncated.takeError());
  }
}

TEST(Safetensors, ShardedFolderOpensThroughItsIndex) {
  TempDir dir;
  std::string a(8, 'a'), b(4, 'b');
  llvm::cantFail(writeFileAtomically(dir.file("model-00001-of-00002.safetensors"),
                                     fileOf(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", a), false));
  llvm::cantFail(writeFileAtomically(dir.file("model-00002-of-00002.safetensors"),
                                     fileOf(R"({"y":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}})", b), false));
  std::string index = R"({"metadata":{"total_size":12},"weight_map":{"y":"model-00002-of-00002.safetensors",)"
                      R"("x":"model-00001-of-00002.safetensors"}})";
  llvm::cantFail(writeFileAtomically(dir.file(kSafetensorsIndexName), index, false));
  std::string folder = dir.file("");
  folder.pop_back();
  auto checkpoint = Checkpoint::open(folder);
  ASSERT_TRUE(static_cast<bool>(checkpoint)) << llvm::toString(checkpoint.takeError());
  ASSERT_EQ(checkpoint->tensors().size(), 2u);
  EXPECT_EQ(checkpoint->tensors()[0].name, "x") << "shards in file order";
  std::vector<char> y(4);
  llvm::cantFail(checkpoint->read(*checkpoint->find("y"), 0, y));
  EXPECT_EQ(std::string(y.begin(), y.end()), b);

  // An index that names the wrong file is refused by name.
  llvm::cantFail(writeFileAtomically(
      dir.file(kSafetensorsIndexName),
      R"({"weight_map":{"y":"model-00001-of-00002.safetensors","x":"model-00001-of-00002.safetensors"}})", false));
  auto wrong = Checkpoint::open(folder);
  ASSERT_FALSE(static_cast<bool>(wrong));
  std::string message = llvm::toString(wrong.takeError());
  EXPECT_NE(message.find("lists tensor 'y' in model-00001-of-00002.safetensors, which does not hold it"),
            std::string::npos)
      << message;
}

TEST(Safetensors, WriterRefusesWhatTheFormatCannotHold) {
  TempDir dir;
  auto int4 = createTensorWriter(dir.file("a.safetensors"), {{"q", "Int4", {4}, 2}},
                                 {CheckpointFormat::Safetensors, false, std::nullopt});
  ASSERT_FALSE(static_cast<bool>(int4));
  EXPECT_NE(llvm::toString(int4.takeError()).find("tensor 'q' is Int4, which safetensors cannot hold"),
            std::string::npos);
  std::vector<PlannedTensor> planned = {{"a", "Float32", {1}, 4}, {"b", "Float32", {1}, 4}};
  auto writer = createTensorWriter(dir.file("b.safetensors"), planned,
                                   {CheckpointFormat::Safetensors, false, std::nullopt});
  ASSERT_TRUE(static_cast<bool>(writer));
  std::string four(4, '\0');
  llvm::Error outOfOrder = (*writer)->add("b", "Float32", {1}, llvm::ArrayRef<char>(four.data(), 4));
  ASSERT_TRUE(static_cast<bool>(outOfOrder));
  EXPECT_NE(llvm::toString(std::move(outOfOrder)).find("tensor 'b' is not the next one its header announced ('a')"),
            std::string::npos);
  llvm::Error early = (*writer)->finish();
  ASSERT_TRUE(static_cast<bool>(early));
  llvm::consumeError(std::move(early));
  EXPECT_FALSE(llvm::sys::fs::exists(dir.file("b.safetensors"))) << "nothing under the name until complete";
}

} // namespace
