"""Nothing half-written, no hangs: dinfer killed at random points, a full disk, a file-size limit,
a rank that fails, stalls or dies. The figures of docs/reliability.md come from these cases."""

import hashlib
import os
import random
import resource
import shutil
import signal
import subprocess
import time

import numpy as np
import pytest

import dinfer
from conftest import DINFER, GPT_BLOCK, cli


def tree(folder):
    """{relative path: sha256} of every file under folder."""
    out = {}
    for d, _, files in os.walk(folder):
        for f in files:
            path = os.path.join(d, f)
            with open(path, "rb") as handle:
                out[os.path.relpath(path, folder)] = hashlib.sha256(handle.read()).hexdigest()
    return out


def final_names(files):
    return {f: h for f, h in files.items() if ".tmp-" not in f}


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """A 48 MiB checkpoint and an 8-rank strategy for it: long enough to kill mid-way."""
    work = tmp_path_factory.mktemp("big")
    rng = np.random.default_rng(5)
    tensors = {f"layer{i}.weight": rng.standard_normal((1024, 1536), dtype=np.float32) for i in range(8)}
    dinfer.save_checkpoint(tensors, work / "full.ckpt")
    strategy = {"current_stage": 1, "parallel_strategy_item": {}, "parallel_layout_item": {
        name: {"dev_matrix": [2, 4], "tensor_map": [1, 0], "tensor_shape": [1024, 1536], "field": 0,
               "opt_weight_shard_step": 0, "opt_weight_shard_size": 0} for name in tensors}}
    import json
    (work / "train.json").write_text(json.dumps(strategy))
    return work


