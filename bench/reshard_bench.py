#!/usr/bin/python3
"""Resharding benchmarks, each measured side by side with its peer or limit.

  reshard_bench.py plan [--layers 96] [--repeat 9]
      --plan for a 175-billion-parameter GPT (96 layers, hidden 12288) trained on
      1,024 ranks (16 stages of dp 8 x tp 8, optimizer sharding) to 64 inference
      ranks (tp 8 x dp 8, one stage), from generated JSON strategies with full
      shapes. Prints the median and slowest of REPEAT runs against the
      0.25-second goal (issue 21).

  reshard_bench.py reshard [--mib 512] [--dir /tmp/dinfer-reshard-bench]
      8 ranks of MIB MiB, tensor parallel 8 -> tensor parallel 2 with data
      parallel 2, in the page cache. Prints in one run: throughput with
      --no-sync against cp of the same number of bytes (goal >= 0.8), with sync
      against the disk's write speed (dd with fsync), peak memory (max RSS by
      /usr/bin/time) against the largest destination file (goal <= 1.25), and
      the speed-up over merge-everything-then-split written with numpy
      (MindSpore's load_distributed_checkpoint algorithm).

  reshard_bench.py safetensors [--mib 128] [--repeat 3]
      The same set (8 ranks of MIB MiB: 1 GiB by default) as .ckpt and as
      safetensors, each resharded tp8 -> tp2 x dp2 into its own format with
      --no-sync, side by side in one run (best of REPEAT, alternating).
      Prints per format throughput over cp of the same bytes and peak RSS
      over the largest output, and safetensors over .ckpt for both (goal:
      within 10%, i.e. throughput >= 0.9x and peak <= 1.1x).

  reshard_bench.py matrix [--mib 1024] [--repeat 5] [--format ckpt|safetensors]
      Every pair of layouts issue 21 names, on the same MIB MiB of float32
      weights (8 tensors of 4096 rows) in the page cache, one pair after the
      other in one run: row -> row, column -> row, row -> column, multi-axis ->
      single axis, optimizer-sharded -> tensor-parallel, pipeline stages merged,
      dtype conversion (float32 -> bfloat16) and a data-parallel destination.
      Each source set is cut from one full checkpoint by dinfer itself (not
      timed). Both dinfer and cp write to --out (default: a folder in
      /dev/shm), so that neither is timed waiting on the disk's writeback. Prints per pair the throughput with --no-sync over cp of the same
      bytes (the larger of read and written; goal >= 0.8) and peak RSS over the
      largest output file (goal <= 1.25), then the worst case and geometric
      mean of each.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "test", "tools", "dinfer", "Inputs"))
from ckpt import encode, load, write_safetensors  # noqa: E402


def dinfer_binary(build):
    return os.path.join(build, "bin", "dinfer")


def layout(dev, tmap, shape, step=0, size=0):
    return {"dev_matrix": dev, "tensor_map": tmap, "tensor_shape": shape, "field": 0,
            "opt_weight_shard_step": step, "opt_weight_shard_size": size}


def gpt_params(layers, hidden, vocab=51200, positions=2048):
    """(name, shape, tensor_map over (dp, tp) with tp the last axis, layer)."""
    params = [("embedding.word", [vocab, hidden], [0, -1], 0),
              ("embedding.position", [positions, hidden], [-1, -1], 0)]
    for l in range(layers):
        p = "layers.%d." % l
        params += [(p + "ln1.gamma", [hidden], [-1], l), (p + "ln1.beta", [hidden], [-1], l),
                   (p + "attn.qkv.weight", [hidden, 3 * hidden], [-1, 0], l),
                   (p + "attn.qkv.bias", [3 * hidden], [0], l),
                   (p + "attn.proj.weight", [hidden, hidden], [0, -1], l),
                   (p + "attn.proj.bias", [hidden], [-1], l),
                   (p + "ln2.gamma", [hidden], [-1], l), (p + "ln2.beta", [hidden], [-1], l),
                   (p + "mlp.fc1.weight", [hidden, 4 * hidden], [-1, 0], l),
                   (p + "mlp.fc1.bias", [4 * hidden], [0], l),
                   (p + "mlp.fc2.weight", [4 * hidden, hidden], [0, -1], l),
                   (p + "mlp.fc2.bias", [hidden], [-1], l)]
    params += [("final_ln.gamma", [hidden], [-1], layers - 1), ("final_ln.beta", [hidden], [-1], layers - 1)]
    return params


def plan(args):
    work = args.dir
    os.makedirs(work, exist_ok=True)
    stages, layers_per_stage = 16, args.layers // 16
    train, predict = {}, {}
    count = 0
    for name, shape, tmap, layer in gpt_params(args.layers, 12288):
        count += int(np.prod(shape))
        stage = min(layer // layers_per_stage, stages - 1)
        # Training: dev [8 dp, 8 tp], optimizer states sharded over the 8 data-parallel replicas.
        # The replica group of a tensor-parallel slice strides by 8; a replicated
        # tensor's group is all 64 ranks of the stage.
        replica_step = 8 if 0 in tmap else 1
        for prefix, step in [("", 0), ("adam_m.", replica_step), ("adam_v.", replica_step)]:
            train["%d-%s%s" % (stage, prefix, name)] = layout([8, 8], tmap, shape, step, -1 if step else 0)
        predict[name] = layout([8, 8], tmap, shape)
    for path, items in [("train.json", train), ("predict.json", predict)]:
        with open(os.path.join(work, path), "w") as f:
            json.dump({"current_stage": 1, "parallel_strategy_item": {}, "parallel_layout_item": items}, f)
    command = [dinfer_binary(args.build), "reshard", "--src-strategy", os.path.join(work, "train.json"),
               "--dst-strategy", os.path.join(work, "predict.json"), "--dst", os.path.join(work, "out"), "--plan",
               "--params-only"]
    # A run is a fresh process; on a shared VM first-touch page faults make
    # single runs noisy, so the median and the slowest of --repeat are printed.
    times = []
    for _ in range(max(1, args.repeat)):
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if result.returncode != 0:
            sys.exit(result.stderr)
    times.sort()
    median, slowest = times[len(times) // 2], times[-1]
    print(result.stdout.splitlines()[0])
    print("model: %.1f billion parameters, %d layout items; 1024 training ranks -> 64 inference ranks"
          % (count / 1e9, len(train)))
    print("--plan over %d runs: median %.3f s (%.2f of the 0.25-second goal), slowest %.3f s (%.2f), fastest %.3f s"
          % (len(times), median, median / 0.25, slowest, slowest / 0.25, times[0]))


def write_set(work, mib, fmt="ckpt"):
    """8 tensor-parallel ranks, each holding MIB MiB of column slices, as .ckpt or safetensors (numpy's own
    writers)."""
    src = os.path.join(work, "tp8" if fmt == "ckpt" else "tp8-" + fmt)
    rows, tensors = 4096, 8
    cols_per_rank = (mib << 20) // (4 * rows * tensors)
    full_cols = cols_per_rank * 8
    strategy = {}
    for t in range(tensors):
        strategy["w%d" % t] = layout([8], [-1, 0], [rows, full_cols])
    json.dump({"current_stage": 1, "parallel_strategy_item": {}, "parallel_layout_item": strategy},
              open(os.path.join(work, "tp8.json"), "w"))
    predict = {"w%d" % t: layout([2, 2], [-1, 0], [rows, full_cols]) for t in range(tensors)}
    json.dump({"current_stage": 1, "parallel_strategy_item": {}, "parallel_layout_item": predict},
              open(os.path.join(work, "tp2dp2.json"), "w"))
    for r in range(8):
        folder = os.path.join(src, "rank_%d" % r)
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, "checkpoint_%d.%s" % (r, fmt))
        # A set of this size from an earlier run is reused; one of another size is not.
        if os.path.exists(path) and 0 <= os.path.getsize(path) - (mib << 20) < (1 << 20):
            continue
        blocks = {"w%d" % t: np.full((rows, cols_per_rank), r * 100 + t, dtype=np.float32) for t in range(tensors)}
        if fmt == "safetensors":
            write_safetensors(path, {name: (block, "Float32") for name, block in blocks.items()})
            continue
        with open(path, "wb") as f:
            for name, block in blocks.items():
                f.write(encode(name, block, "Float32"))
    return src, rows, full_cols, tensors


def numpy_merge_then_split(src, out, tensors):
    """MindSpore's way: load every file, build every full tensor, slice it."""
    os.makedirs(out, exist_ok=True)
    files = [load(os.path.join(src, "rank_%d" % r, "checkpoint_%d.ckpt" % r)) for r in range(8)]
    outputs = [open(os.path.join(out, "dst_%d.ckpt" % d), "wb") for d in range(4)]
    for t in range(tensors):
        name = "w%d" % t
        full = np.concatenate([files[r][name][0] for r in range(8)], axis=1)
        half = full.shape[1] // 2
        for d in range(4):
            piece = full[:, (d % 2) * half:(d % 2 + 1) * half]
            outputs[d].write(encode(name, piece, "Float32"))
    for f in outputs:
        f.close()


