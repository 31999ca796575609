"""Runs a command that must fail: checks that it stopped within SECONDS with a
non-zero exit, and prints what it wrote (stdout and stderr) for FileCheck."""
import subprocess
import sys
import time

seconds, command = float(sys.argv[1]), sys.argv[2:]
start = time.monotonic()
try:
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=seconds)
except subprocess.TimeoutExpired as expired:
    sys.exit(f"{command}: still running after {seconds} s: {expired.output!r}")
print(result.stdout)
if result.returncode == 0:
    sys.exit(f"{command}: exit 0, wanted a failure")
print(f"stopped with exit {result.returncode} after {time.monotonic() - start:.1f} s")
