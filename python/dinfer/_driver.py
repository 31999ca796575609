"""Notes on stderr, the library's reshard with its notes, and the `dinfer` command line.

The MindSpore-shaped calls run dinfer's pipeline library in this process (the C++ extension);
`run_command` and `python3 -m dinfer` run the `dinfer` executable itself, in a child process.
"""

import os
import shutil
import subprocess
import sys

from . import _dinfer
from . import _progress
from .errors import DinferError, DinferUsageError

# Notes and summaries the commands print on stderr (the CLI shows them too):
# shown unless `quiet` is set through set_verbose(False).
_verbose = True


def set_verbose(verbose):
    """Whether the notes and summary lines of dinfer's commands are echoed to sys.stderr."""
    global _verbose
    _verbose = bool(verbose)


def reshard(*, src_strategy, dst, dst_strategy, src="", src_list=(), prefix="checkpoint_", ranks=(), key=None,
            format=None, max_shard_size=0, name_map=None, progress=None):
    """The library's reshard (dinfer/Pipeline/Reshard.h), with the command's notes on stderr.
    `key` is (bytes, mode) for encrypted source checkpoints; `format` is "ckpt" or "safetensors"
    (None: the source's)."""
    sink = _progress.resolve(progress)
    _dinfer.set_key(key[0] if key else b"", key[1] if key else "AES-GCM")
    try:
        summary = _dinfer.reshard(src_strategy, dst, dst_strategy, src=src, src_list=list(src_list), prefix=prefix,
                                  ranks=list(ranks), format=format or "", max_shard_size=int(max_shard_size),
                                  name_map=dict(name_map or {}), progress=sink)
    finally:
        _dinfer.set_key(b"")
        if isinstance(sink, _progress.Bar):
            sink.close()
    for what, names in summary["notices"]:
        note("reshard", _names(what, names))
    seconds = summary["seconds"]
    rate = _progress.format_bytes(int(summary["bytes"] / max(seconds, 1e-6)))
    note("reshard", f"{summary['source_ranks']} source ranks -> {summary['files']} destination files, "
                    f"{_progress.format_bytes(summary['bytes'])} written in {seconds:.2f}s ({rate}/s)")
    for what, names in summary["plan_notices"]:
        note("reshard", _names(what, names))
    return summary


def _names(what, names):
    shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
    return f"{what} ({len(names)}): {shown}"


def note(command, line):
    """A summary line of a library call, on sys.stderr as the command would print it."""
    if _verbose:
        sys.stderr.write(f"dinfer {command}: {line}\n")


def _first_error(command, text):
    lines = [line for line in text.splitlines() if line.strip()]
    prefix_error = f"dinfer {command}: error: "
    prefix_usage = f"dinfer {command}: "
    for line in lines:
        if line.startswith(prefix_error):
            return line[len(prefix_error):]
    for line in reversed(lines):
        if line.startswith(prefix_usage):
            return line[len(prefix_usage):]
    return "\n".join(lines) if lines else f"dinfer {command} failed"


def executable():
    """The `dinfer` command line: $DINFER_EXECUTABLE, the one installed beside this package, the
    build tree's (build/bin/dinfer beside build/python/dinfer), or the one on PATH."""
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [os.environ.get("DINFER_EXECUTABLE"), os.path.join(here, "bin", "dinfer"),
                  os.path.join(here, os.pardir, os.pardir, "bin", "dinfer"), shutil.which("dinfer")]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return os.path.abspath(candidate)
    raise DinferError("the dinfer executable is not found: set DINFER_EXECUTABLE, or put dinfer on PATH")


def run(command, *args, progress=None):
    """Runs `dinfer COMMAND ARGS...` (the executable, in a child process); returns its stdout.
    Raises DinferError (or DinferUsageError) with the command's message when it fails. `progress`
    is accepted for the calls that take it: the command draws its own bar on a terminal."""
    del progress
    argv = [executable(), command] + [str(a) for a in args]
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode == 0:
        if _verbose and result.stderr:
            sys.stderr.write(result.stderr)
        return result.stdout
    message = _first_error(command, result.stderr)
    if result.returncode == 2:
        raise DinferUsageError(message, command)
    raise DinferError(message, command, result.returncode)


def main(argv=None):
    """`python3 -m dinfer ARGS...`: the dinfer command line, with this process's stdio."""
    return subprocess.call([executable()] + list(sys.argv[1:] if argv is None else argv))


def command_names():
    """The subcommands of the dinfer command line, as its --help lists them."""
    text = subprocess.run([executable(), "--help"], capture_output=True, text=True).stdout
    listing = text.split("SUBCOMMANDS:", 1)[-1].split("OPTIONS:", 1)[0]
    return sorted(line.split()[0] for line in listing.splitlines() if " - " in line)
