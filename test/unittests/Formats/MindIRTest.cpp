//===- MindIRTest.cpp - MindIR models: the samples, round trips, bad input -===//

#include "dinfer/Formats/MindIR.h"
#include "dinfer/Formats/FileUtils.h"

#include "SampleFiles.h"
#include "TestUtils.h"

#include "mind_ir.pb.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include "gtest/gtest.h"

using namespace dinfer;
using llvm::SmallVector;

namespace {

MindIRModel mustOpen(llvm::StringRef name) {
  auto model = MindIRModel::open(samplePath(name));
  EXPECT_TRUE(static_cast<bool>(model)) << (model ? "" : llvm::toString(model.takeError()));
  return std::move(*model);
}

TEST(MindIR, ReadsThe17Exporter) {
  MindIRModel model = mustOpen("ReLU_bprop_v17.mindir");
  EXPECT_EQ(model.irVersion(), "0.1.1");
  EXPECT_EQ(model.producerVersion(), "1.7.0");
  EXPECT_TRUE(model.parameters().empty());
  MindIRGraph graph = model.mainGraph();
  ASSERT_EQ(graph.nodes.size(), 2u);
  EXPECT_EQ(graph.nodes[0].opTypeRaw, "REF::S-Prim-ReluGrad:2");
  EXPECT_EQ(graph.nodes[0].opType, "ReluGrad");
  EXPECT_EQ(graph.nodes[1].opType, "MakeTuple");
  ASSERT_EQ(model.inputs().size(), 3u);
  EXPECT_EQ(model.inputs()[0].name, "x");
}

TEST(MindIR, ReadsLeNetWithWeights) {
  MindIRModel model = mustOpen("ori_net.mindir");
  EXPECT_EQ(model.producerVersion(), "2.0.0a0");
  // Two weights in graph.parameter; the dense layers' weights are constants.
  ASSERT_EQ(model.parameters().size(), 2u);
  EXPECT_EQ(model.parameters()[1].name, "conv1.weight");
  const MindIRParameter &conv2 = model.parameters()[0];
  EXPECT_EQ(conv2.name, "conv2.weight");
  EXPECT_EQ(conv2.dtype, DType::Float32);
  EXPECT_EQ(conv2.shape, (SmallVector<int64_t, 4>{16, 6, 5, 5}));
  EXPECT_EQ(conv2.bytes, 16u * 6 * 5 * 5 * 4);
  auto data = model.readParameter(conv2);
  ASSERT_TRUE(static_cast<bool>(data));
  EXPECT_EQ(data->size(), conv2.bytes);
  std::map<std::string, int> ops;
  for (const MindIRNode &node : model.mainGraph().nodes)
    ++ops[node.opType];
  EXPECT_EQ(ops["Conv2D"], 2);
  EXPECT_EQ(ops["MatMul"], 3);
  EXPECT_EQ(ops["ReLU"], 4);
  EXPECT_EQ(ops["Constant"], 5);
  ASSERT_EQ(model.inputs().size(), 1u);
  EXPECT_EQ(model.inputs()[0].name, "x");
}

TEST(MindIR, ReadsEveryPlainSample) {
  for (const char *name :
       {"old_version_mindir_2.mindir", "add_no_encrpty.mindir", "relu.mindir", "tensor_add.mindir"}) {
    auto model = MindIRModel::open(samplePath(name));
    ASSERT_TRUE(static_cast<bool>(model)) << name << ": " << llvm::toString(model.takeError());
    EXPECT_FALSE(model->mainGraph().nodes.empty()) << name;
  }
  MindIRModel lstm = mustOpen("old_version_mindir_2.mindir");
  EXPECT_EQ(lstm.parameters().size(), 6u);
  EXPECT_EQ(lstm.producerVersion(), "1.6.1");
  MindIRModel add = mustOpen("tensor_add.mindir");
  ASSERT_EQ(add.mainGraph().nodes.size(), 1u);
  EXPECT_EQ(add.mainGraph().nodes[0].opType, "Add");
  EXPECT_EQ(add.inputs()[0].shape, (SmallVector<int64_t, 4>{2, 2}));
}

TEST(MindIR, RewritingGivesTheSameBytes) {
  TempDir dir;
  for (const char *name : {"ReLU_bprop_v17.mindir", "ori_net.mindir", "old_version_mindir_2.mindir",
                           "tensor_add.mindir", "relu.mindir", "add_no_encrpty.mindir"}) {
    MindIRModel model = mustOpen(name);
    std::string out = dir.file(name);
    llvm::cantFail(model.write(out));
    EXPECT_EQ(readAll(out), readAll(samplePath(name))) << name;
  }
}

TEST(MindIR, ExternalDataRoundTrip) {
  MindIRModel model = mustOpen("ori_net.mindir");
  TempDir dir;
  MindIRModel::WriteOptions options;
  options.externalThreshold = 1024; // force the split form
  llvm::cantFail(model.write(dir.file("net.mindir"), options));
  EXPECT_FALSE(llvm::sys::fs::exists(dir.file("net.mindir")));
  ASSERT_TRUE(llvm::sys::fs::exists(dir.file("net_graph.mindir")));
  std::string data = readAll(dir.file("net_variables/data_0"));
  ASSERT_GE(data.size(), 64u);
  EXPECT_EQ(data[0], 1);
  EXPECT_EQ(data.size() % 64, 0u);

  auto split = MindIRModel::open(dir.file("net_graph.mindir"));
  ASSERT_TRUE(static_cast<bool>(split)) << llvm::toString(split.takeError());
  ASSERT_EQ(split->parameters().size(), model.parameters().size());
  for (size_t i = 0; i < model.parameters().size(); ++i) {
    const MindIRParameter &p = split->parameters()[i];
    EXPECT_EQ(p.location, "net_variables/data_0");
    EXPECT_EQ(p.offset % 64, 0u);
    EXPECT_EQ(llvm::cantFail(split->readParameter(p)), llvm::cantFail(model.readParameter(model.parameters()[i])));
  }
  // Back to inline: the original bytes again.
  llvm::cantFail(split->write(dir.file("inline.mindir")));
  EXPECT_EQ(readAll(dir.file("inline.mindir")), readAll(samplePath("ori_net.mindir")));
}

/// The model with every parameter's bytes taken out: pending, to be streamed.
MindIRModel withWeightsPending(const MindIRModel &model) {
  auto proto = std::make_unique<mind_ir::ModelProto>(model.proto());
  for (mind_ir::TensorProto &tensor : *proto->mutable_graph()->mutable_parameter())
    tensor.clear_raw_data();
  auto pending = MindIRModel::fromProto(std::move(proto), "pending.mindir", /*weightsPending=*/true);
  EXPECT_TRUE(static_cast<bool>(pending)) << (pending ? "" : llvm::toString(pending.takeError()));
  return std::move(*pending);
}

TEST(MindIR, StreamedWeightsGiveTheSameBytes) {
  TempDir dir;
  for (const char *name : {"ori_net.mindir", "old_version_mindir_2.mindir"}) {
    MindIRModel model = mustOpen(name);
    MindIRModel pending = withWeightsPending(model);
    for (const MindIRParameter &p : pending.parameters())
      EXPECT_TRUE(p.pending) << p.name;
    // Small pieces, so that every parameter is streamed in several.
    size_t calls = 0;
    std::map<std::string, std::string> digests;
    MindIRModel::WriteOptions options;
    options.weights = [&](const MindIRParameter &p, uint64_t offset, llvm::MutableArrayRef<char> out) -> llvm::Error {
      ++calls;
      std::vector<char> bytes = llvm::cantFail(model.readParameter(model.parameters()[p.index]));
      EXPECT_LE(offset + out.size(), bytes.size());
      std::copy_n(bytes.begin() + offset, out.size(), out.begin());
      return llvm::Error::success();
    };
    options.digests = [&](llvm::StringRef path, llvm::StringRef sha256) { digests[path.str()] = sha256.str(); };
    std::string out = dir.file(std::string("streamed-") + name);
    llvm::cantFail(pending.write(out, options));
    EXPECT_EQ(readAll(out), readAll(samplePath(name))) << name;
    EXPECT_GE(calls, pending.parameters().size());
    ASSERT_EQ(digests.count(out), 1u);
    EXPECT_EQ(digests[out], llvm::cantFail(sha256OfFile(out)));

    // The split form streams into its data file; read back, the same weights.
    options.externalThreshold = 1024;
    std::string split = dir.file(std::string("split-") + name);
    llvm::cantFail(pending.write(split, options));
    auto reopened = MindIRModel::open(dir.file(std::string("split-") + llvm::StringRef(name).drop_back(7).str() +
                                               "_graph.mindir"));
    ASSERT_TRUE(static_cast<bool>(reopened)) << llvm::toString(reopened.takeError());
    for (size_t i = 0; i < model.parameters().size(); ++i)
      EXPECT_EQ(llvm::cantFail(reopened->readParameter(reopened->parameters()[i])),
                llvm::cantFail(model.readParameter(model.parameters()[i])));
    for (const auto &[path, sha256] : digests)
      EXPECT_EQ(sha256, llvm::cantFail(sha256OfFile(path))) << path;
    EXPECT_EQ(digests.size(), 3u); // the inline file, then data_0 and the graph
  }
}

TEST(MindIRBadInput, PendingWeightsWithoutASupplier) {
  MindIRModel pending = withWeightsPending(mustOpen("ori_net.mindir"));
  TempDir dir;
  llvm::Error err = pending.write(dir.file("net.mindir"));
  ASSERT_TRUE(static_cast<bool>(err));
  EXPECT_NE(llvm::toString(std::move(err)).find("nothing supplies them"), std::string::npos);
  EXPECT_FALSE(llvm::sys::fs::exists(dir.file("net.mindir")));
  auto read = pending.readParameter(pending.parameters()[0]);
  ASSERT_FALSE(static_cast<bool>(read));
  EXPECT_NE(llvm::toString(read.takeError()).find("no bytes yet"), std::string::npos);
}

mind_ir::ModelProto tinyModel() {
  mind_ir::ModelProto model;
  model.set_ir_version("0.1.1");
  model.set_producer_name("MindSpore");
  model.set_model_version("1.7.0");
  auto *graph = model.mutable_graph();
  graph->set_name("g");
  auto *parameter = graph->add_parameter();
  parameter->set_name("g:w");
  parameter->add_dims(2);
  parameter->set_data_type(mind_ir::TensorProto::FLOAT);
  parameter->set_raw_data(std::string(8, '\0'));
  return model;
}

std::string errorOf(const mind_ir::ModelProto &proto) {
  std::string bytes = proto.SerializeAsString();
  auto model = MindIRModel::parse(bytes, "m.mindir", "/tmp");
  return model ? "" : llvm::toString(model.takeError());
}

TEST(MindIRBadInput, NotAModel) {
  auto model = MindIRModel::parse("hello", "h.mindir");
  ASSERT_FALSE(static_cast<bool>(model));
  EXPECT_EQ(llvm::toString(model.takeError()),
            "h.mindir: not a MindIR model: the bytes do not parse as a mind_ir.ModelProto with a graph");
  EXPECT_EQ(errorOf(tinyModel()), "");
}

TEST(MindIRBadInput, ParameterSizeDisagreesWithShape) {
  mind_ir::ModelProto proto = tinyModel();
  proto.mutable_graph()->mutable_parameter(0)->add_dims(3);
  EXPECT_EQ(errorOf(proto), "m.mindir: parameter 'w' has 8 bytes, but shape [2,3] of Float32 needs 24");
}

TEST(MindIRBadInput, ExternalDataLeavingTheFolder) {
  for (const char *location : {"../secret", "/etc/passwd", "a/../../b"}) {
    mind_ir::ModelProto proto = tinyModel();
    auto *parameter = proto.mutable_graph()->mutable_parameter(0);
    parameter->clear_raw_data();
    parameter->mutable_external_data()->set_location(location);
    parameter->mutable_external_data()->set_offset(64);
    parameter->mutable_external_data()->set_length(8);
    EXPECT_EQ(errorOf(proto), std::string("m.mindir: parameter 'w': external data location '") + location +
                                  "' leaves the model's folder");
  }
}

TEST(MindIRBadInput, MissingExternalFile) {
  mind_ir::ModelProto proto = tinyModel();
  auto *parameter = proto.mutable_graph()->mutable_parameter(0);
  parameter->clear_raw_data();
  parameter->mutable_external_data()->set_location("m_variables/data_0");
  parameter->mutable_external_data()->set_offset(64);
  parameter->mutable_external_data()->set_length(8);
  std::string bytes = proto.SerializeAsString();
  TempDir dir;
  auto model = llvm::cantFail(MindIRModel::parse(bytes, "m.mindir", dir.file("")));
  auto data = model.readParameter(model.parameters()[0]);
  ASSERT_FALSE(static_cast<bool>(data));
  EXPECT_NE(llvm::toString(data.takeError()).find("data_0: cannot open"), std::string::npos);
}

TEST(MindIRBadInput, OverflowingShape) {
  mind_ir::ModelProto proto = tinyModel();
  auto *parameter = proto.mutable_graph()->mutable_parameter(0);
  parameter->add_dims(int64_t(1) << 40);
  parameter->add_dims(int64_t(1) << 40);
  EXPECT_EQ(errorOf(proto), "m.mindir: parameter 'w' has an invalid shape [2,1099511627776,1099511627776]");
}

TEST(MindIRBadInput, EveryTruncationIsAnErrorOrAPrefixModel) {
  std::string bytes = readAll(samplePath("tensor_add.mindir"));
  auto whole = MindIRModel::parse(bytes, "t.mindir");
  ASSERT_TRUE(static_cast<bool>(whole)) << llvm::toString(whole.takeError());
  size_t wholeNodes = whole->mainGraph().nodes.size();
  size_t errors = 0, prefixes = 0;
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto model = MindIRModel::parse(llvm::StringRef(bytes.data(), n), "t.mindir");
    if (!model) {
      // An error names the file.
      std::string message = llvm::toString(model.takeError());
      EXPECT_NE(message.find("t.mindir"), std::string::npos) << n << " bytes: " << message;
      ++errors;
      continue;
    }
    // Protobuf accepts a cut at a field boundary: what parses is a prefix of
    // the model, never more than it.
    ++prefixes;
    EXPECT_LE(model->mainGraph().nodes.size(), wholeNodes) << n << " bytes";
    EXPECT_LE(model->parameters().size(), whole->parameters().size()) << n << " bytes";
  }
  EXPECT_GT(errors, bytes.size() / 2) << "most cuts fall inside a field";
  EXPECT_EQ(errors + prefixes, bytes.size());
}

} // namespace

