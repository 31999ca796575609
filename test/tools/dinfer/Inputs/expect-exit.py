"""Runs a command; checks its exit code and how many lines it wrote to stderr."""
import subprocess
import sys

expected_code, expected_lines, command = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
result = subprocess.run(command, capture_output=True, text=True)
lines = result.stderr.splitlines()
if result.returncode != expected_code or len(lines) != expected_lines:
    sys.exit(f"{command}: exit {result.returncode} (wanted {expected_code}), "
             f"{len(lines)} stderr lines (wanted {expected_lines}): {result.stderr!r}")
