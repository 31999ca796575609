//===- MindIRCheck.cpp - what MindSpore 1.7's MindIR loader refuses -------===//
//
// The rules of mindspore/core/load_mindir/anf_model_parser.cc (1.7) as
// mindspore-formats.md records them, applied to the parsed model.
//
//===----------------------------------------------------------------------===//

#include "dinfer/Formats/ByteSource.h"
#include "dinfer/Formats/MindIR.h"

#include "mind_ir.pb.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

using namespace dinfer;

namespace {

/// TensorProto.DataType values 1.7 knows (UNDEFINED and STRING aside).
bool knownDataType(int32_t type) { return type >= 1 && type <= 17 && type != 8; }

class Checker {
public:
  Checker(const mind_ir::ModelProto &model, llvm::StringRef directory) : model_(model), directory_(directory) {}

  std::vector<std::string> run() {
    if (model_.has_mind_ir_version() && model_.mind_ir_version() != 0 && model_.mind_ir_version() != 1)
      problem(llvm::formatv("mind_ir_version {0} is not one MindSpore 1.7 reads (0 or 1)", model_.mind_ir_version()));
    if (model_.has_little_endian() && !model_.little_endian())
      problem("little_endian is false: the loader refuses a byte order other than the host's (little-endian)");
    if (model_.producer_name().empty())
      problem("producer_name is missing");
    if (model_.model_version().empty())
      problem("model_version (the MindSpore version) is missing");
    if (!model_.has_graph()) {
      problem("there is no graph");
      return problems_;
    }
    llvm::StringSet<> primitiveNames;
    for (const mind_ir::PrimitiveProto &prim : model_.primitives()) {
      if (prim.op_type().empty())
        problem("primitive '" + prim.name() + "' has no op_type");
      if (!primitiveNames.insert(prim.name()).second)
        problem("primitive name '" + prim.name() + "' is used twice");
    }
    for (const mind_ir::GraphProto &function : model_.functions())
      graphNames_.insert(function.name());
    graphNames_.insert(model_.graph().name());
    checkGraph(model_.graph(), primitiveNames, /*main=*/true);
    for (const mind_ir::GraphProto &function : model_.functions())
      checkGraph(function, primitiveNames, /*main=*/false);
    return problems_;
  }

private:
  void problem(const llvm::Twine &text) { problems_.push_back(text.str()); }

  void checkParameter(const mind_ir::GraphProto &graph, const mind_ir::TensorProto &tensor) {
    std::string where = "graph '" + graph.name() + "': parameter '" + tensor.name() + "'";
    if (!knownDataType(tensor.data_type())) {
      problem(where + " has data_type " + std::to_string(tensor.data_type()) + ", which 1.7 does not know");
      return;
    }
    std::optional<DType> dtype = dtypeFromMindIR(tensor.data_type());
    uint64_t count = 1;
    for (int64_t d : tensor.dims()) {
      if (d < 0 || __builtin_mul_overflow(count, static_cast<uint64_t>(d), &count)) {
        problem(where + " has an invalid shape");
        return;
      }
    }
    uint64_t expected = dtype ? (count * dtypeBits(*dtype) + 7) / 8 : 0;
    if (tensor.has_raw_data()) {
      if (dtype && tensor.raw_data().size() != expected)
        problem(where + llvm::formatv(" holds {0} bytes of raw_data; its shape and type need {1}",
                                      tensor.raw_data().size(), expected));
      return;
    }
    if (!tensor.has_external_data()) {
      problem(where + " has neither raw_data nor external_data");
      return;
    }
    const auto &external = tensor.external_data();
    if (dtype && static_cast<uint64_t>(external.length()) != expected)
      problem(where + llvm::formatv(" has external data of {0} bytes; its shape and type need {1}", external.length(),
                                    expected));
    llvm::SmallString<256> file(directory_);
    llvm::sys::path::append(file, external.location());
    auto source = ByteSource::openFile(file);
    if (!source) {
      problem(where + ": external data '" + external.location() + "': " + llvm::toString(source.takeError()));
      return;
    }
    char header[1] = {0};
    if ((*source)->size() < 64 || (*source)->readAt(0, header)) {
      problem(where + ": external data file '" + external.location() + "' is shorter than its 64-byte header");
      return;
    }
    if (header[0] != 1)
      problem(where + ": external data file '" + external.location() + "' is not marked little-endian");
    if (external.offset() < 64 || static_cast<uint64_t>(external.offset() + external.length()) > (*source)->size())
      problem(where + llvm::formatv(": external data [{0}, +{1}) lies outside '{2}' ({3} bytes)", external.offset(),
                                    external.length(), external.location(), (*source)->size()));
  }

  void checkGraph(const mind_ir::GraphProto &graph, const llvm::StringSet<> &primitives, bool main) {
    std::string where = "graph '" + graph.name() + "'";
    llvm::StringSet<> defined, parameterNames;
    for (const mind_ir::ValueInfoProto &input : graph.input()) {
      defined.insert(input.name());
      for (const mind_ir::TensorProto &tensor : input.tensor())
        if (!knownDataType(tensor.data_type()) && tensor.data_type() != 0)
          problem(where + ": input '" + input.name() + "' has data_type " + std::to_string(tensor.data_type()));
    }
    for (const mind_ir::TensorProto &tensor : graph.parameter()) {
      if (!parameterNames.insert(tensor.name()).second)
        problem(where + ": parameter '" + tensor.name() + "' appears twice");
      defined.insert(tensor.name());
      checkParameter(graph, tensor);
    }
    for (const mind_ir::NodeProto &node : graph.node()) {
      std::string nodeWhere = where + ": node '" + node.name() + "'";
      if (node.output_size() == 0 && node.name().empty()) {
        problem(nodeWhere + " has neither a name nor an output");
        continue;
      }
      llvm::StringRef op = node.op_type();
      if (op.empty()) {
        problem(nodeWhere + " has no op_type");
      } else if (op == "Constant") {
        bool hasValue = false;
        for (const mind_ir::AttributeProto &attr : node.attribute())
          hasValue |= attr.name() == "value";
        if (!hasValue)
          problem(nodeWhere + " is a Constant without a 'value' attribute");
      } else if (op.consume_front("REF::")) {
        if (!primitives.contains(op) && !graphNames_.contains(op) && !defined.contains(op))
          problem(nodeWhere + " calls '" + op + "', which is no primitive, sub-graph or node");
      }
      for (const std::string &input : node.input())
        if (!defined.contains(input) && !graphNames_.contains(input))
          problem(nodeWhere + " reads '" + input + "' before anything defines it");
      for (const std::string &output : node.output())
        defined.insert(output);
      defined.insert(node.name());
    }
    if (main && graph.output_size() == 0)
      problem(where + " has no output");
    for (const mind_ir::ValueInfoProto &output : graph.output())
      if (!defined.contains(output.name()))
        problem(where + ": output '" + output.name() + "' is produced by no node");
  }

  const mind_ir::ModelProto &model_;
  std::string directory_;
  llvm::StringSet<> graphNames_;
  std::vector<std::string> problems_;
};

} // namespace

std::vector<std::string> MindIRModel::loaderProblems() const { return Checker(*proto_, directory_).run(); }
