#!/usr/bin/python3
"""Single-rank time of transformer encoders in dinfer against ONNX Runtime
(npm onnxruntime-node) with the same thread count, side by side in one run.

    /usr/bin/python3 bench/encoder_vs_ort.py [--threads 1,2] [--runs 200] [--build build]

Models: the committed test/models/encoder (2 layers, d=256, [1,64,256]) and,
when Debian's torch is installed, encoder_4x512 (4 layers, d=512, [1,64,512])
exported by scripts/export-torch-models.py --bench. Both tools time
steady-state runs after a warm-up (dinfer run --repeat, run_ort.js); the
figure is ORT's median time over dinfer's (throughput ratio, goal >= 1.0).
Needs `cd bench/ort && ONNXRUNTIME_NODE_INSTALL=skip npm install` once.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def dinfer_time(binary, model, x, threads, runs, out_dir):
    result = subprocess.run([binary, "run", model, "--input", f"x={x}", "--output-dir", out_dir, "--repeat", str(runs),
                             "--threads", str(threads)], capture_output=True, text=True, check=True)
    match = re.search(r"best ([0-9.]+) ms, median ([0-9.]+) ms", result.stderr)
    return float(match.group(1)), float(match.group(2))


def ort_time(model, x, threads, runs, out_file):
    result = subprocess.run(["node", os.path.join(ROOT, "bench", "ort", "run_ort.js"), model, f"x={x}", str(threads),
                             str(runs), f"y={out_file}"], capture_output=True, text=True, check=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    return report["best_ms"], report["median_ms"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default=",".join(sorted({"1", str(os.cpu_count() or 1)})))
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    args = parser.parse_args()
    if not os.path.isdir(os.path.join(ROOT, "bench", "ort", "node_modules", "onnxruntime-node")):
        sys.exit("onnxruntime-node is missing: cd bench/ort && ONNXRUNTIME_NODE_INSTALL=skip npm install")
    binary = os.path.join(args.build, "bin", "dinfer")
    work = tempfile.mkdtemp(prefix="dinfer-ort-bench-")
    models = [("encoder 2x256 [1,64,256]", os.path.join(ROOT, "test", "models", "encoder"))]
    try:
        import torch  # noqa: F401  (only to know whether the bigger model can be exported)
        subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "scripts", "export-torch-models.py"), "--bench",
                        "--out", work], check=True, capture_output=True)
        models.append(("encoder 4x512 [1,64,512]", os.path.join(work, "encoder_4x512")))
    except ImportError:
        print("(torch is not installed: only the committed encoder is timed)")

    print(f"{'model':26} {'threads':>7} {'dinfer ms':>10} {'ORT ms':>8} {'ORT/dinfer':>10}  max |dinfer-ORT|")
    worst = None
    for label, folder in models:
        model, x = os.path.join(folder, "model.onnx"), os.path.join(folder, "x.npy")
        for threads in [int(t) for t in args.threads.split(",")]:
            out_dir, ort_out = os.path.join(work, "dinfer"), os.path.join(work, "ort_y.npy")
            _, dinfer_median = dinfer_time(binary, model, x, threads, args.runs, out_dir)
            _, ort_median = ort_time(model, x, threads, args.runs, ort_out)
            diff = float(np.abs(np.load(os.path.join(out_dir, "y.npy")) - np.load(ort_out)).max())
            ratio = ort_median / dinfer_median
            worst = ratio if worst is None else min(worst, ratio)
            print(f"{label:26} {threads:7d} {dinfer_median:10.3f} {ort_median:8.3f} {ratio:9.2f}x  {diff:.2e}")
    print(f"dinfer throughput / ONNX Runtime throughput, worst case: {worst:.2f}x (goal >= 1.0)")


if __name__ == "__main__":
    main()
