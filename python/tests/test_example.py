"""examples/gpt runs from its documented command and matches torch."""

import os
import subprocess
import sys

from conftest import BUILD, ROOT


def test_gpt_example_matches_torch(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.path.join(BUILD, "python"))
    for stages in ("1", "2"):
        result = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "gpt", "run.py"), "--work",
                                 tmp_path / stages, "--stages", stages], capture_output=True, text=True, env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "the distributed run matches torch within float32 tolerance" in result.stdout
        assert "8 devices, 2 stages: 22 split, 17 replicated, 39 optimizer-sharded" in result.stdout
        assert sorted(os.listdir(tmp_path / stages / "export")) == \
            ["manifest.json"] + [f"rank_{r}" for r in range(4)] + ["report.json"]
