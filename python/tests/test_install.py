"""The documented offline install: a venv that sees Debian's packages, and pip without a
build-isolation download."""

import os
import shutil
import subprocess
import sys

from conftest import BUILD, ROOT


def test_pip_install_into_a_system_site_packages_venv(tmp_path):
    source = tmp_path / "python"
    shutil.copytree(os.path.join(ROOT, "python"), source,
                    ignore=shutil.ignore_patterns("tests", "build", "*.egg-info", "__pycache__"))
    venv = tmp_path / "venv"
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", venv], check=True)
    env = dict(os.environ, DINFER_BUILD_DIR=BUILD, PYTHONPATH="", PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    subprocess.run([venv / "bin" / "pip", "install", "-q", "--no-build-isolation", "--no-index", source],
                   check=True, env=env, cwd=tmp_path)
    script = ("import dinfer, numpy, os, sys\n"
              "assert os.path.dirname(dinfer.__file__).startswith(sys.prefix), dinfer.__file__\n"
              "dinfer.save_checkpoint({'w': numpy.ones((2, 3), numpy.float32)}, 'w.ckpt')\n"
              "print(dinfer.load_checkpoint('w.ckpt')['w'].sum())\n"
              "print(dinfer.run_command('slices', '--shape', '96,16', '--dev-matrix', '2,4', '--tensor-map', '-1,0'))\n")
    result = subprocess.run([venv / "bin" / "python", "-c", script], capture_output=True, text=True, env=env,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("6.0\n")
    assert "4 distinct slices of shape [96,4]" in result.stdout
