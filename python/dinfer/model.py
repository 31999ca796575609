"""The model, and MindSpore's calls on it: infer_predict_layout, load_distributed_checkpoint,
export and predict.

A Model wraps a network file (ONNX or MindIR). export and predict call the pipeline library
the commands call (dinfer/Pipeline/Export.h, Run.h) with arrays in memory; the other calls run
the dinfer subcommand the command line would run with the same arguments (see docs/python.md
for the mapping). Either way the files written are the CLI's, byte for byte.
"""

import json
import os
import tempfile

import numpy as np

from . import _dinfer
from . import _driver
from . import _progress
from . import context as _context
from .errors import DinferError, DinferUsageError


def _path(value, what):
    try:
        return os.fspath(value)
    except TypeError:
        raise DinferUsageError(f"{what} must be a path, not {type(value).__name__}") from None


class Model:
    """A network to lay out, load, export and run: `Model("net.onnx")` or `Model("net.mindir")`.

    Attributes: `inputs` and `outputs` ([(name, shape, dtype)]), `predict_layout` (after
    infer_predict_layout), `export_dir` (after export).
    """

    def __init__(self, network):
        if isinstance(network, Model):
            network = network.path
        self.path = os.path.abspath(_path(network, "the network"))
        if not os.path.isfile(self.path):
            raise DinferError(f"{self.path}: no such file")
        info = json.loads(_dinfer.describe_file(self.path))
        if info.get("kind") not in ("onnx", "mindir"):
            raise DinferUsageError(f"{self.path}: not a network (ONNX or MindIR) but a {info.get('kind')} file")
        self.inputs = [(i["name"], tuple(i["shape"]), i["dtype"]) for i in info["inputs"]]
        self.outputs = [(o["name"], tuple(o["shape"]), o["dtype"]) for o in info["outputs"]]
        self._work = tempfile.TemporaryDirectory(prefix="dinfer-model-")
        self.predict_layout = None
        self._predict_strategy_file = None
        self._predict_inputs = None
        self._train_strategy = None
        self._checkpoint_files = None
        self._loaded = None
        self._dec_key = None
        self._export_key = None
        self.export_dir = None

    def __repr__(self):
        return f"dinfer.Model({self.path!r})"

    # MindSpore's Model methods.
    def infer_predict_layout(self, *predict_data, tuple_size=6):
        return infer_predict_layout(self, *predict_data, tuple_size=tuple_size)

    def predict(self, *predict_data, **kwargs):
        return predict(self, *predict_data, **kwargs)

    def parameters(self, rank=0):
        """{name: numpy array} of `rank`'s parameters loaded by load_distributed_checkpoint."""
        if self._loaded is None:
            raise DinferUsageError("no checkpoint loaded: call load_distributed_checkpoint first")
        from .checkpoint import load_checkpoint
        kind, where = self._loaded
        if kind == "full":
            return load_checkpoint(where)
        for extension in (".ckpt", ".safetensors"):
            rank_file = os.path.join(where, f"rank_{rank}", f"checkpoint_{rank}{extension}")
            if os.path.isfile(rank_file):
                return load_checkpoint(rank_file)
        raise DinferUsageError(f"rank {rank} was not loaded (folder {where})")

    # Internals shared by the calls.
    def _scratch(self, name):
        path = os.path.join(self._work.name, name)
        os.makedirs(os.path.dirname(path) or self._work.name, exist_ok=True)
        return path


_NUMPY_DTYPES = {"Float32": "float32", "Float16": "float16", "Float64": "float64", "Int32": "int32",
                 "Int64": "int64", "Int8": "int8", "UInt8": "uint8", "Int16": "int16", "Bool": "bool",
                 "BFloat16": "bfloat16"}


