# -*- Python -*-
import os
import shutil

import lit.formats
from lit.llvm import llvm_config

config.name = "dinfer"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "Inputs", "unittests", "run_node_tests.py", "compare_npy.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.dinfer_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))
llvm_config.with_system_environment(["HOME", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

# FileCheck, not, count and split-file come from LLVM 22 explicitly: several
# LLVM versions are installed side by side.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.dinfer_tools_dir, append_path=True)

config.substitutions.append(("%python", config.python_executable))

# Real files written by MindSpore, committed under test/data/mindspore.
config.substitutions.append(("%samples", config.dinfer_samples_dir))

# ONNX's own test suite, from Debian's libonnx-testdata.
onnx_testdata = "/usr/share/libonnx-testdata/data"
if os.path.isdir(onnx_testdata):
    config.available_features.add("onnx-testdata")
config.substitutions.append(("%onnx_testdata", onnx_testdata))
# ONNX's Python package (Debian's python3-onnx) writes the extra node tests.
import subprocess
if subprocess.run([config.python_executable, "-c", "from onnx import helper"], cwd="/",
                  capture_output=True).returncode == 0:
    config.available_features.add("python-onnx")
config.substitutions.append(("%dinfer_bin", config.dinfer_tools_dir))

# Open MPI: tests of the MPI communicator run their driver under mpirun.
# Root needs --allow-run-as-root; more ranks than cores need --oversubscribe.
if config.dinfer_have_mpi and shutil.which("mpirun"):
    config.available_features.add("mpi")
mpirun = "mpirun --allow-run-as-root --oversubscribe"
# Under the sanitizers (scripts/sanitize.sh), Open MPI's allocations at exit
# cannot be told from leaks (their stacks end in the allocator), so MPI runs
# skip leak checking; the same code paths run leak-checked on threads.
if "ASAN_OPTIONS" in os.environ:
    config.environment["ASAN_OPTIONS"] = os.environ["ASAN_OPTIONS"]
    mpirun = "env ASAN_OPTIONS=%s:detect_leaks=0 %s" % (os.environ["ASAN_OPTIONS"], mpirun)
for name in ("LSAN_OPTIONS", "UBSAN_OPTIONS"):
    if name in os.environ:
        config.environment[name] = os.environ[name]
config.substitutions.append(("%mpirun", mpirun))

# Headless Chromium (Debian's chromium) renders the HTML reports.
chromium = shutil.which("chromium")
if chromium:
    config.available_features.add("chromium")
    config.substitutions.append(("%chromium", chromium + " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars"))
