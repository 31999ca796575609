"""Checkpoints: reading and writing MindSpore's .ckpt and safetensors, converting between them,
transforming checkpoint sets between strategies, and merging sliced parameters."""

import os
import tempfile
from math import prod

import numpy as np

from . import _dinfer
from . import _driver
from .errors import DinferError, DinferUsageError


class Parameter:
    """A named tensor, as MindSpore's Parameter: `name`, `asnumpy()`, `shape`, `dtype`."""

    def __init__(self, data, name):
        self.data = np.asarray(data)
        self.name = name

    def asnumpy(self):
        return self.data

    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    def __repr__(self):
        return f"Parameter(name={self.name!r}, shape={self.data.shape}, dtype={self.data.dtype})"


FORMATS = ("ckpt", "safetensors")
_EXTENSIONS = {"ckpt": ".ckpt", "safetensors": ".safetensors"}


def _check_format(format):
    if format not in FORMATS:
        raise DinferUsageError(f"format must be 'ckpt' or 'safetensors', not {format!r}")
    return format


def load_checkpoint(ckpt_file_name, dec_key=None, dec_mode="AES-GCM", format=None):
    """{name: numpy array} of a MindSpore checkpoint, a safetensors file or a Hugging Face folder
    of safetensors shards with its index (bfloat16 is widened to float32; string entries are left
    out). The format is read from the file's content; `format` ("ckpt" or "safetensors"), when
    given, must be what the file holds. An encrypted checkpoint needs dec_key (bytes) and dec_mode."""
    path = os.fspath(ckpt_file_name)
    if format is not None:
        _check_format(format)
        import json
        if json.loads(_dinfer.describe_file(path)).get("format", format) != format:
            raise DinferError(f"{path}: not a {format} checkpoint")
    key = bytes(dec_key) if dec_key is not None else b""
    return {name: array for name, array, _ in _dinfer.read_checkpoint(path, key, dec_mode) if array is not None}


def save_checkpoint(save_obj, ckpt_file_name, format="ckpt"):
    """Writes {name: array} (or [(name, array)], or [Parameter]) as MindSpore 1.7 writes a
    checkpoint, or as safetensors with format="safetensors" (with dinfer's SHA-256 of the data in
    its metadata), under a temporary name renamed into place when complete."""
    _check_format(format)
    if isinstance(save_obj, dict):
        items = list(save_obj.items())
    else:
        items = [(p.name, p.asnumpy()) if isinstance(p, Parameter) else (p[0], p[1]) for p in save_obj]
    _dinfer.write_checkpoint(os.fspath(ckpt_file_name), [(name, np.asarray(array)) for name, array in items],
                             format)


def _convert_files(file_path, save_path, name_map, file_name_regex, source, target):
    """Every `source`-format file of file_path (a file, or a folder walked recursively) written
    as `target`, beside it or under save_path with the same relative path."""
    import re
    root = os.path.abspath(os.fspath(file_path))
    if not os.path.exists(root):
        raise DinferUsageError(f"{root}: no such file or folder")
    if os.path.isfile(root):
        files = [root]
        base = os.path.dirname(root)
    else:
        base = root
        files = sorted(os.path.join(folder, name) for folder, _, names in os.walk(root) for name in names
                       if name.endswith(_EXTENSIONS[source]))
    if file_name_regex is not None:
        pattern = re.compile(file_name_regex)
        files = [f for f in files if pattern.search(os.path.basename(f))]
    if not files:
        raise DinferError(f"{root}: no {_EXTENSIONS[source]} file to convert")
    written = []
    for file in files:
        relative = os.path.relpath(file, base)
        stem = relative[:-len(_EXTENSIONS[source])] if relative.endswith(_EXTENSIONS[source]) else relative
        out = os.path.join(os.path.abspath(os.fspath(save_path)) if save_path is not None else base,
                           stem + _EXTENSIONS[target])
        os.makedirs(os.path.dirname(out), exist_ok=True)
        _driver.reshard(src=file, src_strategy="none", dst=out, dst_strategy="none", format=target,
                        name_map=name_map)
        written.append(out)
    return written


def ckpt_to_safetensors(file_path, save_path=None, name_map=None, file_name_regex=None, processes_num=1):
    """MindSpore's ckpt_to_safetensors: every .ckpt of file_path (a file or a folder, walked
    recursively) written as .safetensors beside it, or under save_path with the same relative
    path. name_map renames tensors ({ckpt name: safetensors name}). Returns the files written.
    processes_num is accepted for MindSpore's signature; the conversion streams each file."""
    return _convert_files(file_path, save_path, name_map, file_name_regex, "ckpt", "safetensors")


def safetensors_to_ckpt(file_path, save_path=None, name_map=None, file_name_regex=None, processes_num=1):
    """MindSpore's safetensors_to_ckpt: every .safetensors of file_path written as .ckpt (as
    ckpt_to_safetensors, the other way)."""
    return _convert_files(file_path, save_path, name_map, file_name_regex, "safetensors", "ckpt")