def _input_specs(model, predict_data):
    """--input NAME=SHAPE:DTYPE for each predict input, in the network's input order."""
    if len(predict_data) != len(model.inputs):
        names = ", ".join(name for name, _, _ in model.inputs)
        raise DinferUsageError(f"{os.path.basename(model.path)} takes {len(model.inputs)} input(s) ({names}), "
                               f"but {len(predict_data)} were given")
    specs = []
    for (name, _, dtype), data in zip(model.inputs, predict_data):
        if isinstance(data, (tuple, list)) and all(isinstance(d, (int, np.integer)) for d in data):
            shape, type_name = tuple(int(d) for d in data), _NUMPY_DTYPES.get(dtype, dtype)
        elif hasattr(data, "shape") and hasattr(data, "dtype"):
            shape, type_name = tuple(int(d) for d in data.shape), str(np.dtype(data.dtype))
        else:
            raise DinferUsageError(f"input '{name}': give a numpy array (or its shape), not {type(data).__name__}")
        specs.append(f"{name}={','.join(str(d) for d in shape)}:{type_name}")
    return specs


def _device_counts():
    """The context's inference device_num and pipeline_stages; 0 where not set (training's)."""
    devices = _context.get_auto_parallel_context("device_num") if _context._is_set("device_num") else 0
    stages = _context.get_auto_parallel_context("pipeline_stages") if _context._is_set("pipeline_stages") else 0
    return devices, stages


def _training_strategy(explicit=None, call="this call"):
    strategy = explicit or _context.get_auto_parallel_context("strategy_ckpt_load_file")
    if not strategy:
        raise DinferUsageError(f"{call} needs the training strategy file: "
                               "set_auto_parallel_context(strategy_ckpt_load_file=FILE)")
    return os.path.abspath(_path(strategy, "the training strategy"))


def _layout_tuple(entry, tuple_size):
    base = (list(entry["dev_matrix"]), list(entry["tensor_map"]), list(entry["slice_shape"]),
            int(entry["field_size"]), bool(entry["uniform_split"]), str(entry["opt_shard_group"]))
    if tuple_size == 6:
        return base
    # MindSpore 2.3+: before_full_shape, after_slice_shape, is_pipeline_shared, is_send, peer_rank, sr_tag.
    return base + (list(entry["full_shape"]), list(entry["slice_shape"]), bool(entry["is_pipeline_shared"]),
                   False, 0, 0)


def infer_predict_layout(model, *predict_data, tuple_size=6):
    """MindSpore's Model.infer_predict_layout: {parameter: layout tuple} for the inference devices.

    predict_data are the full-batch inputs (numpy arrays, or their shapes). The context gives the
    training strategy (strategy_ckpt_load_file), and the inference device_num and pipeline_stages
    (training's when not set). The tuple is MindSpore 1.7's 6-tuple (dev_matrix, tensor_map,
    slice_shape, field_size, uniform_split, opt_shard_group), or 2.3's 12-tuple with tuple_size=12.
    What `dinfer layout ... --json -o FILE` runs; FILE (the predict strategy) is kept for the later calls.
    """
    if not isinstance(model, Model):
        model = Model(model)
    if tuple_size not in (6, 12):
        raise DinferUsageError(f"tuple_size must be 6 or 12, not {tuple_size!r}")
    if not _context.get_auto_parallel_context("full_batch"):
        raise DinferUsageError("infer_predict_layout needs full-batch inputs: "
                               "set_auto_parallel_context(full_batch=True)")
    strategy = _training_strategy(call="infer_predict_layout")
    specs = _input_specs(model, predict_data)
    output = model._scratch("predict_strategy.ckpt")
    devices, stages = _device_counts()
    result = json.loads(_dinfer.predict_layout(model.path, strategy, list(specs), device_num=devices,
                                               pipeline_stages=stages, output=output))
    model._predict_strategy_file = output
    model._predict_inputs = specs
    model._train_strategy = strategy
    model.device_num = result["device_num"]
    model.pipeline_stages = result["pipeline_stages"]
    model.predict_layout = {name: _layout_tuple(entry, 12) for name, entry in result["layouts"].items()}
    return {name: layout[:tuple_size] for name, layout in model.predict_layout.items()}


def _predict_strategy_file(model, predict_strategy):
    if predict_strategy is None:
        return None
    if isinstance(predict_strategy, dict):
        if model.predict_layout is None:
            raise DinferUsageError("predict_strategy is a layout dict, but infer_predict_layout was not called on "
                                   "this model: call it first, or pass the predict strategy file")
        ours = {name: layout[:len(next(iter(predict_strategy.values()), ()))]
                for name, layout in model.predict_layout.items()}
        if predict_strategy != ours:
            differing = sorted(n for n in set(predict_strategy) | set(ours)
                               if predict_strategy.get(n) != ours.get(n))
            raise DinferUsageError("predict_strategy differs from this model's predict layout for: "
                                   + ", ".join(differing[:5]) + ("..." if len(differing) > 5 else ""))
        return model._predict_strategy_file
    return os.path.abspath(_path(predict_strategy, "predict_strategy"))


