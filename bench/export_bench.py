#!/usr/bin/python3
"""Distributed export of a model with at least 2 GiB of weights on 8 ranks (issue 7).

Builds an MLP of float32 weights (4 products of 8192 x 16384: 2 GiB) as ONNX
with external data, a Megatron training strategy for 8 devices (tensor
parallel 8) and its per-rank training checkpoints, then times, side by side:

  * copying the training checkpoints once (`cp -r`, the bytes the export must
    at least read and write);
  * `dinfer export` of one MindIR per rank for 8 inference ranks.

It prints the export time as a ratio of the copy time, and the export's peak
resident memory (/usr/bin/time -f %M) as a ratio of the largest rank's
weights. Scratch files go to --work (about 9 GiB); page caches are not
dropped, so both timings start from the same warm cache.

Usage: bench/export_bench.py [--build build] [--work DIR] [--hidden 8192]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def timed(command, env=None):
    """Runs `command` under /usr/bin/time; returns (seconds, peak RSS in bytes)."""
    print("$ " + " ".join(command), flush=True)
    start = time.perf_counter()
    result = subprocess.run(["/usr/bin/time", "-f", "%M"] + command, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{command[0]} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    peak_kib = int(result.stderr.strip().splitlines()[-1])
    return seconds, peak_kib * 1024


def build_model(path, hidden, layers):
    ffn = 2 * hidden
    rng = np.random.default_rng(0)
    nodes, inits = [], []
    current = "x"
    for i in range(layers):
        shape = (hidden, ffn) if i % 2 == 0 else (ffn, hidden)
        weight = (rng.random(shape, dtype=np.float32) - 0.5) * 0.01
        inits.append(numpy_helper.from_array(weight, f"w{i}"))
        out = f"h{i}" if i + 1 < layers else "y"
        nodes.append(helper.make_node("MatMul", [current, f"w{i}"], [out]))
        current = out
    graph = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [8, hidden])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [8, hidden])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True, location="weights.bin")
    return layers * hidden * ffn * 4


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    parser.add_argument("--work", default=None)
    parser.add_argument("--hidden", type=int, default=8192)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--ranks", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    dinfer = os.path.join(os.path.abspath(args.build), "bin", "dinfer")
    work = args.work or tempfile.mkdtemp(prefix="dinfer-export-bench-")
    os.makedirs(work, exist_ok=True)
    try:
        model = os.path.join(work, "model.onnx")
        weight_bytes = args.layers * args.hidden * 2 * args.hidden * 4
        print(f"model: {args.layers} products of {args.hidden} x {2 * args.hidden} float32, "
              f"{weight_bytes / 2**30:.2f} GiB of weights", flush=True)
        train = os.path.join(work, "train")
        if not os.path.isdir(train):  # a kept --work folder is reused
            build_model(model, args.hidden, args.layers)
            full = os.path.join(work, "full")
            subprocess.run([dinfer, "convert", model, os.path.join(full, "net.mindir"), "--weights",
                            os.path.join(full, "net.ckpt"), "--no-sync"], check=True)
            subprocess.run([dinfer, "strategy", "--model", model, "--device-num", str(args.ranks), "--preset",
                            f"megatron:tp={args.ranks}", "-o", os.path.join(work, "train.json")], check=True)
            subprocess.run([dinfer, "reshard", "--src", os.path.join(full, "net.ckpt"), "--src-strategy", "none",
                            "--dst-strategy", os.path.join(work, "train.json"), "--dst", train, "--no-sync"],
                           check=True)
            shutil.rmtree(full)
        shutil.rmtree(os.path.join(work, "out"), ignore_errors=True)

        # Interleaved rounds, medians: the copy and the export see the same cache and disk.
        copies, exports, peaks = [], [], []
        for _ in range(args.rounds):
            seconds, _ = timed(["cp", "-r", train, os.path.join(work, "copy")])
            copies.append(seconds)
            shutil.rmtree(os.path.join(work, "copy"))
            shutil.rmtree(os.path.join(work, "out"), ignore_errors=True)
            seconds, peak = timed([dinfer, "export", "--model", model, "--train-strategy",
                                   os.path.join(work, "train.json"), "--ckpt-dir", train, "--input",
                                   f"x=8,{args.hidden}", "--device-num", str(args.ranks), "--no-sync", "-o",
                                   os.path.join(work, "out")])
            exports.append(seconds)
            peaks.append(peak)
        copy_seconds, export_seconds, export_peak = (sorted(v)[len(v) // 2] for v in (copies, exports, peaks))
        largest = 0
        for rank in range(args.ranks):
            folder = os.path.join(work, "out", f"rank_{rank}")
            size = sum(os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(folder) for f in files)
            largest = max(largest, size)
        print()
        print(f"copy of the training checkpoints: {copy_seconds:.2f} s (median of {args.rounds})")
        print(f"dinfer export, {args.ranks} ranks: {export_seconds:.2f} s (median), peak RSS {export_peak / 2**20:.0f} MiB, "
              f"largest rank {largest / 2**20:.0f} MiB")
        print(f"export time / copy time: {export_seconds / copy_seconds:.2f}")
        print(f"export peak memory / largest rank's weights: {export_peak / largest:.2f}")
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