def test_reshard_killed_at_random_points_leaves_only_whole_files(big, tmp_path):
    args = [DINFER, "reshard", "--src", big / "full.ckpt", "--src-strategy", "none", "--dst-strategy",
            big / "train.json", "--threads", "2"]
    reference = tmp_path / "reference"
    subprocess.run(args + ["--dst", reference], check=True, capture_output=True)
    # Timed warm, as the killed runs will be: a cold first run would stretch
    # the window past the runs' length and let most of them finish.
    start = time.monotonic()
    subprocess.run(args + ["--dst", tmp_path / "warm"], check=True, capture_output=True)
    duration = time.monotonic() - start
    want = tree(reference)
    assert len(want) == 8
    rng = random.Random(1234)
    outcomes = {"killed": 0, "finished": 0}
    for attempt in range(10):
        dst = tmp_path / f"run{attempt}"
        # Half the runs start over an earlier complete output, which must stay whole.
        if attempt % 2:
            shutil.copytree(reference, dst)
        process = subprocess.Popen(args + ["--dst", dst], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Inside the warm run's length: the reshard takes tens of milliseconds, so
        # a window past its end lets too many finish to test the kill.
        time.sleep(rng.uniform(0, duration * 0.9))
        process.send_signal(signal.SIGKILL)
        code = process.wait()
        outcomes["killed" if code == -signal.SIGKILL else "finished"] += 1
        got = final_names(tree(dst)) if os.path.isdir(dst) else {}
        for name, digest in got.items():
            assert digest == want[name], f"attempt {attempt}: {name} is not the whole file"
        if attempt % 2:
            assert set(got) == set(want)
    assert outcomes["killed"] >= 5, outcomes


def test_export_killed_at_random_points_keeps_the_earlier_export(tmp_path):
    model = os.path.join(GPT_BLOCK, "model.onnx")
    cli("convert", model, tmp_path / "full.mindir", "--weights", tmp_path / "full.ckpt")
    cli("strategy", "--model", model, "--device-num", 4, "--preset", "megatron:tp=2", "-o", tmp_path / "train.json")
    cli("reshard", "--src", tmp_path / "full.ckpt", "--src-strategy", "none", "--dst-strategy",
        tmp_path / "train.json", "--dst", tmp_path / "train")
    args = [DINFER, "export", "--model", model, "--train-strategy", tmp_path / "train.json", "--ckpt-dir",
            tmp_path / "train", "--input", "x=2,32,128", "--device-num", "4", "-o", tmp_path / "out"]
    start = time.monotonic()
    subprocess.run(args, check=True, capture_output=True)
    duration = time.monotonic() - start
    earlier = tree(tmp_path / "out")
    rng = random.Random(99)
    for attempt in range(8):
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Inside the warm run's length: the reshard takes tens of milliseconds, so
        # a window past its end lets too many finish to test the kill.
        time.sleep(rng.uniform(0, duration * 0.9))
        process.send_signal(signal.SIGKILL)
        process.wait()
        # The export is deterministic: the folder is the earlier one or the new one, never a mix.
        assert tree(tmp_path / "out") == earlier, f"attempt {attempt}"
    result = cli("run", tmp_path / "out", "--input", f"x={GPT_BLOCK}/x.npy", "--expect", f"y={GPT_BLOCK}/y.npy")
    assert "matches" in result.stderr


@pytest.mark.parametrize("after", [0, 1, 4096, 3 * 2**20, 20 * 2**20])
def test_a_full_disk_is_a_clear_error_and_leaves_nothing(big, tmp_path, after):
    env = dict(os.environ, DINFER_FAULT_DISK_FULL_AFTER=str(after))
    dst = tmp_path / "dst"
    result = subprocess.run([DINFER, "reshard", "--src", big / "full.ckpt", "--src-strategy", "none",
                             "--dst-strategy", big / "train.json", "--dst", dst, "--threads", "1"],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 1
    assert "no space left on the device" in result.stderr
    assert "nothing was written under this name" in result.stderr
    files = tree(dst) if os.path.isdir(dst) else {}
    assert not [f for f in files if ".tmp-" in f], files  # temporary files removed
    reference = tmp_path / "reference"
    subprocess.run([DINFER, "reshard", "--src", big / "full.ckpt", "--src-strategy", "none", "--dst-strategy",
                    big / "train.json", "--dst", reference], check=True, capture_output=True)
    want = tree(reference)
    for name, digest in files.items():
        assert digest == want[name]


def test_a_full_disk_during_export_leaves_no_export(tmp_path):
    model = os.path.join(GPT_BLOCK, "model.onnx")
    cli("convert", model, tmp_path / "full.mindir", "--weights", tmp_path / "full.ckpt")
    cli("strategy", "--model", model, "--device-num", 2, "--preset", "megatron:tp=2", "-o", tmp_path / "t.json")
    cli("reshard", "--src", tmp_path / "full.ckpt", "--src-strategy", "none", "--dst-strategy", tmp_path / "t.json",
        "--dst", tmp_path / "train")
    env = dict(os.environ, DINFER_FAULT_DISK_FULL_AFTER=str(300_000))
    result = subprocess.run([DINFER, "export", "--model", model, "--train-strategy", tmp_path / "t.json",
                             "--ckpt-dir", tmp_path / "train", "--input", "x=2,32,128", "-o", tmp_path / "out"],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 1 and "no space left on the device" in result.stderr
    assert not os.path.exists(tmp_path / "out")
    assert [p for p in os.listdir(tmp_path) if p.startswith("out")] == []


def test_a_file_size_limit_is_a_clear_error(big, tmp_path):
    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))

    result = subprocess.run([DINFER, "reshard", "--src", big / "full.ckpt", "--src-strategy", "none",
                             "--dst-strategy", big / "train.json", "--dst", tmp_path / "dst"],
                            capture_output=True, text=True, preexec_fn=limit)
    assert result.returncode == 1, result.stderr
    assert "the file-size limit (ulimit -f) was reached" in result.stderr
    files = tree(tmp_path / "dst") if os.path.isdir(tmp_path / "dst") else {}
    assert not files, files


@pytest.fixture(scope="module")
def export_folder(tmp_path_factory):
    work = tmp_path_factory.mktemp("export")
    model = os.path.join(GPT_BLOCK, "model.onnx")
    cli("convert", model, work / "full.mindir", "--weights", work / "full.ckpt")
    cli("strategy", "--model", model, "--device-num", 4, "--preset", "megatron:tp=2", "-o", work / "t.json")
    cli("reshard", "--src", work / "full.ckpt", "--src-strategy", "none", "--dst-strategy", work / "t.json",
        "--dst", work / "train")
    cli("export", "--model", model, "--train-strategy", work / "t.json", "--ckpt-dir", work / "train", "--input",
        "x=2,32,128", "--device-num", 4, "-o", work / "out")
    return work / "out"


@pytest.mark.parametrize("mode", ["fail", "stall"])
def test_a_failing_or_stalled_rank_stops_every_thread_in_bounded_time(export_folder, tmp_path, mode):
    env = dict(os.environ, DINFER_FAULT_RANK=f"2:{mode}")
    start = time.monotonic()
    result = subprocess.run([DINFER, "run", export_folder, "--input", f"x={GPT_BLOCK}/x.npy", "--output-dir",
                             tmp_path, "--timeout", "2"], capture_output=True, text=True, env=env, timeout=60)
    seconds = time.monotonic() - start
    assert result.returncode == 1, result.stderr
    if mode == "fail":
        assert "rank 2: injected failure" in result.stderr
        assert seconds < 20
    else:
        assert "timed out" in result.stderr or "did not stop" in result.stderr, result.stderr
        assert seconds < 2 * 2 + 5 + 15
    assert not os.path.exists(tmp_path / "y.npy")


@pytest.mark.skipif(shutil.which("mpirun") is None, reason="Open MPI is not installed")
@pytest.mark.parametrize("mode", ["exit", "fail"])
def test_a_dying_rank_stops_every_mpi_process_in_bounded_time(export_folder, tmp_path, mode):
    env = dict(os.environ, DINFER_FAULT_RANK=f"1:{mode}", OMPI_MCA_btl="self,vader",
               OMPI_MCA_btl_vader_single_copy_mechanism="none")
    start = time.monotonic()
    result = subprocess.run(["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "4", DINFER, "run",
                             export_folder, "--input", f"x={GPT_BLOCK}/x.npy", "--output-dir", tmp_path,
                             "--timeout", "5"], capture_output=True, text=True, env=env, timeout=120)
    seconds = time.monotonic() - start
    assert result.returncode != 0
    assert seconds < 60, seconds
    assert not os.path.exists(tmp_path / "y.npy")


def test_a_checkpoint_crc_mismatch_names_the_file(tmp_path):
    import zlib
    dinfer.save_checkpoint({"w": np.arange(64, dtype=np.float32)}, tmp_path / "plain.ckpt")
    content = (tmp_path / "plain.ckpt").read_bytes()
    good, bad = tmp_path / "good.ckpt", tmp_path / "bad.ckpt"
    good.write_bytes(content + b"crc_num" + zlib.crc32(content).to_bytes(10, "big"))
    damaged = bytearray(content)
    damaged[-5] ^= 0x40
    bad.write_bytes(bytes(damaged) + b"crc_num" + zlib.crc32(content).to_bytes(10, "big"))
    assert "CRC verified" in cli("inspect", good).stdout
    cli("reshard", "--src", good, "--src-strategy", "none", "--dst", tmp_path / "copy.ckpt", "--dst-strategy", "none")
    result = cli("reshard", "--src", bad, "--src-strategy", "none", "--dst", tmp_path / "out.ckpt", "--dst-strategy",
                 "none", check=False)
    assert result.returncode == 1
    assert f"{bad}: CRC mismatch" in result.stderr and "the file is damaged" in result.stderr
    assert not os.path.exists(tmp_path / "out.ckpt")


def peak_rss_kib(args):
    """The peak resident memory of one run, as /usr/bin/time measures it."""
    result = subprocess.run(["/usr/bin/time", "-f", "%M"] + [str(a) for a in args], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return int(result.stderr.strip().splitlines()[-1])


def test_max_memory_bounds_a_merge_of_48_mib(big, tmp_path):
    # Merging 8 ranks back into one 48 MiB file never holds the tensors: only the slabs --max-memory allows.
    cli("reshard", "--src", big / "full.ckpt", "--src-strategy", "none", "--dst-strategy", big / "train.json",
        "--dst", tmp_path / "ranks")
    idle = peak_rss_kib([DINFER, "slices", "--shape", "96,16", "--dev-matrix", "2,4", "--tensor-map", "-1,0"])
    merged = peak_rss_kib([DINFER, "reshard", "--src", tmp_path / "ranks", "--src-strategy", big / "train.json",
                           "--dst", tmp_path / "merged.ckpt", "--dst-strategy", "none", "--threads", "1",
                           "--max-memory", "4M", "--no-sync"])
    assert (tmp_path / "merged.ckpt").stat().st_size > 48 * 2**20
    assert merged - idle < 20 * 1024, (idle, merged)
