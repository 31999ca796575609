"""Strategy files: MindSpore's build_searched_strategy and merge_pipeline_strategys."""

import os
import dataclasses
from dataclasses import dataclass
from typing import List, Optional

from . import _dinfer
from . import _driver
from .errors import DinferUsageError


@dataclass
class Layout:
    """A parameter's training layout, as a strategy file's layout item stores it (tensor_map in
    MindSpore's numbering: device-matrix axes counted from the right, -1 for none, a tuple for a
    dimension split over several axes)."""

    dev_matrix: List[int]
    tensor_map: list
    param_split_shape: List[int] = dataclasses.field(default_factory=list)
    field: int = 0
    opt_weight_shard_step: int = 0
    opt_weight_shard_size: int = 0
    stages: List[int] = dataclasses.field(default_factory=list)
    tensor_shape: Optional[List[int]] = None


def build_searched_strategy(strategy_filename):
    """{parameter name (as stored, with any "<stage>-" prefix): Layout} of a strategy file
    (protobuf, or JSON)."""
    if not isinstance(strategy_filename, (str, os.PathLike)):
        raise TypeError(f"strategy_filename must be a str, not {type(strategy_filename).__name__}")
    path = os.fspath(strategy_filename)
    if not os.path.isfile(path):
        raise DinferUsageError(f"{path}: no such strategy file")
    _, items = _dinfer.read_strategy(path)
    if not items:
        raise DinferUsageError(f"{path}: the strategy file has no parameter layouts")
    return {item["name"]: Layout(dev_matrix=item["dev_matrix"], tensor_map=item["tensor_map"],
                                 param_split_shape=item["param_split_shape"], field=item["field"],
                                 opt_weight_shard_step=item["opt_weight_shard_step"],
                                 opt_weight_shard_size=item["opt_weight_shard_size"], stages=item["stages"],
                                 tensor_shape=item["tensor_shape"])
            for item in items}


def merge_pipeline_strategys(src_strategy_dirs, dst_strategy_file):
    """MindSpore's merge_pipeline_strategys: the per-stage strategy files of a pipeline-parallel
    run (every *.ckpt, or every *.json, in the folder) merged into one. What `dinfer merge-strategy` runs."""
    output = os.path.abspath(os.fspath(dst_strategy_file))
    stage_files, layouts, notes = _dinfer.merge_strategies(os.path.abspath(os.fspath(src_strategy_dirs)), output)
    for line in notes:
        _driver.note("merge-strategy", "note: " + line)
    _driver.note("merge-strategy", f"{stage_files} stage files, {layouts} layouts -> {output}")
