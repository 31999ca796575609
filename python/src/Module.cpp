//===- Module.cpp - the dinfer._dinfer extension module -------------------===//
//
// numpy arrays in and out of dinfer's libraries: the pipeline's jobs
// (dinfer/Pipeline), checkpoints, strategy files and the layout algebra.
// Errors become dinfer.DinferError (DinferUsageError for the caller's
// mistakes) carrying the C++ message; the Python package (python/dinfer)
// builds MindSpore's API on top.
//
//===----------------------------------------------------------------------===//

#include "Support.h"

#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>

namespace py = pybind11;
using namespace dinfer::python;

namespace {
py::object errorType() { return py::module_::import("dinfer.errors").attr("DinferError"); }

[[noreturn]] void raise(const std::string &message) {
  PyErr_SetString(errorType().ptr(), message.c_str());
  throw py::error_already_set();
}

/// DinferUsageError (a ValueError) for the caller's mistakes, DinferError for
/// everything else; both carry the library's message and the command the call
/// stands for.
void check(const Status &status, const char *command) {
  if (status.ok())
    return;
  py::module_ errors = py::module_::import("dinfer.errors");
  py::object error = status.usage ? errors.attr("DinferUsageError")(status.message, command)
                                  : errors.attr("DinferError")(status.message, command, 1);
  PyErr_SetObject(error.get_type().ptr(), error.ptr());
  throw py::error_already_set();
}

Progress progressOf(py::object progress) {
  if (progress.is_none())
    return nullptr;
  return [progress](const std::string &phase, uint64_t done, uint64_t total) {
    py::gil_scoped_acquire gil;
    try {
      progress(phase, done, total);
    } catch (py::error_already_set &error) {
      error.discard_as_unraisable("dinfer progress callback");
    }
  };
}

/// A contiguous numpy array as a TensorData; `keep` holds what it points into.
TensorData tensorOf(const std::string &name, const py::array &array, std::vector<py::array> &keep) {
  py::array contiguous = py::array::ensure(array, py::array::c_style);
  if (!contiguous)
    raise("tensor '" + name + "' is not an array");
  TensorData item;
  item.name = name;
  item.dtype = py::str(contiguous.dtype()).cast<std::string>();
  item.shape.assign(contiguous.shape(), contiguous.shape() + contiguous.ndim());
  item.data = contiguous.data();
  item.bytes = contiguous.nbytes();
  keep.push_back(contiguous);
  return item;
}

py::dict layoutDict(const LayoutItem &item) {
  py::list tensorMap;
  for (const std::vector<int64_t> &axes : item.tensorMap) {
    if (axes.empty())
      tensorMap.append(-1);
    else if (axes.size() == 1)
      tensorMap.append(axes.front());
    else
      tensorMap.append(py::tuple(py::cast(axes)));
  }
  py::dict d;
  d["name"] = item.name;
  d["param"] = item.param;
  d["stages"] = item.stages;
  d["dev_matrix"] = item.devMatrix;
  d["tensor_map"] = tensorMap;
  d["field"] = item.field;
  d["opt_weight_shard_step"] = item.optShardStep;
  d["opt_weight_shard_size"] = item.optShardSize;
  d["param_split_shape"] = item.paramSplitShape;
  d["tensor_shape"] = item.hasTensorShape ? py::cast(item.tensorShape) : py::none();
  return d;
}

LayoutItem layoutFromPython(const std::vector<int64_t> &devMatrix, const py::sequence &tensorMap, int64_t optStep,
                            int64_t optSize) {
  LayoutItem item;
  item.devMatrix = devMatrix;
  for (py::handle entry : tensorMap) {
    if (py::isinstance<py::int_>(entry)) {
      int64_t axis = entry.cast<int64_t>();
      item.tensorMap.push_back(axis == -1 ? std::vector<int64_t>{} : std::vector<int64_t>{axis});
    } else {
      item.tensorMap.push_back(entry.cast<std::vector<int64_t>>());
    }
  }
  item.optShardStep = optStep;
  item.optShardSize = optSize;
  return item;
}
} // namespace