def load_distributed_checkpoint(network, checkpoint_filenames, predict_strategy=None,
                                train_strategy_filename=None, strict_load=False, dec_key=None,
                                dec_mode="AES-GCM", format="ckpt", *, rank=None, progress=None):
    """MindSpore's load_distributed_checkpoint: the training checkpoints (one per training rank,
    in rank order) merged and re-split to the predict layout.

    predict_strategy: the dict infer_predict_layout returned (or a predict strategy file); None
    merges every parameter to its full tensor. Every inference rank's slices are written (only
    `rank`'s with rank=R) by `dinfer reshard --src-list ... --dst-strategy ...`; read them with
    network.parameters(rank). Resharding streams: no full tensor is built unless it is the output.
    Encrypted checkpoints (MindSpore's AES-GCM, AES-CBC or SM4-CBC) need dec_key and dec_mode;
    the slices written are not encrypted. The training checkpoints may be .ckpt or safetensors
    (each file's content says); format ("ckpt" or "safetensors") is that of the slices written.
    """
    if format not in ("ckpt", "safetensors"):
        raise DinferUsageError(f"format must be 'ckpt' or 'safetensors', not {format!r}")
    if not isinstance(network, Model):
        network = Model(network)
    if isinstance(checkpoint_filenames, (str, os.PathLike)) or not checkpoint_filenames:
        raise DinferUsageError("checkpoint_filenames must be a non-empty list of files, one per training rank")
    files = [os.path.abspath(_path(f, "a checkpoint file")) for f in checkpoint_filenames]
    for f in files:
        if "," in f:
            raise DinferUsageError(f"{f}: checkpoint paths cannot contain ','")
    strategy = _training_strategy(train_strategy_filename, "load_distributed_checkpoint")
    predict = _predict_strategy_file(network, predict_strategy)
    key = (_key_bytes(dec_key), dec_mode) if dec_key is not None else None
    ranks = () if rank is None else ([rank] if isinstance(rank, int) else list(rank))
    if predict is None:
        destination = network._scratch("loaded/full." + format)
        _driver.reshard(src_list=files, src_strategy=strategy, dst=destination, dst_strategy="none", key=key,
                        format=format, progress=progress)
    else:
        destination = network._scratch("loaded/ranks")
        _driver.reshard(src_list=files, src_strategy=strategy, dst=destination, dst_strategy=predict, ranks=ranks,
                        key=key, format=format, progress=progress)
    network._train_strategy = strategy
    network._checkpoint_files = files
    network._dec_key = key
    network._loaded = ("full", destination) if predict is None else ("ranks", destination)


def _key_bytes(key):
    """dinfer takes keys as bytes (never from a command line)."""
    if not isinstance(key, (bytes, bytearray)):
        raise DinferUsageError("a key (dec_key, enc_key) must be bytes")
    return bytes(key)


def _checkpoint_set(network):
    """A folder of rank_<i>/ links to the loaded training checkpoints (what `--ckpt-dir` reads)."""
    folder = network._scratch("training_ckpt")
    for rank, file in enumerate(network._checkpoint_files):
        rank_dir = os.path.join(folder, f"rank_{rank}")
        os.makedirs(rank_dir, exist_ok=True)
        link = os.path.join(rank_dir, os.path.basename(file))
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(file, link)
    return folder


