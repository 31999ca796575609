"""The driver's subcommands, run in this process through the C++ extension.

Every MindSpore-shaped call that writes files is one `dinfer` subcommand with the
arguments the CLI would take, so the Python API and the command line produce the
same files, byte for byte.
"""

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


def run(command, *args, progress=None):
    """Runs `dinfer COMMAND ARGS...`; returns its stdout. Raises DinferError (or
    DinferUsageError) with the command's message when it fails."""
    argv = [command] + [str(a) for a in args]
    sink = _progress.resolve(progress)
    code, out, err = _dinfer.run_driver(argv, sink)
    if isinstance(sink, _progress.Bar):
        sink.close()
    if code == 0:
        if _verbose and err:
            sys.stderr.write(err)
        return out
    message = _first_error(command, err)
    if code == 2:
        raise DinferUsageError(message, command)
    raise DinferError(message, command, code)


def command_names():
    return list(_dinfer.command_names())
