"""Checkpoints: reading and writing MindSpore's .ckpt, transforming checkpoint sets between
strategies, and merging sliced parameters."""

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


def load_checkpoint(ckpt_file_name, dec_key=None, dec_mode="AES-GCM"):
    """{name: numpy array} of a MindSpore checkpoint (bfloat16 is widened to float32; string
    entries are left out). An encrypted checkpoint needs dec_key (bytes) and dec_mode."""
    path = os.fspath(ckpt_file_name)
    key = bytes(dec_key) if dec_key is not None else b""
    return {name: array for name, array, _ in _dinfer.read_checkpoint(path, key, dec_mode) if array is not None}


def save_checkpoint(save_obj, ckpt_file_name):
    """Writes {name: array} (or [(name, array)], or [Parameter]) as MindSpore 1.7 writes a
    checkpoint, under a temporary name renamed into place when complete."""
    if isinstance(save_obj, dict):
        items = list(save_obj.items())
    else:
        items = [(p.name, p.asnumpy()) if isinstance(p, Parameter) else (p[0], p[1]) for p in save_obj]
    _dinfer.write_checkpoint(os.fspath(ckpt_file_name), [(name, np.asarray(array)) for name, array in items])


def _strategy_arg(strategy_file):
    return "none" if strategy_file is None else os.path.abspath(os.fspath(strategy_file))


def _last_checkpoint(folder):
    files = sorted(f for f in os.listdir(folder) if f.endswith(".ckpt")) if os.path.isdir(folder) else []
    if not files:
        raise DinferError(f"{folder}: no .ckpt file")
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
            os.replace(os.path.join(staging, f"rank_{rank_id}", f"checkpoint_{rank_id}.ckpt"), target)
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
