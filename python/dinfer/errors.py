"""Exceptions raised by dinfer: each carries the C++ message, which names the file, tensor or op."""


class DinferError(RuntimeError):
    """A dinfer command or library call failed (bad input or failed work: exit code 1 of the CLI)."""

    def __init__(self, message, command=None, exit_code=1):
        super().__init__(message)
        self.command = command
        self.exit_code = exit_code


class DinferUsageError(DinferError, ValueError):
    """A call was given arguments dinfer cannot use (exit code 2 of the CLI)."""

    def __init__(self, message, command=None):
        super().__init__(message, command, exit_code=2)