PYBIND11_MODULE(_dinfer, m) {
  m.doc() = "dinfer's C++ libraries: the pipeline (layout, reshard, export, predict), checkpoints, strategy files and "
            "the layout algebra";

  m.def(
      "set_key",
      [](const py::bytes &key, const std::string &mode) { check(setKey(key, mode), "key"); },
      py::arg("key"), py::arg("mode") = "AES-GCM",
      "The key of encrypted checkpoints and MindIR from now on (empty bytes: none).");

  m.def(
      "export_model",
      [](const std::string &model, const std::string &trainStrategy, const std::string &ckptDir,
         const std::vector<std::string> &inputs, const std::string &output, int64_t deviceNum,
         int64_t pipelineStages, const std::string &predictStrategy, unsigned threads, bool sync, bool encrypt,
         py::object progress, bool report, int64_t maxLength) {
        ExportArgs args{model,          trainStrategy, ckptDir, predictStrategy, output,   inputs, deviceNum,
                        pipelineStages, threads,       sync,    encrypt,         report, maxLength};
        ExportDone done;
        Status status;
        {
          Progress sink = progressOf(progress);
          py::gil_scoped_release release;
          status = exportModel(args, sink, done);
        }
        check(status, "export");
        py::dict summary;
        summary["output"] = done.output;
        summary["devices"] = done.devices;
        summary["stages"] = done.stages;
        summary["weight_bytes"] = done.weightBytes;
        summary["groups"] = done.groups;
        summary["seconds"] = done.seconds;
        return summary;
      },
      py::arg("model"), py::arg("train_strategy"), py::arg("ckpt_dir"), py::arg("inputs"), py::arg("output"),
      py::arg("device_num") = 0, py::arg("pipeline_stages") = 0, py::arg("predict_strategy") = "",
      py::arg("threads") = 0,
      py::arg("sync") = true, py::arg("encrypt") = false, py::arg("progress") = py::none(),
      py::arg("report") = false, py::arg("max_length") = 0,
      "One MindIR per inference rank (dinfer export); returns a summary dict.");

  m.def(
      "describe_file",
      [](const std::string &path) {
        std::string json;
        Status status;
        {
          py::gil_scoped_release release;
          status = describeFile(path, json);
        }
        check(status, "inspect");
        return json;
      },
      py::arg("path"), "The JSON of `dinfer inspect --json PATH` (docs/contracts.md section 3).");

  m.def(
      "predict_layout",
      [](const std::string &model, const std::string &trainStrategy, const std::vector<std::string> &inputs,
         int64_t deviceNum, int64_t pipelineStages, const std::string &output) {
        std::string json;
        Status status;
        {
          py::gil_scoped_release release;
          status = predictLayout(model, trainStrategy, inputs, deviceNum, pipelineStages, output, json);
        }
        check(status, "layout");
        return json;
      },
      py::arg("model"), py::arg("train_strategy"), py::arg("inputs"), py::arg("device_num") = 0,
      py::arg("pipeline_stages") = 0, py::arg("output") = "",
      "The JSON of `dinfer layout --json` (docs/contracts.md section 4); writes the predict strategy to output.");

  m.def(
      "merge_strategies",
      [](const std::string &folder, const std::string &output) {
        size_t stageFiles = 0, layouts = 0;
        std::vector<std::string> notes;
        Status status;
        {
          py::gil_scoped_release release;
          status = mergeStrategies(folder, output, stageFiles, layouts, notes);
        }
        check(status, "merge-strategy");
        return py::make_tuple(stageFiles, layouts, notes);
      },
      py::arg("folder"), py::arg("output"), "(stage files, layouts, notes) of merging a folder's strategy files.");

  m.def(
      "reshard",
      [](const std::string &srcStrategy, const std::string &dst, const std::string &dstStrategy,
         const std::string &src, const std::vector<std::string> &srcList, const std::string &prefix,
         const std::vector<int64_t> &ranks, bool encrypt, const std::string &format, uint64_t maxShardSize,
         const std::map<std::string, std::string> &nameMap, py::object progress) {
        ReshardArgs args;
        args.format = format;
        args.maxShardSize = maxShardSize;
        args.nameMap = nameMap;
        args.src = src;
        args.srcList = srcList;
        args.srcStrategy = srcStrategy;
        args.dst = dst;
        args.dstStrategy = dstStrategy;
        args.prefix = prefix;
        args.ranks = ranks;
        args.encrypt = encrypt;
        ReshardDone done;
        Status status;
        {
          Progress sink = progressOf(progress);
          py::gil_scoped_release release;
          status = reshard(args, sink, done);
        }
        check(status, "reshard");
        py::dict summary;
        summary["source_ranks"] = done.srcRanks;
        summary["files"] = done.files;
        summary["bytes"] = done.bytes;
        summary["seconds"] = done.seconds;
        summary["notices"] = done.notices;
        summary["plan_notices"] = done.planNotices;
        return summary;
      },
      py::arg("src_strategy"), py::arg("dst"), py::arg("dst_strategy"), py::arg("src") = "",
      py::arg("src_list") = std::vector<std::string>(), py::arg("prefix") = "checkpoint_",
      py::arg("ranks") = std::vector<int64_t>(), py::arg("encrypt") = false, py::arg("format") = "",
      py::arg("max_shard_size") = 0, py::arg("name_map") = std::map<std::string, std::string>(),
      py::arg("progress") = py::none(),
      "Checkpoints from one layout to another (dinfer reshard); returns a summary dict.");

  m.def(
      "predict",
      [](const std::string &model, const std::vector<std::pair<std::string, py::array>> &inputs, int64_t deviceNum,
         int64_t pipelineStages, const std::string &trainStrategy, unsigned threads, unsigned timeout,
         const std::string &dtype) {
        std::vector<py::array> keep;
        std::vector<TensorData> data;
        for (const auto &[name, array] : inputs)
          data.push_back(tensorOf(name, array, keep));
        if (dtype != "float32" && dtype != "bfloat16")
          throw py::value_error("dtype " + dtype + ": expected float32 or bfloat16");
        PredictArgs args{model, trainStrategy, deviceNum, pipelineStages, threads, timeout, dtype == "bfloat16"};
        std::vector<OutputArray> outputs;
        std::string summary;
        Status status;
        {
          py::gil_scoped_release release;
          status = predict(args, data, outputs, summary);
        }
        check(status, "run");
        py::list results;
        for (OutputArray &out : outputs) {
          py::array array(py::dtype(out.dtype), out.shape);
          std::memcpy(array.mutable_data(), out.data.data(), out.data.size());
          results.append(py::make_tuple(out.name, array));
        }
        return py::make_tuple(results, summary);
      },
      py::arg("model"), py::arg("inputs"), py::arg("device_num") = 0, py::arg("pipeline_stages") = 0,
      py::arg("train_strategy") = "", py::arg("threads") = 0, py::arg("timeout") = 300, py::arg("dtype") = "float32",
      "Runs a model file or an export folder on [(name, array)]; returns ([(name, array)], summary line). dtype: "
      "the precision of products with constant weights (float32 or bfloat16).");

  m.def(
      "generate",
      [](const std::string &model, py::array_t<int64_t, py::array::c_style | py::array::forcecast> prompt,
         int64_t newTokens, unsigned threads, int64_t deviceNum, const std::string &trainStrategy,
         int64_t eosTokenId) {
        GenerateArgs args;
        args.model = model;
        args.promptShape.assign(prompt.shape(), prompt.shape() + prompt.ndim());
        args.prompt = prompt.data();
        args.newTokens = newTokens;
        args.threads = threads;
        args.deviceNum = deviceNum;
        args.trainStrategy = trainStrategy;
        args.eosTokenId = eosTokenId;
        GenerateDone done;
        Status status;
        {
          py::gil_scoped_release release;
          status = generate(args, done);
        }
        check(status, "generate");
        py::array_t<int64_t> tokens(done.shape);
        std::memcpy(tokens.mutable_data(), done.tokens.data(), done.tokens.size() * sizeof(int64_t));
        py::dict timings;
        timings["prefill_ms"] = done.prefillMs;
        timings["decode_ms_per_token"] = done.decodeMsPerToken;
        timings["tokens_per_s"] = done.tokensPerSecond;
        return py::make_tuple(tokens, timings);
      },
      py::arg("model"), py::arg("prompt"), py::arg("max_new_tokens"), py::arg("threads") = 0,
      py::arg("device_num") = 0, py::arg("train_strategy") = "", py::arg("eos_token_id") = -1,
      "Greedy decoding with a key/value cache (dinfer generate); returns (int64 [B, T+N] tokens, timings).");

  m.def(
      "read_checkpoint",
      [](const std::string &path, const py::bytes &key, const std::string &mode) {
        std::string error;
        std::unique_ptr<CheckpointReader> reader = CheckpointReader::open(path, key, mode, error);
        if (!reader)
          raise(error);
        py::list entries;
        for (size_t i = 0; i < reader->tensors().size(); ++i) {
          const TensorInfo &info = reader->tensors()[i];
          if (!info.readable) {
            entries.append(py::make_tuple(info.name, py::none(), info.typeName));
            continue;
          }
          py::array array(py::dtype(info.dtype), info.shape);
          std::string message = reader->read(i, array.mutable_data(), array.nbytes());
          if (!message.empty())
            raise(path + ": " + message);
          entries.append(py::make_tuple(info.name, array, info.typeName));
        }
        return entries;
      },
      py::arg("path"), py::arg("key") = py::bytes(), py::arg("mode") = "AES-GCM",
      "[(name, numpy array or None, stored type name)] of a MindSpore checkpoint (encrypted: with key and mode).");

  m.def(
      "write_checkpoint",
      [](const std::string &path, const std::vector<std::pair<std::string, py::array>> &tensors,
         const std::string &format) {
        std::vector<py::array> keep;
        std::vector<TensorData> data;
        for (const auto &[name, array] : tensors)
          data.push_back(tensorOf(name, array, keep));
        std::string message;
        {
          py::gil_scoped_release release;
          message = writeCheckpoint(path, data, format);
        }
        if (!message.empty())
          raise(message);
      },
      py::arg("path"), py::arg("tensors"), py::arg("format") = "ckpt",
      "Writes [(name, array)] as a MindSpore checkpoint, or as safetensors with format='safetensors'.");

  m.def(
      "read_strategy",
      [](const std::string &path) {
        std::vector<LayoutItem> layouts;
        int64_t currentStage = 0;
        std::string message = readStrategy(path, layouts, currentStage);
        if (!message.empty())
          raise(message);
        py::list items;
        for (const LayoutItem &item : layouts)
          items.append(layoutDict(item));
        return py::make_tuple(currentStage, items);
      },
      py::arg("path"), "(current_stage, [layout item dict]) of a strategy file (protobuf or JSON).");

  m.def(
      "rank_slice",
      [](const std::vector<int64_t> &shape, const std::vector<int64_t> &devMatrix, const py::sequence &tensorMap,
         int64_t rank, int64_t optStep, int64_t optSize) {
        std::vector<int64_t> offset, sliceShape;
        std::string message =
            rankSlice(shape, layoutFromPython(devMatrix, tensorMap, optStep, optSize), rank, offset, sliceShape);
        if (!message.empty())
          raise(message);
        return py::make_tuple(offset, sliceShape);
      },
      py::arg("shape"), py::arg("dev_matrix"), py::arg("tensor_map"), py::arg("rank"),
      py::arg("opt_weight_shard_step") = 0, py::arg("opt_weight_shard_size") = 0,
      "(offset, shape) of the region of a full tensor that `rank` holds.");
}
