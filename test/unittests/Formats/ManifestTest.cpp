//===- ManifestTest.cpp - manifest.json written and read back -------------===//

#include "dinfer/Formats/Manifest.h"

#include "gtest/gtest.h"

namespace {
using namespace dinfer;

ExportManifest sample() {
  ExportManifest m;
  m.deviceNum = 4;
  m.pipelineStages = 2;
  ExportManifest::Tensor x{"x", DType::Float32, {2, 32, 128}, TensorLayout{{2}, {{0}, {}, {}}, 0, 0}};
  m.inputs.push_back(x);
  m.outputs.push_back({"y", DType::BFloat16, {2, 32, 128}, std::nullopt});
  for (int64_t r = 0; r < 4; ++r)
    m.ranks.push_back({r, r / 2, {{"rank_" + std::to_string(r) + "/net.mindir", uint64_t(1000 + r), "ab" + std::to_string(r)}}});
  m.groups.push_back({"2-5004544844489628105", {0, 1}});
  m.source = {"model.onnx", "train.ckpt", ""};
  return m;
}

TEST(Manifest, WrittenAndReadBack) {
  ExportManifest m = sample();
  std::string text = serializeManifest(m);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  EXPECT_NE(text.find("\"predict_strategy\": null"), std::string::npos) << text;
  auto back = parseManifest(text, "manifest.json");
  ASSERT_TRUE(static_cast<bool>(back)) << llvm::toString(back.takeError());
  EXPECT_EQ(back->deviceNum, 4);
  EXPECT_EQ(back->pipelineStages, 2);
  ASSERT_EQ(back->inputs.size(), 1u);
  EXPECT_EQ(back->inputs[0].name, "x");
  EXPECT_EQ(back->inputs[0].dtype, DType::Float32);
  EXPECT_EQ(back->inputs[0].layout->tensorMap, m.inputs[0].layout->tensorMap);
  EXPECT_EQ(back->outputs[0].dtype, DType::BFloat16);
  EXPECT_FALSE(back->outputs[0].layout.has_value());
  ASSERT_EQ(back->ranks.size(), 4u);
  EXPECT_EQ(back->ranks[3].stage, 1);
  EXPECT_EQ(back->ranks[3].files[0].path, "rank_3/net.mindir");
  EXPECT_EQ(back->ranks[3].files[0].bytes, 1003u);
  ASSERT_EQ(back->groups.size(), 1u);
  EXPECT_EQ(back->groups[0].ranks, (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(back->source.model, "model.onnx");
  EXPECT_EQ(back->source.predictStrategy, "");
  // Writing what was read gives the same bytes.
  EXPECT_EQ(serializeManifest(*back), text);
}

TEST(Manifest, AGroupNamingARankOutsideTheExportIsAnError) {
  ExportManifest m = sample();
  m.groups.push_back({"bad", {0, 9}});
  auto back = parseManifest(serializeManifest(m), "manifest.json");
  ASSERT_FALSE(static_cast<bool>(back));
  EXPECT_NE(llvm::toString(back.takeError()).find("manifest.json: group 'bad'.ranks"), std::string::npos);
}

TEST(Manifest, LayoutsOverAnotherDeviceCountThanAStageAreErrors) {
  // An output or a decode step's input or output laid out over 4 devices,
  // in an export whose stages hold 2.
  TensorLayout overFour{{4}, {{0}, {}, {}}, 0, 0};
  ExportManifest output = sample();
  output.outputs[0].layout = overFour;
  auto back = parseManifest(serializeManifest(output), "manifest.json");
  ASSERT_FALSE(static_cast<bool>(back));
  EXPECT_NE(llvm::toString(back.takeError()).find("output 'y'"), std::string::npos);

  ExportManifest decode = sample();
  ExportManifest::Generation generation;
  generation.batch = 2;
  generation.promptLength = 32;
  generation.capacity = 64;
  generation.layers = 1;
  generation.decodeFile = "decode.mindir";
  generation.inputs.push_back({"input_ids", DType::Int64, {2, 1}, overFour});
  generation.outputs.push_back({"logits", DType::Float32, {2, 1, 8}, std::nullopt});
  decode.generation = generation;
  back = parseManifest(serializeManifest(decode), "manifest.json");
  ASSERT_FALSE(static_cast<bool>(back));
  EXPECT_NE(llvm::toString(back.takeError()).find("decode input 'input_ids'"), std::string::npos);
  // Over the stage's 2 devices it is read back.
  decode.generation->inputs[0].layout = TensorLayout{{2}, {{0}, {}}, 0, 0};
  back = parseManifest(serializeManifest(decode), "manifest.json");
  ASSERT_TRUE(static_cast<bool>(back)) << llvm::toString(back.takeError());
  EXPECT_EQ(back->generation->inputs[0].name, "input_ids");
}

} // namespace
