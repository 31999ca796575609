//===- Module.cpp - the dinfer._dinfer extension module -------------------===//
//
// numpy arrays in and out of dinfer's libraries, and the driver's
// subcommands run in this process. Errors become dinfer.DinferError carrying
// the C++ message; the Python package (python/dinfer) builds MindSpore's API
// on top.
//
//===----------------------------------------------------------------------===//

#include "Support.h"

#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

namespace py = pybind11;
using namespace dinfer::python;

namespace {
py::object errorType() { return py::module_::import("dinfer.errors").attr("DinferError"); }

[[noreturn]] void raise(const std::string &message) {
  PyErr_SetString(errorType().ptr(), message.c_str());
  throw py::error_already_set();
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
  m.doc() = "dinfer's C++ libraries: the driver's subcommands, checkpoints, strategy files and the layout algebra";

  m.def(
      "run_driver",
      [](const std::vector<std::string> &args, py::object progress) {
        Progress sink;
        if (!progress.is_none())
          sink = [progress](const std::string &phase, uint64_t done, uint64_t total) {
            py::gil_scoped_acquire gil;
            try {
              progress(phase, done, total);
            } catch (py::error_already_set &error) {
              error.discard_as_unraisable("dinfer progress callback");
            }
          };
        DriverResult result;
        {
          py::gil_scoped_release release;
          result = runDriver(args, sink);
        }
        return py::make_tuple(result.exitCode, result.out, result.err);
      },
      py::arg("args"), py::arg("progress") = py::none(),
      "Runs `dinfer ARGS...` in this process; returns (exit code, stdout, stderr).");
  m.def("command_names", &commandNames, "The driver's subcommands.");

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
      [](const std::string &path, const std::vector<std::pair<std::string, py::array>> &tensors) {
        std::vector<py::array> keep;
        std::vector<TensorData> data;
        for (const auto &[name, array] : tensors) {
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
          data.push_back(std::move(item));
        }
        std::string message;
        {
          py::gil_scoped_release release;
          message = writeCheckpoint(path, data);
        }
        if (!message.empty())
          raise(message);
      },
      py::arg("path"), py::arg("tensors"), "Writes [(name, array)] as a MindSpore checkpoint.");

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