def export(net, *inputs, file_name, file_format="MINDIR", ckpt_dir=None, enc_key=None, enc_mode="AES-GCM",
           progress=None, report=False, max_length=None):
    """MindSpore's export, for every inference rank: `file_name` becomes a folder with
    rank_<i>/net.mindir (each with that rank's weight slices and its group_config.pb) and a
    manifest.json with every file's sha256.

    The training checkpoints are those given to load_distributed_checkpoint (or the checkpoint
    set `ckpt_dir`, rank_<i>/*.ckpt). With enc_key (bytes) every MindIR is encrypted in MindSpore's
    format (enc_mode AES-GCM, AES-CBC or SM4-CBC); dinfer reads and writes with one key, so encrypted
    training checkpoints must use the same key. With report=True the partition is also drawn
    as file_name/report.html (file_name/report.json is always written). What `dinfer export` runs.

    With max_length, net is a decoder in the Hugging Face/Optimum cache convention exported for
    generation (docs/generate.md): the only input is the prompt (input_ids, an int64 [B, T] array or
    its shape), each rank gets a prefill and a decode program whose cache holds max_length - 1
    tokens, and generate(file_name, ...) generates from the folder.
    """
    if file_format != "MINDIR":
        raise DinferUsageError(f"file_format must be 'MINDIR', not {file_format!r}")
    if not isinstance(net, Model):
        net = Model(net)
    if ckpt_dir is not None:
        checkpoints = os.path.abspath(_path(ckpt_dir, "ckpt_dir"))
    elif net._checkpoint_files:
        checkpoints = _checkpoint_set(net)
    else:
        raise DinferUsageError("export needs the training checkpoints: call load_distributed_checkpoint(net, files) "
                               "first, or pass ckpt_dir=")
    strategy = net._train_strategy or _training_strategy(call="export")
    if max_length is not None:
        if len(inputs) != 1:
            raise DinferUsageError("export(max_length=...) takes the prompt alone: input_ids, int64 [batch, tokens]")
        prompt = inputs[0]
        shape = prompt.shape if hasattr(prompt, "shape") else tuple(prompt)
        inputs = ()
        specs = ["input_ids=" + ",".join(str(int(d)) for d in shape) + ":int64"]
    else:
        specs = _input_specs(net, inputs) if inputs else net._predict_inputs
    if not specs:
        raise DinferUsageError("export needs the predict inputs (numpy arrays or shapes)")
    key = (_key_bytes(enc_key), enc_mode) if enc_key is not None else net._dec_key
    if enc_key is not None and net._dec_key is not None and net._dec_key != key:
        raise DinferUsageError("export: enc_key differs from the checkpoints' dec_key; dinfer uses one key for both")
    # No predict strategy: the layouts come from the same inputs, strategy and counts as
    # infer_predict_layout's, and the manifest would record a temporary file's name.
    output = os.path.abspath(_path(file_name, "file_name"))
    devices, stages = _device_counts()
    sink = _progress.resolve(progress)
    _dinfer.set_key(key[0] if key else b"", key[1] if key else "AES-GCM")
    try:
        summary = _dinfer.export_model(net.path, strategy, checkpoints, list(specs), output, device_num=devices,
                                       pipeline_stages=stages, encrypt=enc_key is not None, progress=sink,
                                       report=report, max_length=int(max_length or 0))
    finally:
        _dinfer.set_key(b"")
        if isinstance(sink, _progress.Bar):
            sink.close()
    _driver.note("export", _export_summary(summary))
    net.export_dir = output
    net._export_key = (bytes(enc_key), enc_mode) if enc_key is not None else None
    return output


