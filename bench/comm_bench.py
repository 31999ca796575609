#!/usr/bin/python3
"""Collective bytes of dinfer's partitions against the Megatron minimum.

  comm_bench.py [--build build]

For each model and training strategy of the matrix below (written with
`dinfer strategy --preset megatron:...`), and each inference device count,
reads `dinfer layout --comm --json` (every rank's collectives and pipeline
sends, bytes by the ring algorithms' count) and prints the bytes the busiest
rank sends per inference step over the Megatron minimum, computed here from
the shapes and the predict layouts (`dinfer layout --json`):
  * one all_reduce per row-parallel product (a 2-D weight split along its
    input features), 2(t-1)/t of its output on the rank's tokens;
  * one send of the hidden state per stage boundary;
  * one gather of a data-parallel output, (d-1)/d of it;
  * with sequence parallelism, a reduce_scatter and an all_gather in place of
    each all_reduce (the same bytes) and one gather of the sequence-split
    output, (t-1)/t of it.
Goal: 1.00 in every case. Prints the worst case and the geometric mean.
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# model, training devices, preset, training stages, inference device counts
CASES = [
    ("mlp", 2, "megatron:tp=2", 1, [2]),
    ("mlp", 4, "megatron:tp=4", 1, [4, 2]),
    ("mlp", 4, "megatron:tp=2,dp=2", 1, [4, 2]),
    ("gpt_block", 2, "megatron:tp=2", 1, [2]),
    ("gpt_block", 4, "megatron:tp=4", 1, [4, 2]),
    ("gpt_block", 4, "megatron:tp=2,dp=2", 1, [4, 2]),
    ("gpt_block", 8, "megatron:tp=2,opt-shard", 2, [8, 4, 2]),
    ("gpt_block", 2, "megatron:tp=2,sp", 1, [2]),
]


def run(cmd):
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(map(str, cmd)), result.stderr[-500:]))
    return result.stdout


def weight_orientation(program):
    """Per parameter used as a product's weight: its contraction dimension
    (0 for [in, out], 1 for a transposed [out, in] weight)."""
    names = dict(re.findall(r'(%\w+) = dist\.param "([^"]+)"', program))
    contraction = {}
    for line in program.splitlines():
        m = re.search(r"nn\.(?:batch_)?matmul %\w+, (%\w+)( \{[^}]*\})?", line)
        if m and m.group(1) in names:
            contraction[names[m.group(1)]] = 1 if m.group(2) and "transpose_b = true" in m.group(2) else 0
    return contraction


def minimum(layouts, io, devices, contraction, sequence_parallel=False):
    """The Megatron minimum of the busiest rank, in bytes sent per step."""
    stages = layouts["pipeline_stages"]
    per_stage = devices // stages
    x, y = io["inputs"][0]["shape"], io["outputs"][0]["shape"]
    tokens, hidden = math.prod(x[:-1]), x[-1]
    tp = 1
    row_outputs = {s: [] for s in range(stages)}
    for name, p in layouts["layouts"].items():
        tmap, dev = p["tensor_map"], p["dev_matrix"]
        if name not in contraction or len(p["full_shape"]) != 2 or not all(isinstance(a, int) for a in tmap):
            continue
        degree = lambda axis: dev[len(dev) - 1 - axis] if axis >= 0 else 1
        k = contraction[name]
        if tmap[k] >= 0 and tmap[1 - k] < 0:  # split along its input features: row parallel
            t = degree(tmap[k])
            tp = max(tp, t)
            row_outputs[p["stage"]].append((p["full_shape"][1 - k], t))
        elif tmap[1 - k] >= 0:
            tp = max(tp, degree(tmap[1 - k]))
    dp = max(per_stage // tp, 1)
    while dp > 1 and x[0] % dp:
        dp -= 1
    local_tokens = tokens // dp
    busiest = 0
    for stage in range(stages):
        sent = sum(2 * (t - 1) / t * local_tokens * out * 4 for out, t in row_outputs[stage] if t > 1)
        if stage + 1 < stages:
            sent += local_tokens * hidden * 4
        if stage == stages - 1 and dp > 1:
            sent += (dp - 1) / dp * math.prod(y) * 4
        if stage == stages - 1 and sequence_parallel and tp > 1:
            sent += (tp - 1) / tp * math.prod(y) / dp * 4
        busiest = max(busiest, sent)
    return busiest


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    args = parser.parse_args()
    dinfer = os.path.join(args.build, "bin", "dinfer")
    ratios = []
    print("%-10s %-26s %-7s %-12s %-12s %-12s %s" % ("model", "training", "devices", "busiest", "minimum",
                                                     "over min", "collectives (busiest rank)"))
    with tempfile.TemporaryDirectory() as work:
        for model, train_devices, preset, train_stages, counts in CASES:
            path = os.path.join(ROOT, "test", "models", model, "model.onnx")
            io = json.loads(run([dinfer, "inspect", "--json", path]))
            contraction = weight_orientation(run([os.path.join(args.build, "bin", "dinfer-translate"), "--import-onnx",
                                                  path]))
            shape = ",".join(map(str, io["inputs"][0]["shape"]))
            strategy = os.path.join(work, "%s-%d-%s.json" % (model, train_devices, preset.replace(":", "_")))
            run([dinfer, "strategy", "--model", path, "--device-num", train_devices, "--pipeline-stages", train_stages,
                 "--preset", preset, "-o", strategy])
            for devices in counts:
                common = ["--model", path, "--train-strategy", strategy, "--input", "x=" + shape, "--device-num",
                          devices]
                comm = json.loads(run([dinfer, "layout"] + common + ["--comm", "--json"]))
                layouts = json.loads(run([dinfer, "layout"] + common + ["--json"]))
                rank = max(comm["ranks"], key=lambda r: r["sent_bytes"])
                least = minimum(layouts, io, devices, contraction, sequence_parallel=preset.endswith(",sp"))
                ratio = rank["sent_bytes"] / least if least else (1.0 if rank["sent_bytes"] == 0 else math.inf)
                ratios.append(ratio)
                kinds = {}
                for c in rank["collectives"]:
                    kinds[c["kind"]] = kinds.get(c["kind"], 0) + 1
                training = "%s on %d%s" % (preset.split(":")[1], train_devices,
                                           " (%d stages)" % train_stages if train_stages > 1 else "")
                print("%-10s %-26s %-7d %-12d %-12d %-12.2f %s" % (
                    model, training, devices, rank["sent_bytes"], least, ratio,
                    " ".join("%s x%d" % kv for kv in sorted(kinds.items()))))
    finite = [r for r in ratios if math.isfinite(r) and r > 0]
    geo = math.exp(sum(math.log(r) for r in finite) / len(finite)) if finite else float("nan")
    print("busiest rank over the Megatron minimum: worst %.2f, geometric mean %.2f (goal 1.00)" % (max(ratios), geo))
    return 0


if __name__ == "__main__":
    sys.exit(main())
