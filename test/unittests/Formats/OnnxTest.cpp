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

} // namespace