def predict(model, *predict_data, dec_key=None, dec_mode="AES-GCM", dtype="float32"):
    """Runs the model on numpy inputs and returns its output (a tuple when it has several).

    dtype="bfloat16" computes the matrix products and convolutions whose weights are constant in
    bfloat16 (weights converted once, accumulation and outputs in float32), as `dinfer run --dtype`.

    An exported model runs all its ranks (`dinfer run EXPORT_DIR`); otherwise the network runs
    on one device, or partitioned over device_num in-process ranks when the context gives a
    training strategy and device_num > 1. An encrypted export needs dec_key (the model's own
    export remembers its enc_key).
    """
    devices, stages, strategy = 0, 0, ""
    if isinstance(model, (str, os.PathLike)) and os.path.isdir(model):
        target = os.fspath(model)
        with open(os.path.join(target, "manifest.json")) as f:
            manifest = json.load(f)
        input_names = [i["name"] for i in manifest.get("inputs", [])]
    else:
        if not isinstance(model, Model):
            model = Model(model)
        input_names = [name for name, _, _ in model.inputs]
        if model.export_dir:
            target = model.export_dir
            if dec_key is None and model._export_key is not None:
                dec_key, dec_mode = model._export_key
        else:
            target = model.path
            device_num = _context.get_auto_parallel_context("device_num")
            train_strategy = _context.get_auto_parallel_context("strategy_ckpt_load_file")
            if device_num > 1 and train_strategy:
                devices, strategy = device_num, os.path.abspath(train_strategy)
                if _context._is_set("pipeline_stages"):
                    stages = _context.get_auto_parallel_context("pipeline_stages")
    if dtype not in ("float32", "bfloat16"):
        raise DinferUsageError(f"dtype {dtype!r}: expected 'float32' or 'bfloat16'")
    if len(predict_data) != len(input_names):
        raise DinferUsageError(f"the model takes {len(input_names)} input(s) ({', '.join(input_names)}), "
                               f"but {len(predict_data)} were given")
    inputs = [(name, np.ascontiguousarray(np.asarray(data))) for name, data in zip(input_names, predict_data)]
    _dinfer.set_key(_key_bytes(dec_key) if dec_key is not None else b"", dec_mode)
    try:
        outputs, summary = _dinfer.predict(target, inputs, device_num=devices, pipeline_stages=stages,
                                           train_strategy=strategy, dtype=dtype)
    finally:
        _dinfer.set_key(b"")
    if summary:
        _driver.note("run", summary)
    results = [array for _, array in outputs]
    return results[0] if len(results) == 1 else tuple(results)


def generate(net, input_ids, max_new_tokens, threads=0, eos_token_id=None):
    """Greedy decoding with a key/value cache (`dinfer generate`): returns int64 [B, T + max_new_tokens],
    the prompts followed by the new tokens.

    net is a Model or the path of an ONNX decoder in the Hugging Face/Optimum cache convention
    (input_ids, attention_mask, position_ids, past_key_values.<i>.key|value -> logits,
    present.<i>.key|value); input_ids are int64 [B, T] prompts of equal length. When the context
    gives device_num > 1 and a training strategy (strategy_ckpt_load_file), the decoder runs on
    that many tensor-parallel ranks (threads of this process), each keeping its own cache.
    net may also be an export folder made by export(..., max_length=L): its ranks run on threads,
    and a prompt shorter than the exported one is padded on the left.
    With eos_token_id, a sequence that emits it ends (its later tokens are eos_token_id) and generation
    stops once every sequence has ended: the result is then [B, T + n], n <= max_new_tokens.
    """
    path = net.path if isinstance(net, Model) else os.fspath(net)
    prompt = np.asarray(input_ids)
    if prompt.dtype != np.int64 or prompt.ndim != 2:
        raise DinferUsageError(f"input_ids must be int64 [batch, tokens], not {prompt.dtype} of {list(prompt.shape)}")
    if int(max_new_tokens) < 1:
        raise DinferUsageError(f"max_new_tokens must be at least 1, not {max_new_tokens}")
    if eos_token_id is not None and int(eos_token_id) < 0:
        raise DinferUsageError(f"eos_token_id must be a token id (>= 0), not {eos_token_id}")
    devices, strategy = 0, ""
    device_num = _context.get_auto_parallel_context("device_num")
    train_strategy = _context.get_auto_parallel_context("strategy_ckpt_load_file")
    if device_num > 1 and train_strategy and not os.path.isdir(path):
        devices, strategy = device_num, os.path.abspath(train_strategy)
    tokens, timings = _dinfer.generate(path, np.ascontiguousarray(prompt), int(max_new_tokens), threads=threads,
                                       device_num=devices, train_strategy=strategy,
                                       eos_token_id=-1 if eos_token_id is None else int(eos_token_id))
    _driver.note("generate", f"prefill {timings['prefill_ms']:.2f} ms, "
                 f"{timings['decode_ms_per_token']:.2f} ms per token, {timings['tokens_per_s']:.1f} tokens/s")
    return tokens


def _export_summary(summary):
    stages = f" in {summary['stages']} pipeline stages" if summary["stages"] > 1 else ""
    return (f"{summary['devices']} ranks{stages} -> {summary['output']} "
            f"({_progress.format_bytes(summary['weight_bytes'])} of weight slices, {summary['groups']} groups, "
            f"{summary['seconds']:.2f} s)")