def timed(command, **kwargs):
    start = time.perf_counter()
    subprocess.run(command, check=True, **kwargs)
    return time.perf_counter() - start


def reshard(args):
    work = args.dir
    os.makedirs(work, exist_ok=True)
    src, rows, cols, tensors = write_set(work, args.mib)
    src_files = [os.path.join(src, "rank_%d" % r, "checkpoint_%d.ckpt" % r) for r in range(8)]
    src_bytes = sum(os.path.getsize(f) for f in src_files)
    subprocess.run(["cat"] + src_files, stdout=subprocess.DEVNULL, check=True)  # into the page cache

    def run_dinfer(out, sync):
        shutil.rmtree(out, ignore_errors=True)
        command = ["/usr/bin/time", "-f", "%M", dinfer_binary(args.build), "reshard", "--src", src, "--src-strategy",
                   os.path.join(work, "tp8.json"), "--dst", out, "--dst-strategy", os.path.join(work, "tp2dp2.json")]
        if not sync:
            command.append("--no-sync")
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if result.returncode != 0:
            sys.exit(result.stderr)
        peak_kib = int(result.stderr.strip().splitlines()[-1])
        return elapsed, peak_kib

    out = os.path.join(work, "tp2dp2")
    no_sync, peak_kib = run_dinfer(out, sync=False)
    dst_files = [os.path.join(out, "rank_%d" % d, "checkpoint_%d.ckpt" % d) for d in range(4)]
    dst_bytes = sum(os.path.getsize(f) for f in dst_files)
    largest = max(os.path.getsize(f) for f in dst_files)

    # cp of the same number of bytes: the source set, copied twice.
    copies = os.path.join(work, "cp")
    shutil.rmtree(copies, ignore_errors=True)
    os.makedirs(copies)
    cp_time = 0.0
    for round_ in range(max(1, round(dst_bytes / src_bytes))):
        cp_time += timed(["cp"] + src_files + [copies + "/"])
        if round_ == 0:
            for f in os.listdir(copies):
                os.rename(os.path.join(copies, f), os.path.join(copies, "a_" + f))
    cp_bytes = sum(os.path.getsize(os.path.join(copies, f)) for f in os.listdir(copies))
    shutil.rmtree(copies)

    with_sync, _ = run_dinfer(out, sync=True)
    probe = os.path.join(work, "dd.bin")
    dd_mib = min(2048, max(256, dst_bytes >> 21))
    dd_time = timed(["dd", "if=/dev/zero", "of=" + probe, "bs=1M", "count=%d" % dd_mib, "conv=fsync"],
                    stderr=subprocess.DEVNULL)
    os.remove(probe)

    numpy_out = os.path.join(work, "numpy")
    shutil.rmtree(numpy_out, ignore_errors=True)
    numpy_time = timed([sys.executable, "-c",
                        "import sys; sys.path.insert(0, %r); import reshard_bench as b; b.numpy_merge_then_split(%r, %r, %d)"
                        % (HERE, src, numpy_out, tensors)])
    shutil.rmtree(numpy_out, ignore_errors=True)

    gib = 1 << 30
    ours = dst_bytes / no_sync
    print("reshard tp8 -> tp2 x dp2: %d source ranks, %.2f GiB read, %d destination files, %.2f GiB written"
          % (8, src_bytes / gib, len(dst_files), dst_bytes / gib))
    print("no sync:   %.2f GiB/s; cp %.2f GiB/s; ratio %.2f (goal >= 0.8)" % (ours / gib, cp_bytes / cp_time / gib,
                                                                           ours / (cp_bytes / cp_time)))
    print("with sync: %.2f GiB/s; disk (dd, fsync) %.2f GiB/s; ratio %.2f"
          % (dst_bytes / with_sync / gib, (dd_mib << 20) / dd_time / gib,
             (dst_bytes / with_sync) / ((dd_mib << 20) / dd_time)))
    print("peak memory: %.1f MiB; largest destination file %.1f MiB; ratio %.3f (goal <= 1.25)"
          % (peak_kib / 1024, largest / (1 << 20), peak_kib * 1024 / largest))
    print("merge-then-split with numpy: %.2f s; dinfer %.2f s; speed-up %.1fx" % (numpy_time, no_sync,
                                                                              numpy_time / no_sync))


