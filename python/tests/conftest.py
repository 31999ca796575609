"""Fixtures: the package from the build tree, and a training run's files made by the CLI."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.abspath(os.environ.get("DINFER_BUILD_DIR", os.path.join(ROOT, "build")))
sys.path.insert(0, os.path.join(BUILD, "python"))

import dinfer  # noqa: E402

DINFER = os.path.join(BUILD, "bin", "dinfer")
GPT_BLOCK = os.path.join(ROOT, "test", "models", "gpt_block")


def cli(*args, check=True):
    """The dinfer executable, for comparisons with the Python calls."""
    result = subprocess.run([DINFER] + [str(a) for a in args], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"dinfer {' '.join(map(str, args))} failed:\n{result.stderr}")
    return result


@pytest.fixture(autouse=True)
def fresh_context():
    dinfer.reset_auto_parallel_context()
    dinfer.set_verbose(False)
    yield
    dinfer.reset_auto_parallel_context()


@pytest.fixture(scope="session")
def training(tmp_path_factory):
    """The GPT block trained on 8 devices (2 pipeline stages, tensor parallel 2, data parallel 2,
    optimizer sharding): its strategy file and one checkpoint per training rank."""
    work = tmp_path_factory.mktemp("training")
    model = os.path.join(GPT_BLOCK, "model.onnx")
    cli("convert", model, work / "full.mindir", "--weights", work / "full.ckpt")
    cli("strategy", "--model", model, "--device-num", 8, "--pipeline-stages", 2, "--preset",
        "megatron:tp=2,opt-shard", "-o", work / "train.json")
    cli("reshard", "--src", work / "full.ckpt", "--src-strategy", "none", "--dst-strategy", work / "train.json",
        "--dst", work / "train")
    files = [str(work / "train" / f"rank_{r}" / f"checkpoint_{r}.ckpt") for r in range(8)]
    return {"work": work, "model": model, "strategy": str(work / "train.json"), "full": str(work / "full.ckpt"),
            "ckpt_dir": str(work / "train"), "files": files}
