//===- OnnxTest.cpp - ONNX tensors: inline, typed and external data -------===//

#include "dinfer/Formats/ONNX.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cstring>

using namespace dinfer;

namespace {

class OnnxTensorTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("dinfer-onnx", folder));
    // 16 bytes of something else, then the eight floats 0..7.
    llvm::SmallString<256> file(folder);
    llvm::sys::path::append(file, "weights.bin");
    std::error_code ec;
    llvm::raw_fd_ostream os(file, ec);
    ASSERT_FALSE(ec);
    os << std::string(16, 'x');
    for (int i = 0; i < 8; ++i) {
      float v = static_cast<float>(i);
      os.write(reinterpret_cast<const char *>(&v), sizeof v);
    }
  }
  void TearDown() override { llvm::sys::fs::remove_directories(folder); }

  /// A model with one initializer "w" [2,4] float, its data where `location`
  /// says, `length` bytes at offset 16.
  OnnxModel model(const std::string &location, int64_t length) {
    onnx::ModelProto proto;
    proto.set_ir_version(8);
    proto.add_opset_import()->set_version(17);
    onnx::TensorProto *w = proto.mutable_graph()->add_initializer();
    w->set_name("w");
    w->set_data_type(onnx::TensorProto::FLOAT);
    w->add_dims(2);
    w->add_dims(4);
    w->set_data_location(onnx::TensorProto::EXTERNAL);
    for (auto [key, value] : {std::pair<std::string, std::string>{"location", location},
                              {"offset", "16"},
                              {"length", std::to_string(length)}}) {
      onnx::StringStringEntryProto *entry = w->add_external_data();
      entry->set_key(key);
      entry->set_value(value);
    }
    auto parsed = OnnxModel::parse(proto.SerializeAsString(), "model.onnx", folder);
    EXPECT_TRUE(static_cast<bool>(parsed));
    return std::move(*parsed);
  }

  llvm::SmallString<128> folder;
};

TEST_F(OnnxTensorTest, ExternalDataIsMappedAndReadAlike) {
  OnnxModel m = model("weights.bin", 32);
  const onnx::TensorProto &w = m.proto().graph().initializer(0);
  auto mapped = m.mapTensor(w);
  ASSERT_TRUE(static_cast<bool>(mapped)) << llvm::toString(mapped.takeError());
  auto copied = m.tensorBytes(w);
  ASSERT_TRUE(static_cast<bool>(copied)) << llvm::toString(copied.takeError());
  ASSERT_EQ(mapped->bytes.size(), 32u);
  ASSERT_EQ(0, std::memcmp(mapped->bytes.data(), copied->data(), 32));
  for (int i = 0; i < 8; ++i) {
    float v;
    std::memcpy(&v, mapped->bytes.data() + 4 * i, 4);
    EXPECT_EQ(v, static_cast<float>(i));
  }
}

TEST_F(OnnxTensorTest, ExternalDataErrorsNameTheTensor) {
  for (auto [location, length, message] :
       {std::tuple<std::string, int64_t, std::string>{"../weights.bin", 32, "leaves the model's folder"},
        {"/etc/passwd", 32, "leaves the model's folder"},
        {"weights.bin", 64, "past the end of the file"},
        {"weights.bin", 16, "bytes of data, but its shape and type need 32"},
        {"missing.bin", 32, "missing.bin"}}) {
    OnnxModel m = model(location, length);
    const onnx::TensorProto &w = m.proto().graph().initializer(0);
    for (bool map : {true, false}) {
      std::string error =
          map ? llvm::toString(m.mapTensor(w).takeError()) : llvm::toString(m.tensorBytes(w).takeError());
      EXPECT_NE(error.find(message), std::string::npos) << location << " " << length << ": " << error;
      EXPECT_NE(error.find("'w'"), std::string::npos) << error;
    }
  }
}

TEST_F(OnnxTensorTest, RawDataIsReadInPlace) {
  onnx::ModelProto proto;
  onnx::TensorProto *w = proto.mutable_graph()->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(3);
  w->set_raw_data(std::string(12, '\0'));
  auto parsed = OnnxModel::parse(proto.SerializeAsString(), "model.onnx", folder);
  ASSERT_TRUE(static_cast<bool>(parsed));
  const onnx::TensorProto &stored = parsed->proto().graph().initializer(0);
  auto mapped = parsed->mapTensor(stored);
  ASSERT_TRUE(static_cast<bool>(mapped));
  EXPECT_EQ(mapped->bytes.data(), stored.raw_data().data()); // no copy
  EXPECT_EQ(mapped->owner, nullptr);
}

