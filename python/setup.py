"""pip's entry to the dinfer package: `pip install --no-build-isolation ./python`.

The C++ extension is built by the project's CMake build (scripts/build.sh); this file packages
the extension it built (DINFER_BUILD_DIR, default ../build) with the Python sources, building
the target first when the build folder exists. Offline: it downloads nothing.
"""

import glob
import os
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.abspath(os.environ.get("DINFER_BUILD_DIR", os.path.join(HERE, "..", "build")))


class BuildWithExtension(build_py):
    def run(self):
        super().run()
        if os.path.isfile(os.path.join(BUILD, "build.ninja")) or os.path.isfile(os.path.join(BUILD, "Makefile")):
            subprocess.check_call(["cmake", "--build", BUILD, "--target", "DinferPython", "dinfer"])
        built = glob.glob(os.path.join(BUILD, "python", "dinfer", "_dinfer*.so"))
        if not built:
            raise SystemExit(f"dinfer: no built extension under {BUILD}/python/dinfer: run scripts/build.sh first "
                             "(or set DINFER_BUILD_DIR to the build folder)")
        target = os.path.join(self.build_lib, "dinfer")
        os.makedirs(target, exist_ok=True)
        for library in built:
            shutil.copy2(library, target)
        # The command line, for run_command and `python3 -m dinfer`.
        executable = os.path.join(BUILD, "bin", "dinfer")
        if os.path.isfile(executable):
            os.makedirs(os.path.join(target, "bin"), exist_ok=True)
            shutil.copy2(executable, os.path.join(target, "bin", "dinfer"))


setup(
    name="dinfer",
    version="0.1.0",
    description="Distributed inference for models trained with tensor, data, optimizer and pipeline parallelism",
    packages=["dinfer"],
    python_requires=">=3.9",
    install_requires=["numpy"],
    cmdclass={"build_py": BuildWithExtension},
    # The extension is copied in, not compiled here: the wheel is platform-specific.
    has_ext_modules=lambda: True,
    zip_safe=False,
)