def safetensors(args):
    work = args.dir
    os.makedirs(work, exist_ok=True)
    sources = {fmt: write_set(work, args.mib, fmt)[0] for fmt in ("ckpt", "safetensors")}
    extension = {"ckpt": ".ckpt", "safetensors": ".safetensors"}
    files = {fmt: [os.path.join(src, "rank_%d" % r, "checkpoint_%d%s" % (r, extension[fmt])) for r in range(8)]
             for fmt, src in sources.items()}
    for fmt in files:
        subprocess.run(["cat"] + files[fmt], stdout=subprocess.DEVNULL, check=True)  # into the page cache

    def run_dinfer(fmt):
        out = os.path.join(work, "out-" + fmt)
        shutil.rmtree(out, ignore_errors=True)
        command = ["/usr/bin/time", "-f", "%M", dinfer_binary(args.build), "reshard", "--src", sources[fmt],
                   "--src-strategy", os.path.join(work, "tp8.json"), "--dst", out, "--dst-strategy",
                   os.path.join(work, "tp2dp2.json"), "--no-sync", "--format", fmt]
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if result.returncode != 0:
            sys.exit(result.stderr)
        outputs = [os.path.join(out, "rank_%d" % d, "checkpoint_%d%s" % (d, extension[fmt])) for d in range(4)]
        sizes = [os.path.getsize(f) for f in outputs]
        return elapsed, int(result.stderr.strip().splitlines()[-1]) * 1024, sum(sizes), max(sizes)

    def run_cp(fmt, total):
        """cp of `total` bytes from the same sources (whole files, repeated)."""
        copies = os.path.join(work, "cp")
        shutil.rmtree(copies, ignore_errors=True)
        os.makedirs(copies)
        elapsed, copied, round_ = 0.0, 0, 0
        while copied < total:
            target = os.path.join(copies, str(round_))
            os.makedirs(target)
            elapsed += timed(["cp"] + files[fmt] + [target + "/"])
            copied += sum(os.path.getsize(f) for f in files[fmt])
            round_ += 1
        shutil.rmtree(copies)
        return copied / elapsed

    best = {}
    for _ in range(args.repeat):
        for fmt in ("ckpt", "safetensors"):
            elapsed, peak, written, largest = run_dinfer(fmt)
            cp_rate = run_cp(fmt, written)
            ratio = written / elapsed / cp_rate
            previous = best.get(fmt)
            if previous is None or ratio > previous["ratio"]:
                best[fmt] = {"ratio": ratio, "rate": written / elapsed, "cp": cp_rate, "peak": peak,
                             "largest": largest}
            else:
                previous["peak"] = min(previous["peak"], peak)
    gib = 1 << 30
    print("reshard tp8 -> tp2 x dp2, %d MiB per source rank, best of %d, --no-sync" % (args.mib, args.repeat))
    for fmt in ("ckpt", "safetensors"):
        b = best[fmt]
        print("%-12s %.2f GiB/s; cp %.2f GiB/s; ratio %.2f; peak %.1f MiB / largest output %.1f MiB = %.3f"
              % (fmt, b["rate"] / gib, b["cp"] / gib, b["ratio"], b["peak"] / (1 << 20), b["largest"] / (1 << 20),
                 b["peak"] / b["largest"]))
    throughput = best["safetensors"]["ratio"] / best["ckpt"]["ratio"]
    memory = (best["safetensors"]["peak"] / best["safetensors"]["largest"]) / (best["ckpt"]["peak"] /
                                                                              best["ckpt"]["largest"])
    print("safetensors / ckpt: throughput over cp %.2f (goal >= 0.9), peak over largest output %.2f (goal <= 1.1)"
          % (throughput, memory))


