"""MindSpore's auto-parallel context: the device counts and the training strategy file
that infer_predict_layout, load_distributed_checkpoint and export read."""

import copy

from .errors import DinferUsageError

_DEFAULTS = {
    "device_num": 1,
    "global_rank": 0,
    "pipeline_stages": 1,
    "full_batch": False,
    "parallel_mode": "stand_alone",
    "strategy_ckpt_load_file": "",
    "strategy_ckpt_save_file": "",
    "enable_parallel_optimizer": False,
    "gradients_mean": False,
    "search_mode": "",
}
_context = copy.deepcopy(_DEFAULTS)
_explicit = set()

_CHECKS = {
    "device_num": lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 4096,
    "global_rank": lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 4096,
    "pipeline_stages": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
    "full_batch": lambda v: isinstance(v, bool),
    "parallel_mode": lambda v: v in ("stand_alone", "data_parallel", "semi_auto_parallel", "auto_parallel"),
    "strategy_ckpt_load_file": lambda v: isinstance(v, str),
    "strategy_ckpt_save_file": lambda v: isinstance(v, str),
    "enable_parallel_optimizer": lambda v: isinstance(v, bool),
    "gradients_mean": lambda v: isinstance(v, bool),
    "search_mode": lambda v: isinstance(v, str),
}


def set_auto_parallel_context(**kwargs):
    """Sets the auto-parallel context, as mindspore.set_auto_parallel_context does.

    dinfer reads device_num (inference devices), pipeline_stages (inference stages),
    full_batch (must be True for a predict layout) and strategy_ckpt_load_file (the
    training strategy file); the other MindSpore keys are accepted and kept.
    """
    for key, value in kwargs.items():
        if key not in _CHECKS:
            raise DinferUsageError(f"set_auto_parallel_context: unknown key '{key}'; known: "
                                   + ", ".join(sorted(_CHECKS)))
        if not _CHECKS[key](value):
            raise DinferUsageError(f"set_auto_parallel_context: {key}={value!r} is not a valid value")
    for key, value in kwargs.items():
        _context[key] = value
        _explicit.add(key)


def get_auto_parallel_context(key):
    if key not in _context:
        raise DinferUsageError(f"get_auto_parallel_context: unknown key '{key}'")
    return _context[key]


def reset_auto_parallel_context():
    _context.clear()
    _context.update(copy.deepcopy(_DEFAULTS))
    _explicit.clear()


def _is_set(key):
    return key in _explicit
