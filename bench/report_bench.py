#!/usr/bin/python3
"""The partition report at scale, against the limits of issue 20.

  report_bench.py [--params 1000] [--ranks 64] [--rounds 5] [--build build]

Writes a report.json for PARAMS parameters on RANKS ranks (2 pipeline stages;
each stage dp x tp with tp 8; a GPT-like mix of column- and row-parallel
products, optimizer-sharded products, split and replicated biases, each with a
training layout on twice the devices; every rank with the all_reduce,
all_gather and pipeline transfers of its layers), then times `dinfer report`
on it, ROUNDS times, and prints the median against the one-second limit and
the page's size against the 8 MiB limit, for the whole matrix of sizes below
PARAMS x RANKS (1/4, 1/2 and all of each), with the worst case and the
geometric mean.
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def layout(dev_matrix, tensor_map, opt_step=0, opt_size=0):
    return {"dev_matrix": dev_matrix, "tensor_map": tensor_map, "opt_weight_shard_step": opt_step,
            "opt_weight_shard_size": opt_size}


def synthetic_report(params, ranks):
    stages = 2
    stage_devices = ranks // stages
    tp = min(8, stage_devices)
    dp = stage_devices // tp
    hidden = 1024
    entries = []
    for i in range(params):
        kind = i % 5
        stage = 0 if i < params // 2 else 1
        if kind == 0:  # column parallel
            shape, tmap, train = [hidden, hidden], [-1, 0], [-1, 0]
        elif kind == 1:  # row parallel
            shape, tmap, train = [hidden, hidden], [0, -1], [0, -1]
        elif kind == 2:  # optimizer sharded
            shape, tmap, train = [4 * hidden, hidden], [0, -1], [0, -1]
        elif kind == 3:  # split bias
            shape, tmap, train = [hidden], [0], [0]
        else:  # replicated norm weight
            shape, tmap, train = [hidden], [-1], [-1]
        sharded = kind == 2 and dp > 1
        predict = layout([dp, tp], tmap, tp if sharded else 0, dp if sharded else 0)
        slice_shape = list(shape)
        for d, axis in enumerate(tmap):
            if axis == 0:
                slice_shape[d] //= tp
        if sharded:
            slice_shape[0] //= dp
        entries.append({"name": "layers.%d.w%d" % (i // 5, kind), "dtype": "Float32", "element_bits": 32,
                        "full_shape": shape, "slice_shape": slice_shape, "layout": predict, "stages": [stage],
                        "rule": "same" if i % 2 else "dropped-replicas",
                        "train_layout": layout([2 * dp, tp], train, tp if kind == 2 else 0)})
    layers = params // 5
    rank_entries = []
    for rank in range(ranks):
        stage, local = divmod(rank, stage_devices)
        row = local // tp
        tp_group = [stage * stage_devices + row * tp + j for j in range(tp)]
        collectives = []
        for _ in range(layers // stages):
            collectives.append({"kind": "all_reduce", "group": tp_group, "bytes": 1 << 20,
                                "sent_bytes": 2 * (tp - 1) * (1 << 20) // tp})
            collectives.append({"kind": "all_gather", "group": tp_group, "bytes": 1 << 18,
                                "sent_bytes": (tp - 1) * (1 << 18) // tp})
        if stage == 0:
            collectives.append({"kind": "send", "group": [rank, rank + stage_devices], "bytes": 1 << 20,
                                "sent_bytes": 1 << 20, "peer_stage": 1})
        else:
            collectives.append({"kind": "recv", "group": [rank, rank - stage_devices], "bytes": 1 << 20,
                                "sent_bytes": 0, "peer_stage": 0})
        rank_entries.append({"rank": rank, "stage": stage, "weight_bytes": 123456789,
                             "peak_activation_bytes": 4567890,
                             "sent_bytes": sum(c["sent_bytes"] for c in collectives), "collectives": collectives})
    return {"format": "dinfer-report", "version": 1, "model": "synthetic-gpt.onnx", "train_strategy": "train.json",
            "device_num": ranks, "pipeline_stages": stages, "train_device_num": 2 * ranks,
            "train_pipeline_stages": stages, "params": entries, "ranks": rank_entries}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--params", type=int, default=1000)
    parser.add_argument("--ranks", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    args = parser.parse_args()
    dinfer = os.path.join(args.build, "bin", "dinfer")
    cases = sorted({(max(args.params * f // 4, 5), max(args.ranks * g // 4, 16)) for f in (1, 2, 4)
                    for g in (1, 2, 4)})
    time_ratios, size_ratios = [], []
    print("%-10s %-6s %-12s %-12s %-10s %-10s" % ("params", "ranks", "median s", "time/limit", "page MiB",
                                                  "size/limit"))
    with tempfile.TemporaryDirectory() as work:
        for params, ranks in cases:
            path = os.path.join(work, "report.json")
            with open(path, "w") as f:
                json.dump(synthetic_report(params, ranks), f)
            page = os.path.join(work, "report.html")
            times = []
            for _ in range(args.rounds):
                start = time.perf_counter()
                subprocess.run([dinfer, "report", path, "-o", page], check=True, capture_output=True)
                times.append(time.perf_counter() - start)
            median = statistics.median(times)
            size = os.path.getsize(page) / (1 << 20)
            time_ratios.append(median / 1.0)
            size_ratios.append(size / 8.0)
            print("%-10d %-6d %-12.3f %-12.3f %-10.2f %-10.3f" % (params, ranks, median, median / 1.0, size,
                                                                   size / 8.0))
    geo = lambda xs: math.exp(sum(math.log(max(x, 1e-9)) for x in xs) / len(xs))
    print("time over the 1 s limit: worst %.3f, geometric mean %.3f (goal < 1)" % (max(time_ratios),
                                                                                     geo(time_ratios)))
    print("page over the 8 MiB limit: worst %.3f, geometric mean %.3f (the limit is for the examples; "
          "informational here)" % (max(size_ratios), geo(size_ratios)))
    return 0 if max(time_ratios) < 1 else 1


if __name__ == "__main__":
    sys.exit(main())