namespace {

/// A small valid model: one input, one weight, Add(input, weight), output.
std::unique_ptr<mind_ir::ModelProto> validModel() {
  auto model = std::make_unique<mind_ir::ModelProto>();
  model->set_ir_version("0.1.1");
  model->set_producer_name("MindSpore");
  model->set_model_version("1.7.0");
  model->set_little_endian(true);
  model->set_mind_ir_version(1);
  mind_ir::PrimitiveProto *add = model->add_primitives();
  add->set_name("Add:1");
  add->set_op_type("Add");
  mind_ir::GraphProto *graph = model->mutable_graph();
  graph->set_name("g");
  mind_ir::ValueInfoProto *input = graph->add_input();
  input->set_name("g:x");
  input->add_tensor()->set_data_type(mind_ir::TensorProto::FLOAT);
  mind_ir::TensorProto *weight = graph->add_parameter();
  weight->set_name("g:w");
  weight->add_dims(2);
  weight->set_data_type(mind_ir::TensorProto::FLOAT);
  weight->set_raw_data(std::string(8, '\0'));
  mind_ir::NodeProto *node = graph->add_node();
  node->set_name("g:Add:2");
  node->add_output("g:Add:2");
  node->set_op_type("REF::Add:1");
  node->add_input("g:x");
  node->add_input("g:w");
  graph->add_output()->set_name("g:Add:2");
  return model;
}

std::vector<std::string> problemsOf(std::unique_ptr<mind_ir::ModelProto> proto) {
  auto model = MindIRModel::fromProto(std::move(proto), "bad.mindir");
  EXPECT_TRUE(static_cast<bool>(model));
  return model ? model->loaderProblems() : std::vector<std::string>{"does not load"};
}

bool mentions(const std::vector<std::string> &problems, llvm::StringRef text) {
  return llvm::any_of(problems, [&](const std::string &p) { return llvm::StringRef(p).contains(text); });
}

TEST(MindIRLoaderRules, AValidModelHasNoProblem) { EXPECT_TRUE(problemsOf(validModel()).empty()); }

// Each rule of 1.7's loader, broken once.
TEST(MindIRLoaderRules, EachRuleBroken) {
  auto model = validModel();
  model->set_mind_ir_version(3);
  EXPECT_TRUE(mentions(problemsOf(std::move(model)), "mind_ir_version 3"));

  model = validModel();
  model->set_little_endian(false);
  EXPECT_TRUE(mentions(problemsOf(std::move(model)), "little_endian is false"));

  model = validModel();
  model->clear_model_version();
  EXPECT_TRUE(mentions(problemsOf(std::move(model)), "model_version"));

  model = validModel();
  model->mutable_graph()->mutable_node(0)->set_input(1, "g:nothing");
  EXPECT_TRUE(mentions(problemsOf(std::move(model)), "reads 'g:nothing' before anything defines it"));

  model = validModel();
  model->mutable_graph()->mutable_node(0)->set_op_type("REF::Mul:7");
  EXPECT_TRUE(mentions(problemsOf(std::move(model)), "calls 'Mul:7', which is no primitive"));

  model = validModel();
  mind_ir::NodeProto *constant = model->mutable_graph()->add_node();
  constant->set_name("[ValueNode]9");
  constant->add_output("[ValueNode]9");
  constant->set_op_type("Constant");
  EXPECT_TRUE(mentions(problemsOf(std::move(model)), "Constant without a 'value' attribute"));

  model = validModel();
  model->mutable_graph()->mutable_output(0)->set_name("g:gone");
  EXPECT_TRUE(mentions(problemsOf(std::move(model)), "output 'g:gone' is produced by no node"));

  model = validModel();
  model->mutable_primitives(0)->clear_op_type();
  EXPECT_TRUE(mentions(problemsOf(std::move(model)), "has no op_type"));

  model = validModel();
  *model->add_primitives() = model->primitives(0);
  EXPECT_TRUE(mentions(problemsOf(std::move(model)), "used twice"));
}

} // namespace
