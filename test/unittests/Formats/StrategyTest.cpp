//===- StrategyTest.cpp - strategy files: protobuf, JSON, merged ----------===//

#include "dinfer/Formats/Strategy.h"

#include "SampleFiles.h"
#include "TestUtils.h"

#include "llvm/Support/MemoryBuffer.h"

#include "gtest/gtest.h"

#include <algorithm>

using namespace dinfer;
using llvm::SmallVector;

namespace {


const StrategyLayout *findByName(const StrategyFile &s, llvm::StringRef name) {
  for (const StrategyLayout &l : s.layouts)
    if (l.name == name)
      return &l;
  return nullptr;
}

/// Same content; item order may differ (JSON sorts its keys, MindSpore's
/// protobuf order is a hash map's).
void expectSameStrategy(const StrategyFile &a, const StrategyFile &b) {
  EXPECT_EQ(a.currentStage, b.currentStage);
  ASSERT_EQ(a.ops.size(), b.ops.size());
  for (const StrategyOp &opA : a.ops) {
    auto it = std::find_if(b.ops.begin(), b.ops.end(), [&](const StrategyOp &o) { return o.name == opA.name; });
    ASSERT_NE(it, b.ops.end()) << opA.name;
    EXPECT_EQ(opA.stage, it->stage);
    EXPECT_EQ(opA.inputs, it->inputs);
  }
  ASSERT_EQ(a.layouts.size(), b.layouts.size());
  for (const StrategyLayout &la : a.layouts) {
    const StrategyLayout *lb = findByName(b, la.name);
    ASSERT_NE(lb, nullptr) << la.name;
    EXPECT_EQ(la.param, lb->param);
    EXPECT_EQ(la.stages, lb->stages);
    EXPECT_EQ(la.layout.devMatrix, lb->layout.devMatrix);
    EXPECT_EQ(la.layout.tensorMap, lb->layout.tensorMap) << la.name;
    EXPECT_EQ(la.layout.optShardStep, lb->layout.optShardStep);
    EXPECT_EQ(la.layout.optShardSize, lb->layout.optShardSize);
    EXPECT_EQ(la.field, lb->field);
    EXPECT_EQ(la.paramSplitShape, lb->paramSplitShape);
    EXPECT_EQ(la.indicesOffset, lb->indicesOffset);
  }
}

TEST(Strategy, ReadsMindFormersMergedPipelineFile) {
  std::string path = samplePath("mf_strategy_4_npus.ckpt");
  auto strategy = readStrategy(path);
  ASSERT_TRUE(static_cast<bool>(strategy)) << llvm::toString(strategy.takeError());
  EXPECT_EQ(strategy->encoding, StrategyFile::Encoding::Protobuf);
  EXPECT_EQ(strategy->currentStage, 1);
  EXPECT_EQ(strategy->ops.size(), 34u);
  EXPECT_EQ(strategy->layouts.size(), 148u);
  const StrategyOp &first = strategy->ops.front();
  EXPECT_EQ(first.name, "MatMul_backbone.blocks.0.attention.dense1.weight");
  EXPECT_EQ(first.stage, 0);
  EXPECT_EQ(first.inputs, (std::vector<SmallVector<int64_t, 4>>{{1, 1}, {2, 1}}));

  const StrategyLayout *dense = findByName(*strategy, "1-backbone.blocks.1.attention.dense1.weight");
  ASSERT_NE(dense, nullptr);
  EXPECT_EQ(dense->param, "backbone.blocks.1.attention.dense1.weight");
  EXPECT_EQ(dense->stages, (SmallVector<int64_t, 2>{1}));
  EXPECT_EQ(dense->layout.devMatrix, (SmallVector<int64_t, 4>{2}));
  EXPECT_EQ(dense->layout.tensorMap, (SmallVector<DimAxes, 4>{{0}, {}}));

  // The word embedding is shared by the first and the last stage.
  auto shared = strategy->findLayouts("backbone.embedding.word_embedding.embedding_table");
  ASSERT_EQ(shared.size(), 2u);
  EXPECT_EQ(shared[0]->stages, (SmallVector<int64_t, 2>{0, 1}));
  int multiStage = std::count_if(strategy->layouts.begin(), strategy->layouts.end(),
                                 [](const StrategyLayout &l) { return l.stages.size() > 1; });
  EXPECT_EQ(multiStage, 8);
}

TEST(Strategy, ReadsTheEightDeviceVariant) {
  std::string path = samplePath("mf_strategy_8_npus.ckpt");
  auto strategy = llvm::cantFail(readStrategy(path));
  EXPECT_EQ(strategy.layouts.size(), 148u);
  for (const StrategyLayout &l : strategy.layouts)
    EXPECT_EQ(l.layout.devMatrix, (SmallVector<int64_t, 4>{2, 2})) << l.name;
}

TEST(Strategy, RewritingMindSporeFileGivesTheSameBytes) {
  for (const char *name : {"mf_strategy_4_npus.ckpt", "mf_strategy_8_npus.ckpt"}) {
    std::string path = samplePath(name);
    std::string original = readAll(path);
    auto strategy = llvm::cantFail(parseStrategy(original, path));
    auto bytes = llvm::cantFail(serializeStrategy(strategy));
    EXPECT_EQ(bytes, original) << name;
  }
}

TEST(Strategy, JsonRoundTrip) {
  std::string path = samplePath("mf_strategy_4_npus.ckpt");
  auto strategy = llvm::cantFail(readStrategy(path));
  strategy.encoding = StrategyFile::Encoding::Json;
  std::string json = llvm::cantFail(serializeStrategy(strategy));
  EXPECT_EQ(json.front(), '{');
  auto back = llvm::cantFail(parseStrategy(json, "x.json"));
  EXPECT_EQ(back.encoding, StrategyFile::Encoding::Json);
  expectSameStrategy(strategy, back);
  // Serializing again gives the same text: keys are sorted.
  EXPECT_EQ(llvm::cantFail(serializeStrategy(back)), json);
}

StrategyFile handMade() {
  StrategyFile s;
  StrategyOp op;
  op.name = "MatMul_matmul_weight";
  op.inputs = {{2, 1}, {1, 4}};
  s.ops.push_back(op);
  StrategyLayout w;
  w.name = w.param = "matmul_weight";
  w.layout.devMatrix = {2, 4};
  w.layout.tensorMap = {{}, {0}};
  s.layouts.push_back(w);
  StrategyLayout multi;
  multi.name = multi.param = "multi_axis";
  multi.layout.devMatrix = {2, 2, 2};
  multi.layout.tensorMap = {{2, 1}, {}};
  s.layouts.push_back(multi);
  StrategyLayout vector;
  vector.name = vector.param = "multi_axis_vector";
  vector.layout.devMatrix = {2, 2, 2};
  vector.layout.tensorMap = {{2, 0}};
  s.layouts.push_back(vector);
  StrategyLayout opt;
  opt.name = opt.param = "dense.weight";
  opt.layout.devMatrix = {4, 2};
  opt.layout.tensorMap = {{0}, {}};
  opt.layout.optShardStep = 2;
  opt.layout.optShardSize = -1;
  opt.paramSplitShape = {3, 5};
  opt.indicesOffset = {0, 3};
  s.layouts.push_back(opt);
  return s;
}

TEST(Strategy, ProtobufRoundTripWithMultiAxisLayouts) {
  StrategyFile s = handMade();
  std::string bytes = llvm::cantFail(serializeStrategy(s));
  auto back = llvm::cantFail(parseStrategy(bytes, "x.ckpt"));
  expectSameStrategy(s, back);
}

TEST(Strategy, JsonRoundTripWithMultiAxisLayouts) {
  StrategyFile s = handMade();
  s.encoding = StrategyFile::Encoding::Json;
  std::string text = llvm::cantFail(serializeStrategy(s));
  EXPECT_NE(text.find("\"tensor_map\":[[2,1],-1]"), std::string::npos) << text;
  auto back = llvm::cantFail(parseStrategy(text, "x.json"));
  std::sort(s.layouts.begin(), s.layouts.end(),
            [](const StrategyLayout &a, const StrategyLayout &b) { return a.name < b.name; });
  expectSameStrategy(s, back);
}

/// A packed projection split per head: Q over 4 ranks, K and V (two heads)
/// each on two ranks, replicas last.
TEST(Strategy, PartsLayoutsRoundTripInJsonAndAreRefusedInProtobuf) {
  StrategyFile s;
  StrategyLayout qkv;
  qkv.name = qkv.param = "in_proj_weight";
  qkv.layout.devMatrix = {4};
  qkv.layout.tensorMap = {{}, {0}};
  qkv.tensorShape = llvm::SmallVector<int64_t, 4>{64, 128};
  PartsLayout parts;
  parts.dim = 1;
  parts.sizes = {64, 32, 32};
  TensorLayout kv;
  kv.devMatrix = {2, 2};
  kv.tensorMap = {{}, {1}};
  parts.layouts = {qkv.layout, kv, kv};
  parts.layouts[2].optShardStep = 1;
  parts.layouts[2].optShardSize = -1;
  qkv.parts = parts;
  s.layouts.push_back(qkv);
  s.encoding = StrategyFile::Encoding::Json;
  std::string text = llvm::cantFail(serializeStrategy(s));
  EXPECT_NE(text.find("\"parts\":{\"dim\":1,\"layouts\":[{\"dev_matrix\":[4],\"tensor_map\":[-1,0]}"),
            std::string::npos)
      << text;
  auto back = llvm::cantFail(parseStrategy(text, "x.json"));
  ASSERT_EQ(back.layouts.size(), 1u);
  ASSERT_TRUE(back.layouts[0].parts.has_value());
  EXPECT_TRUE(*back.layouts[0].parts == parts);
  EXPECT_EQ(llvm::cantFail(serializeStrategy(back)), text);

  s.encoding = StrategyFile::Encoding::Protobuf;
  auto refused = serializeStrategy(s);
  ASSERT_FALSE(static_cast<bool>(refused));
  EXPECT_NE(llvm::toString(refused.takeError()).find("parameter 'in_proj_weight' is laid out part by part"),
            std::string::npos);

  std::string bad = text;
  const std::string sizes = "\"sizes\":[64,32,32]";
  bad.replace(bad.find(sizes), sizes.size(), "\"sizes\":[64,32]");
  auto mismatched = parseStrategy(bad, "bad.json");
  ASSERT_FALSE(static_cast<bool>(mismatched));
  std::string message = llvm::toString(mismatched.takeError());
  EXPECT_NE(message.find("layout 'in_proj_weight': parts gives 2 sizes and 3 layouts"), std::string::npos) << message;
}

TEST(Strategy, MergePipelineStages) {
  std::string path = samplePath("mf_strategy_4_npus.ckpt");
  auto merged = llvm::cantFail(readStrategy(path));
  // Split the merged file back into one file per stage, as each rank wrote it.
  std::vector<StrategyFile> stages(2);
  for (const StrategyOp &op : merged.ops)
    stages[op.stage].ops.push_back(op);
  for (const StrategyLayout &l : merged.layouts) {
    StrategyLayout unprefixed = l;
    unprefixed.name = l.param;
    unprefixed.stages.clear();
    stages[std::stoi(l.name.substr(0, 1))].layouts.push_back(unprefixed);
  }
  std::vector<std::string> names = {"stage0.ckpt", "stage1.ckpt"};
  auto remerged = llvm::cantFail(mergePipelineStrategies(stages, names));
  EXPECT_EQ(remerged.currentStage, 1);
  EXPECT_EQ(remerged.layouts.size(), merged.layouts.size());
  for (const StrategyLayout &l : remerged.layouts) {
    const StrategyLayout *original = findByName(merged, l.name);
    ASSERT_NE(original, nullptr) << l.name;
    EXPECT_EQ(l.stages, original->stages);
  }
  // A repeated stage is skipped.
  stages.push_back(stages[0]);
  names.push_back("again.ckpt");
  EXPECT_EQ(llvm::cantFail(mergePipelineStrategies(stages, names)).layouts.size(), merged.layouts.size());
}

TEST(StrategyBadInput, NotAStrategy) {
  auto garbage = parseStrategy(llvm::StringRef("\x0a\x03" "abc", 5), "g.ckpt");
  ASSERT_FALSE(static_cast<bool>(garbage));
  EXPECT_NE(llvm::toString(garbage.takeError()).find("g.ckpt: not a strategy file"), std::string::npos);
  auto json = parseStrategy("{\"parallel_layout_item\": 3}", "s.json");
  ASSERT_FALSE(static_cast<bool>(json));
  EXPECT_EQ(llvm::toString(json.takeError()), "s.json: JSON strategy without parallel_layout_item");
  auto broken = parseStrategy("{\"parallel_layout_item\": {\"w\": {\"dev_matrix\": [2], \"tensor_map\": [5]}}}",
                              "s.json");
  ASSERT_FALSE(static_cast<bool>(broken));
  EXPECT_EQ(llvm::toString(broken.takeError()),
            "s.json: layout 'w': tensor_map entry 0 uses device axis 5, out of range for a dev_matrix of 1 axes");
}

TEST(StrategyBadInput, JsonSyntaxErrorsSayWhere) {
  auto truncated = parseStrategy("{\"parallel_layout_item\": {\n  \"w\": {\"dev_matrix\": [2", "t.json");
  ASSERT_FALSE(static_cast<bool>(truncated));
  std::string why = llvm::toString(truncated.takeError());
  EXPECT_NE(why.find("t.json: invalid JSON strategy: [2:"), std::string::npos) << why; // line 2
  auto trailing = parseStrategy("{\"parallel_layout_item\": {}} x", "x.json");
  ASSERT_FALSE(static_cast<bool>(trailing));
  EXPECT_NE(llvm::toString(trailing.takeError()).find("x.json: invalid JSON strategy: "), std::string::npos);
  auto twice = parseStrategy("{\"parallel_layout_item\": {\"w\": {\"dev_matrix\": [2], \"tensor_map\": [0]}, "
                             "\"w\": {\"dev_matrix\": [2], \"tensor_map\": [-1]}}}",
                             "d.json");
  ASSERT_FALSE(static_cast<bool>(twice));
  EXPECT_EQ(llvm::toString(twice.takeError()), "d.json: layout 'w' is listed twice");
  auto fraction = parseStrategy("{\"parallel_layout_item\": {\"w\": {\"dev_matrix\": [2.5], \"tensor_map\": [0]}}}",
                                "f.json");
  ASSERT_FALSE(static_cast<bool>(fraction));
  EXPECT_EQ(llvm::toString(fraction.takeError()), "f.json: layout 'w': dev_matrix must be a list of integers");
  // Nesting deeper than any stack would hold is just bad input.
  std::string deep = "{\"parallel_layout_item\": " + std::string(1 << 20, '[') + std::string(1 << 20, ']') + "}";
  auto nested = parseStrategy(deep, "n.json");
  ASSERT_FALSE(static_cast<bool>(nested));
  EXPECT_NE(llvm::toString(nested.takeError()).find("n.json: invalid JSON strategy: "), std::string::npos);
}

TEST(Strategy, JsonItemsAreReadInKeyOrderAndWholeNumbersAsIntegers) {
  auto strategy = parseStrategy("{\"current_stage\": 1, \"parallel_layout_item\": {"
                                "\"b\": {\"dev_matrix\": [4.0], \"tensor_map\": [0, -1], \"tensor_shape\": [8, 2]},"
                                "\"a\": {\"dev_matrix\": [4], \"tensor_map\": [[-1], 0], \"field\": 1}}}",
                                "o.json");
  ASSERT_TRUE(static_cast<bool>(strategy)) << llvm::toString(strategy.takeError());
  ASSERT_EQ(strategy->layouts.size(), 2u);
  EXPECT_EQ(strategy->layouts[0].name, "a");
  EXPECT_EQ(strategy->layouts[0].field, 1);
  EXPECT_TRUE(strategy->layouts[0].layout.tensorMap[0].empty());
  EXPECT_EQ(strategy->layouts[1].name, "b");
  EXPECT_EQ(strategy->layouts[1].layout.devMatrix, (llvm::SmallVector<int64_t, 4>{4}));
  ASSERT_TRUE(strategy->layouts[1].tensorShape.has_value());
  EXPECT_EQ(*strategy->layouts[1].tensorShape, (llvm::SmallVector<int64_t, 4>{8, 2}));
}

TEST(StrategyBadInput, MissingRequiredFields) {
  // A layout item without its required ParallelLayouts.
  auto missing = parseStrategy(llvm::StringRef("\x08\x01\x1a\x03\x0a\x01w", 7), "m.ckpt");
  ASSERT_FALSE(static_cast<bool>(missing));
  EXPECT_NE(llvm::toString(missing.takeError()).find("missing"), std::string::npos);
}

} // namespace