def unified_safetensors(src_dir, src_strategy_file, dst_dir, merge_with_redundancy=True, file_suffix=None,
                        max_process_num=64, choice_func=None, split_dst_file=(), *, max_shard_size="5G",
                        progress=None):
    """MindSpore's unified_safetensors: the distributed checkpoints of src_dir (rank_<i>/, .ckpt or
    .safetensors) under src_strategy_file merged into full weights, written to dst_dir as a
    Hugging Face folder (model-0000k-of-0000n.safetensors, at most max_shard_size each, and
    model.safetensors.index.json). choice_func(name) -> bool keeps only some parameters; redundant
    copies are always merged (merge_with_redundancy=False is not supported)."""
    if not merge_with_redundancy:
        raise DinferUsageError("unified_safetensors: merge_with_redundancy=False is not supported")
    if split_dst_file:
        raise DinferUsageError("unified_safetensors: split_dst_file is not supported; use max_shard_size")
    size = _shard_size(max_shard_size)
    src = os.path.abspath(os.fspath(src_dir))
    dst = os.path.abspath(os.fspath(dst_dir))
    strategy = _strategy_arg(src_strategy_file)
    if choice_func is None:
        return _driver.reshard(src=src, src_strategy=strategy, dst=dst, dst_strategy="none", format="safetensors",
                               max_shard_size=size, progress=progress)
    # Only some parameters: the merged set first, then the chosen tensors resharded into shards.
    import tempfile
    import shutil
    staging = tempfile.mkdtemp(prefix=".dinfer-unified-", dir=os.path.dirname(dst) or ".")
    try:
        merged = os.path.join(staging, "merged.safetensors")
        _driver.reshard(src=src, src_strategy=strategy, dst=merged, dst_strategy="none", format="safetensors",
                        progress=progress)
        kept = {name: array for name, array in load_checkpoint(merged).items() if choice_func(name)}
        chosen = os.path.join(staging, "chosen.safetensors")
        save_checkpoint(kept, chosen, format="safetensors")
        return _driver.reshard(src=chosen, src_strategy="none", dst=dst, dst_strategy="none", format="safetensors",
                               max_shard_size=size)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _shard_size(value):
    if isinstance(value, int):
        size = value
    else:
        text = str(value).strip().upper()
        scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
        digits = text[:-1] if text[-1:] in "KMG" else text
        if not digits.isdigit():
            raise DinferUsageError(f"max_shard_size must be a size such as 512M or 5G, not {value!r}")
        size = int(digits) * scale
    if size <= 0:
        raise DinferUsageError("max_shard_size must be positive")
    return size


def _strategy_arg(strategy_file):
    return "none" if strategy_file is None else os.path.abspath(os.fspath(strategy_file))


def _last_checkpoint(folder):
    files = sorted(f for f in os.listdir(folder) if f.endswith((".ckpt", ".safetensors"))) \
        if os.path.isdir(folder) else []
    if not files:
        raise DinferError(f"{folder}: no .ckpt or .safetensors file")
    return os.path.join(folder, files[-1])


def transform_checkpoints(src_checkpoints_dir, dst_checkpoints_dir, ckpt_prefix, src_strategy_file=None,
                          dst_strategy_file=None, *, progress=None):
    """MindSpore's transform_checkpoints: SRC/rank_<i>/*.ckpt under the source strategy becomes
    DST/rank_<i>/<ckpt_prefix><i>.ckpt under the destination strategy. A strategy of None is a
    single device (the full checkpoint in rank_0). What `dinfer reshard` runs."""
    src = os.path.abspath(os.fspath(src_checkpoints_dir))
    dst = os.path.abspath(os.fspath(dst_checkpoints_dir))
    if src_strategy_file is None:
        src = _last_checkpoint(os.path.join(src, "rank_0"))
    if dst_strategy_file is None:
        dst = os.path.join(dst, "rank_0", f"{ckpt_prefix}0.ckpt")
        os.makedirs(os.path.dirname(dst), exist_ok=True)
    _driver.reshard(src=src, src_strategy=_strategy_arg(src_strategy_file), dst=dst,
                    dst_strategy=_strategy_arg(dst_strategy_file), prefix=ckpt_prefix, progress=progress)


