"""dinfer: distributed inference for models trained with tensor, data, optimizer and pipeline
parallelism, with MindSpore's API for the export step of a training pipeline.

    import dinfer
    dinfer.set_auto_parallel_context(device_num=4, full_batch=True, strategy_ckpt_load_file="train.ckpt")
    net = dinfer.Model("net.onnx")
    layout = dinfer.infer_predict_layout(net, x)            # {param: (dev_matrix, tensor_map, ...)}
    dinfer.load_distributed_checkpoint(net, ckpt_files, layout)
    dinfer.export(net, x, file_name="out")                   # out/rank_<i>/net.mindir
    y = dinfer.predict(net, x)
    tokens = dinfer.generate("decoder.onnx", prompt_ids, max_new_tokens=32)   # greedy, with a KV cache

Every call runs the C++ pipeline library the matching `dinfer` subcommand runs, in this process;
errors are DinferError (DinferUsageError, a ValueError, for bad arguments) with the library's
message.
"""

from .errors import DinferError, DinferUsageError
from .context import set_auto_parallel_context, get_auto_parallel_context, reset_auto_parallel_context
from .model import Model, infer_predict_layout, load_distributed_checkpoint, export, predict, generate
from .checkpoint import (Parameter, load_checkpoint, save_checkpoint, transform_checkpoints,
                         transform_checkpoint_by_rank, merge_sliced_parameter, ckpt_to_safetensors,
                         safetensors_to_ckpt, unified_safetensors)
from .strategy import Layout, build_searched_strategy, merge_pipeline_strategys
from ._driver import set_verbose, command_names, main
from ._driver import run as run_command


__version__ = "0.1.0"
__all__ = [
    "DinferError", "DinferUsageError", "set_auto_parallel_context", "get_auto_parallel_context",
    "reset_auto_parallel_context", "Model", "infer_predict_layout", "load_distributed_checkpoint", "export",
    "predict", "generate", "Parameter", "load_checkpoint", "save_checkpoint", "transform_checkpoints",
    "transform_checkpoint_by_rank", "merge_sliced_parameter", "ckpt_to_safetensors", "safetensors_to_ckpt",
    "unified_safetensors", "Layout", "build_searched_strategy",
    "merge_pipeline_strategys", "set_verbose", "command_names", "run_command", "main",
]