// A model opened from its file keeps its initializers' raw_data in the mapped
// file: the parsed message holds none of it, every other field is as parsed,
// and the bytes read back are the file's, whatever order and fields surround
// them (a graph split across two occurrences, raw_data given twice, an empty
// tensor, typed data beside raw ones).
TEST_F(OnnxTensorTest, OpenedModelsReadRawDataFromTheMappedFile) {
  onnx::ModelProto proto;
  proto.set_ir_version(8);
  proto.set_producer_name("test");
  proto.add_opset_import()->set_version(17);
  onnx::GraphProto *graph = proto.mutable_graph();
  graph->set_name("g");
  graph->add_node()->set_op_type("Relu");
  std::vector<std::string> contents;
  for (int t = 0; t < 4; ++t) {
    onnx::TensorProto *w = graph->add_initializer();
    w->set_name("w" + std::to_string(t));
    w->set_data_type(onnx::TensorProto::FLOAT);
    w->add_dims(t == 2 ? 0 : 4096 * (t + 1));
    if (t == 3) { // typed floats: not raw
      for (int i = 0; i < 4096 * 4; ++i)
        w->add_float_data(static_cast<float>(i));
      contents.push_back("");
      continue;
    }
    std::string bytes(t == 2 ? 0 : 4 * 4096 * (t + 1), '\0');
    for (size_t i = 0; i < bytes.size(); ++i)
      bytes[i] = static_cast<char>((i * 7 + t) & 0xff);
    w->set_raw_data(bytes);
    contents.push_back(bytes);
  }
  std::string serialized = proto.SerializeAsString();
  // raw_data of w0 given twice: the last one counts, as when parsing.
  onnx::ModelProto again;
  onnx::TensorProto *w0 = again.mutable_graph()->add_initializer();
  std::string later(4 * 4096, '\x5a');
  w0->set_raw_data(later);
  llvm::SmallString<256> path(folder);
  llvm::sys::path::append(path, "model.onnx");
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    ASSERT_FALSE(ec);
    os << serialized;
  }
  auto opened = OnnxModel::open(path);
  ASSERT_TRUE(static_cast<bool>(opened)) << llvm::toString(opened.takeError());
  auto parsed = OnnxModel::parse(serialized, "model.onnx", folder);
  ASSERT_TRUE(static_cast<bool>(parsed));
  EXPECT_EQ(opened->proto().producer_name(), "test");
  EXPECT_EQ(opened->proto().graph().name(), "g");
  ASSERT_EQ(opened->proto().graph().node_size(), 1);
  ASSERT_EQ(opened->proto().graph().initializer_size(), 4);
  for (int t = 0; t < 4; ++t) {
    const onnx::TensorProto &w = opened->proto().graph().initializer(t);
    EXPECT_EQ(w.name(), "w" + std::to_string(t));
    EXPECT_TRUE(w.raw_data().empty()); // never copied into the message
    auto mapped = opened->mapTensor(w);
    ASSERT_TRUE(static_cast<bool>(mapped)) << llvm::toString(mapped.takeError());
    auto expected = parsed->tensorBytes(parsed->proto().graph().initializer(t));
    ASSERT_TRUE(static_cast<bool>(expected));
    ASSERT_EQ(mapped->bytes.size(), expected->size()) << t;
    // (An empty tensor has no data pointer to compare.)
    EXPECT_TRUE(llvm::ArrayRef<char>(mapped->bytes) == llvm::ArrayRef<char>(*expected)) << t;
    auto copied = opened->tensorBytes(w);
    ASSERT_TRUE(static_cast<bool>(copied));
    EXPECT_EQ(*copied, *expected) << t;
    if (t < 2)
      EXPECT_NE(mapped->owner, nullptr); // the mapped file
  }

  // The same model with w0's raw_data given again at the end of the file.
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    ASSERT_FALSE(ec);
    os << serialized << again.SerializeAsString();
  }
  auto merged = OnnxModel::open(path);
  ASSERT_TRUE(static_cast<bool>(merged)) << llvm::toString(merged.takeError());
  // Protobuf merges the second graph into the first: w0 is a fifth initializer.
  ASSERT_EQ(merged->proto().graph().initializer_size(), 5);
  auto fifth = merged->mapTensor(merged->proto().graph().initializer(4));
  EXPECT_FALSE(static_cast<bool>(fifth)); // no name, no type: refused, not misread
  llvm::consumeError(fifth.takeError());
  auto first = merged->tensorBytes(merged->proto().graph().initializer(0));
  ASSERT_TRUE(static_cast<bool>(first));
  EXPECT_EQ(std::string(first->begin(), first->end()), contents[0]);

  // Not a model: the message names the file, as a parse would.
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    os << std::string("\x3a\xff\xff", 3);
  }
  auto broken = OnnxModel::open(path);
  ASSERT_FALSE(static_cast<bool>(broken));
  EXPECT_NE(llvm::toString(broken.takeError()).find("model.onnx"), std::string::npos);
}

} // namespace