def transform_checkpoint_by_rank(rank_id, checkpoint_files_map, save_checkpoint_file_name, src_strategy_file=None,
                                 dst_strategy_file=None, *, progress=None):
    """MindSpore's transform_checkpoint_by_rank: destination rank `rank_id`'s checkpoint, from
    {source rank: checkpoint file}. What `dinfer reshard --src-list ... --rank R` runs."""
    if not isinstance(rank_id, int) or rank_id < 0:
        raise DinferUsageError(f"rank_id must be a non-negative int, not {rank_id!r}")
    if not isinstance(checkpoint_files_map, dict) or not checkpoint_files_map:
        raise DinferUsageError("checkpoint_files_map must be a non-empty {rank: file} dict")
    ranks = sorted(checkpoint_files_map)
    if ranks != list(range(len(ranks))):
        missing = sorted(set(range(max(ranks) + 1)) - set(ranks))
        raise DinferUsageError(f"checkpoint_files_map lacks source rank(s) {missing}")
    files = [os.path.abspath(os.fspath(checkpoint_files_map[r])) for r in ranks]
    target = os.path.abspath(os.fspath(save_checkpoint_file_name))
    folder = os.path.dirname(target)
    os.makedirs(folder, exist_ok=True)
    if dst_strategy_file is None:
        destination = dict(dst=target, dst_strategy="none")
        staging = None
    else:
        staging = tempfile.mkdtemp(prefix=".dinfer-transform-", dir=folder)
        destination = dict(dst=staging, dst_strategy=_strategy_arg(dst_strategy_file), ranks=[rank_id])
    source = dict(src=files[0]) if src_strategy_file is None else dict(src_list=files)
    try:
        _driver.reshard(src_strategy=_strategy_arg(src_strategy_file), progress=progress, **source, **destination)
        if staging is not None:
            # Written in the sources' format: .ckpt, or .safetensors for safetensors sources.
            written = os.path.join(staging, f"rank_{rank_id}")
            os.replace(os.path.join(written, os.listdir(written)[0]), target)
    finally:
        if staging is not None:
            import shutil
            shutil.rmtree(staging, ignore_errors=True)


def _as_parameters(sliced_parameters):
    if not isinstance(sliced_parameters, (list, tuple)):
        raise DinferUsageError("sliced_parameters must be a list of Parameters")
    if not sliced_parameters:
        raise DinferUsageError("sliced_parameters is empty")
    params = []
    for p in sliced_parameters:
        if isinstance(p, Parameter):
            params.append(p)
        elif isinstance(p, tuple) and len(p) == 2:
            params.append(Parameter(p[1], p[0]))
        else:
            raise DinferUsageError("each sliced parameter must be a dinfer.Parameter or a (name, array) pair, "
                                   f"not {type(p).__name__}")
    names = {p.name for p in params}
    if len(names) != 1:
        raise DinferUsageError(f"the sliced parameters have different names: {sorted(names)}")
    first = params[0]
    for p in params:
        if p.data.ndim != first.data.ndim or p.data.shape[1:] != first.data.shape[1:]:
            raise DinferUsageError(f"parameter '{first.name}': slices of shapes {first.data.shape} and "
                                   f"{p.data.shape} cannot be merged")
    return params


def merge_sliced_parameter(sliced_parameters, strategy=None):
    """MindSpore's merge_sliced_parameter: the full Parameter from every rank's slice (in rank
    order). Without a strategy the slices are concatenated along axis 0; with the dict
    build_searched_strategy returned, each rank's slice goes where the layout algebra places it."""
    params = _as_parameters(sliced_parameters)
    name = params[0].name
    if strategy is None:
        return Parameter(np.concatenate([p.data for p in params], axis=0), name)
    if not isinstance(strategy, dict):
        raise DinferUsageError("strategy must be the dict build_searched_strategy returns")
    if name not in strategy:
        raise KeyError(f"parameter '{name}' is not in the strategy")
    layout = strategy[name]
    if layout.field:
        raise DinferUsageError(f"parameter '{name}': field {layout.field} (embedding-bag) is not supported")
    if layout.param_split_shape:
        raise DinferUsageError(f"parameter '{name}': uneven manual splits (param_split_shape) are merged by "
                               "`dinfer reshard`, not here")
    devices = prod(layout.dev_matrix)
    if len(params) != devices:
        raise DinferUsageError(f"parameter '{name}': {len(params)} slices for a layout over {devices} devices")
    splits = []
    for axes in layout.tensor_map:
        axes = [axes] if isinstance(axes, int) else list(axes)
        splits.append(prod(layout.dev_matrix[len(layout.dev_matrix) - 1 - a] for a in axes if a != -1))
    full_shape = [d * s for d, s in zip(params[0].shape, splits)]
    merged = np.empty(full_shape, dtype=params[0].dtype)
    for rank, p in enumerate(params):
        offset, shape = _dinfer.rank_slice(full_shape, layout.dev_matrix, layout.tensor_map, rank)
        if tuple(shape) != p.shape:
            raise DinferError(f"parameter '{name}': rank {rank}'s slice has shape {list(p.shape)}, but its layout "
                              f"gives {shape}")
        merged[tuple(slice(o, o + n) for o, n in zip(offset, shape))] = p.data
    return Parameter(merged, name)