# (name, source layout: (dev_matrix, tensor_map, optimizer shard step) or stages of them, destination layout,
#  extra reshard options)
MATRIX = [
    ("row -> row", ([8], [0, -1], 0), ([2], [0, -1]), []),
    ("column -> row", ([8], [-1, 0], 0), ([2], [0, -1]), []),
    ("row -> column", ([8], [0, -1], 0), ([2], [-1, 0]), []),
    ("multi-axis -> single axis", ([2, 4], [1, 0], 0), ([2], [0, -1]), []),
    ("optimizer-sharded -> tensor-parallel", ([2, 4], [-1, 0], 4), ([2], [-1, 0]), []),
    ("pipeline stages merged", "stages", ([2], [-1, 0]), []),
    ("dtype conversion (bf16)", ([8], [-1, 0], 0), ([2], [-1, 0]), ["--dtype", "bfloat16"]),
    ("tp8 -> tp2 x dp2", ([8], [-1, 0], 0), ([2, 2], [-1, 0]), []),
]


def matrix(args):
    work = os.path.join(args.dir, "matrix")
    os.makedirs(work, exist_ok=True)
    rows, tensors = 4096, 8
    cols = (args.mib << 20) // (4 * rows * tensors)
    cols -= cols % 64
    names = ["w%d" % t for t in range(tensors)]
    full = os.path.join(work, "full-%d.ckpt" % cols)
    if not os.path.exists(full):
        with open(full + ".tmp", "wb") as f:
            for t, name in enumerate(names):
                block = np.add.outer(np.arange(rows, dtype=np.float32) * 1e-3,
                                     np.arange(cols, dtype=np.float32) + t).astype(np.float32)
                f.write(encode(name, block, "Float32"))
        os.rename(full + ".tmp", full)
    extension = "." + args.format

    def strategy(path, items):
        with open(path, "w") as f:
            json.dump({"current_stage": 1, "parallel_strategy_item": {}, "parallel_layout_item": items}, f)
        return path

    def source_layout(spec):
        if spec == "stages":
            # Two stages of tensor parallel 4, half the tensors in each.
            return {"%d-%s" % (t * 2 // tensors, name): layout([4], [-1, 0], [rows, cols])
                    for t, name in enumerate(names)}
        dev, tmap, step = spec
        return {name: layout(dev, tmap, [rows, cols], step, -1 if step else 0) for name in names}

    def reshard_command(src, src_strategy, dst, dst_strategy, extra):
        return [dinfer_binary(args.build), "reshard", "--src", src, "--src-strategy", src_strategy, "--dst", dst,
                "--dst-strategy", dst_strategy, "--no-sync"] + extra

    def outputs(folder):
        return sorted(os.path.join(root, f) for root, _, files in os.walk(folder) for f in files
                      if f.endswith(extension))

    gib = 1 << 30
    os.makedirs(args.out, exist_ok=True)
    print("%d MiB per case, sources in %s (page cache), outputs of dinfer and cp in %s, best of %d"
          % (args.mib, work, args.out, args.repeat))
    results = []
    for index, (title, src_spec, (dst_dev, dst_map), extra) in enumerate(MATRIX):
        case = os.path.join(work, "case%d" % index)
        os.makedirs(case, exist_ok=True)
        src_strategy = strategy(os.path.join(case, "src.json"), source_layout(src_spec))
        dst_strategy = strategy(os.path.join(case, "dst.json"),
                                {name: layout(dst_dev, dst_map, [rows, cols]) for name in names})
        src = os.path.join(case, "src-%d-%s" % (cols, args.format))
        if not os.path.isdir(src):
            subprocess.run(reshard_command(full, "none", src + ".tmp", src_strategy, ["--format", args.format]),
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            os.rename(src + ".tmp", src)
        src_files = outputs(src)
        read = sum(os.path.getsize(f) for f in src_files)
        subprocess.run(["cat"] + src_files, stdout=subprocess.DEVNULL, check=True)  # into the page cache
        out = os.path.join(args.out, "out")
        # The fastest of REPEAT runs of each side: first touches of fresh memory in a virtual machine are
        # slow at random, for both.
        dinfer_time = cp_time = float("inf")
        peak = largest = moved = copied = 0
        for _ in range(args.repeat):
            shutil.rmtree(out, ignore_errors=True)
            command = ["/usr/bin/time", "-f", "%M"] + reshard_command(src, src_strategy, out, dst_strategy, extra)
            start = time.perf_counter()
            result = subprocess.run(command, capture_output=True, text=True)
            elapsed = time.perf_counter() - start
            if result.returncode != 0:
                sys.exit("%s: %s" % (title, result.stderr))
            sizes = [os.path.getsize(f) for f in outputs(out)]
            shutil.rmtree(out, ignore_errors=True)
            peak_run = int(result.stderr.strip().splitlines()[-1]) * 1024
            peak = peak_run if not peak else min(peak, peak_run)
            dinfer_time = min(dinfer_time, elapsed)
            largest, moved = max(sizes), max(read, sum(sizes))
            # cp of the same bytes, from the same (cached) source files.
            copies = os.path.join(args.out, "cp")
            elapsed, copied, round_ = 0.0, 0, 0
            while copied < moved:
                target = os.path.join(copies, str(round_))
                os.makedirs(target)
                elapsed += timed(["cp"] + src_files + [target + "/"])
                copied += read
                round_ += 1
            shutil.rmtree(copies)
            cp_time = min(cp_time, elapsed)
        best = {"rate": moved / dinfer_time, "cp": copied / cp_time, "peak": peak / largest, "largest": largest}
        best["ratio"] = best["rate"] / best["cp"]
        shutil.rmtree(out, ignore_errors=True)
        results.append((title, best))
        print("%-38s %5.2f GiB/s, cp %5.2f GiB/s: %.2f of cp (goal >= 0.8); peak RSS %.2f of the largest output "
              "(%.0f MiB; goal <= 1.25)" % (title, best["rate"] / gib, best["cp"] / gib, best["ratio"], best["peak"],
                                            best["largest"] / (1 << 20)), flush=True)
    speeds = [b["ratio"] for _, b in results]
    peaks = [b["peak"] for _, b in results]
    worst_speed = min(results, key=lambda r: r[1]["ratio"])
    worst_peak = max(results, key=lambda r: r[1]["peak"])
    print("throughput over cp: worst %.2f (%s), geometric mean %.2f (goal >= 0.8 for every pair)"
          % (worst_speed[1]["ratio"], worst_speed[0], float(np.exp(np.mean(np.log(speeds))))))
    shutil.rmtree(args.out, ignore_errors=True)
    print("peak RSS over the largest output: worst %.2f (%s), geometric mean %.2f (goal <= 1.25 for every pair)"
          % (worst_peak[1]["peak"], worst_peak[0], float(np.exp(np.mean(np.log(peaks))))))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["plan", "reshard", "safetensors", "matrix"])
    parser.add_argument("--format", choices=["ckpt", "safetensors"], default="ckpt")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    parser.add_argument("--dir", default="/tmp/dinfer-reshard-bench")
    parser.add_argument("--layers", type=int, default=96)
    parser.add_argument("--out", default="/dev/shm/dinfer-reshard-bench" if os.path.isdir("/dev/shm") else None,
                        help="matrix: where dinfer and cp write (default: tmpfs, so that neither waits on the disk)")
    parser.add_argument("--mib", type=int, default=None)
    args = parser.parse_args()
    if args.mib is None:
        args.mib = {"safetensors": 128, "matrix": 1024}.get(args.what, 512)
    if args.what in ("matrix", "plan") and "--repeat" not in sys.argv:
        args.repeat = {"matrix": 5, "plan": 9}[args.what]
    if args.out is None:
        args.out = os.path.join(args.dir, "matrix-out")
    {"plan": plan, "reshard": reshard, "safetensors": safetensors, "matrix": matrix}[args.what](args)


if __name__ == "__main__":
    main()
