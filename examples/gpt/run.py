#!/usr/bin/python3
"""The seed's flow end to end on a small GPT, with dinfer's Python API.

Training (simulated here; a MindSpore run leaves the same files): 8 devices, data parallel 2 x
tensor parallel 2 x pipeline 2, optimizer sharding; one checkpoint slice per rank and the
training strategy file. Inference: 4 devices in one stage, another layout. The predict layout,
the distributed checkpoint loaded into it, one MindIR per rank, a run of all ranks, and the
comparison with torch's own logits.

    examples/gpt/run.sh            # builds dinfer first, then runs this
    PYTHONPATH=build/python /usr/bin/python3 examples/gpt/run.py [--work DIR] [--devices 4] [--stages 1]
"""

import argparse
import json
import os
import resource
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "build", "python"))
import dinfer  # noqa: E402

TRAIN_DEVICES, TRAIN_STAGES, TRAIN_PRESET = 8, 2, "megatron:tp=2,dp=2,opt-shard"


def peak_rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def size(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def mib(n):
    for unit, scale in (("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n} B"


def describe(layouts):
    """'n split, m replicated (k optimizer-sharded)' from {name: dev_matrix, tensor_map, opt}."""
    split = sum(1 for dm, tm, _ in layouts.values() if any(m != -1 for m in tm))
    opt = sum(1 for _, _, o in layouts.values() if o)
    text = f"{split} split, {len(layouts) - split} replicated"
    return text + (f", {opt} optimizer-sharded" if opt else "")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", help="keep the files here (default: a temporary folder)")
    parser.add_argument("--devices", type=int, default=4, help="inference devices (default 4)")
    parser.add_argument("--stages", type=int, default=1, help="inference pipeline stages (default 1)")
    parser.add_argument("--tolerance", type=float, default=1e-4, help="largest allowed |dinfer - torch|")
    args = parser.parse_args()

    work_holder = None
    if args.work:
        work = os.path.abspath(args.work)
        os.makedirs(work, exist_ok=True)
    else:
        work_holder = tempfile.TemporaryDirectory(prefix="dinfer-gpt-")
        work = work_holder.name
    model = os.path.join(HERE, "model.onnx")
    x, y_torch = np.load(os.path.join(HERE, "x.npy")), np.load(os.path.join(HERE, "y.npy"))
    rows = []

    def step(name, layout, function, measure=None):
        start = time.perf_counter()
        result = function()
        seconds = time.perf_counter() - start
        rows.append((name, layout, measure() if measure else "", f"{seconds:.3f} s", mib(peak_rss())))
        print(f"== {name}: {seconds:.3f} s", flush=True)
        return result

    dinfer.set_verbose(False)
    print(f"GPT example: {model}\n  input ids {list(x.shape)}, torch logits {list(y_torch.shape)}\n  work: {work}")

    # 1. The training run's files: the strategy file and one checkpoint per rank.
    train_strategy = os.path.join(work, "train_strategy.ckpt")
    full = os.path.join(work, "full", "rank_0", "full.ckpt")
    os.makedirs(os.path.dirname(full), exist_ok=True)
    step("training strategy", f"{TRAIN_DEVICES} devices: {TRAIN_PRESET}, {TRAIN_STAGES} stages",
         lambda: dinfer.run_command("strategy", "--model", model, "--device-num", TRAIN_DEVICES, "--pipeline-stages",
                                    TRAIN_STAGES, "--preset", TRAIN_PRESET, "-o", train_strategy),
         lambda: mib(size(train_strategy)))
    step("training weights", "1 device", lambda: dinfer.run_command("convert", model, os.path.join(work, "full.mindir"),
                                                                    "--weights", full),
         lambda: mib(size(full)))
    train_dir = os.path.join(work, "train")
    step("training checkpoints", f"{TRAIN_DEVICES} ranks",
         lambda: dinfer.transform_checkpoints(os.path.join(work, "full"), train_dir, "checkpoint_", None,
                                              train_strategy),
         lambda: mib(size(train_dir)))
    trained = dinfer.build_searched_strategy(train_strategy)
    train_layouts = {n: (l.dev_matrix, l.tensor_map, l.opt_weight_shard_step != 0) for n, l in trained.items()}
    files = [os.path.join(train_dir, f"rank_{r}", f"checkpoint_{r}.ckpt") for r in range(TRAIN_DEVICES)]

    # 2. The predict layout for the inference devices.
    dinfer.set_auto_parallel_context(parallel_mode="semi_auto_parallel", device_num=args.devices,
                                     pipeline_stages=args.stages, full_batch=True,
                                     strategy_ckpt_load_file=train_strategy)
    net = dinfer.Model(model)
    layout = step("infer_predict_layout", f"{args.devices} devices, {args.stages} stage(s)",
                  lambda: dinfer.infer_predict_layout(net, x))
    predict_layouts = {n: (t[0], t[1], bool(t[5])) for n, t in layout.items()}

    # 3. The distributed checkpoint, merged and re-split to the predict layout.
    step("load_distributed_checkpoint", f"{len(files)} -> {args.devices} ranks",
         lambda: dinfer.load_distributed_checkpoint(net, files, layout),
         lambda: mib(size(net._loaded[1])))

    # 4. One MindIR per rank.
    out = os.path.join(work, "export")
    step("export", f"{args.devices} x MindIR", lambda: dinfer.export(net, x, file_name=out),
         lambda: mib(size(out)))

    # 5. All ranks run together, and the single device for reference.
    y = step("predict (distributed)", f"{args.devices} ranks, threads", lambda: dinfer.predict(net, x))
    dinfer.reset_auto_parallel_context()
    y_single = step("predict (1 device)", "1 device", lambda: dinfer.predict(dinfer.Model(model), x))

    with open(os.path.join(out, "manifest.json")) as f:
        manifest = json.load(f)
    difference = float(np.max(np.abs(y - y_torch)))
    single_difference = float(np.max(np.abs(y - y_single)))

    print()
    print(f"training layout: {TRAIN_DEVICES} devices, {TRAIN_STAGES} stages: {describe(train_layouts)} "
          f"({len(train_layouts)} layout items)")
    print(f"predict layout:  {args.devices} devices, {args.stages} stage(s): {describe(predict_layouts)} "
          f"({len(predict_layouts)} parameters)")
    print(f"export: {len(manifest['ranks'])} ranks, "
          f"{sum(len(r['files']) for r in manifest['ranks'])} files with sha256 in manifest.json")
    print()
    widths = [max(len(str(r[i])) for r in rows + [("step", "layout", "bytes", "time", "peak RSS")]) for i in range(5)]
    header = ("step", "layout", "bytes", "time", "peak RSS")
    for row in [header] + rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths)))
    print()
    print(f"largest difference from torch:        {difference:.3e} (tolerance {args.tolerance:g})")
    print(f"largest difference from 1 device:     {single_difference:.3e}")
    ok = difference <= args.tolerance and np.allclose(y, y_torch, rtol=1e-3, atol=1e-5)
    print("result: " + ("the distributed run matches torch within float32 tolerance" if ok else "MISMATCH"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
