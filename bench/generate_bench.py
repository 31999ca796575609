#!/usr/bin/python3
"""Greedy generation: `dinfer generate` against ONNX Runtime's greedy loop.

    /usr/bin/python3 bench/generate_bench.py [--work DIR] [--threads T] [--repeat R] [--only NAME,...]

For each LLaMA-style decoder of the matrix below (bench/model_zoo.py's
build_llama_cached: RMSNorm, rotary positions, grouped-query attention,
SiLU-gated MLP; exported by torch with symbolic batch, sequence and past
length), prompt shape and new-token count: `dinfer generate --json` and
bench/ort/generate_ort.js (onnxruntime-node, `present` fed back as `past`)
on the same prompt and threads, one after the other, best of R each. Prints
per case whether the tokens agree (and with torch's own greedy loop), both
tokens per second and dinfer / ORT; then the worst case and the geometric
mean. Goal (issue 22): >= 1.0 on one device.

Then tensor parallelism across processes (--mpi, on when mpirun is found):
a decoder large enough for the products to dominate (hidden 1024) is trained
by the Megatron preset on 2 ranks (dinfer strategy, convert, reshard), exported
for generation (dinfer export --max-length) for 1 and for 2 ranks, and
`dinfer generate OUT --json --threads 1` runs as one process and as
`mpirun -np 2` (one kernel thread each). Prints both tokens per second and
2 processes / 1. Goal (issue 22): >= 1.5.

Needs python3-torchvision's torch (export, the reference tokens) and
`npm install` in bench/ort. Exported models stay in --work.
"""
import argparse
import json
import math
import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))

# name: (decoder sizes, (batch, prompt length), new tokens)
CASES = {
    "tiny-b2": (dict(vocab=256, d=64, heads=4, kv_heads=2, ffn=160, layers=2), (2, 5), 32),
    "small-b1": (dict(vocab=4096, d=256, heads=8, kv_heads=2, ffn=688, layers=4), (1, 16), 64),
    "small-b4": (dict(vocab=4096, d=256, heads=8, kv_heads=2, ffn=688, layers=4), (4, 16), 64),
    "medium-b1": (dict(vocab=8192, d=512, heads=8, kv_heads=4, ffn=1376, layers=4), (1, 32), 64),
    "long-prompt": (dict(vocab=4096, d=256, heads=8, kv_heads=2, ffn=688, layers=4), (1, 128), 32),
}


# Across processes: (decoder sizes, (batch, prompt length), new tokens)
TP_CASES = {
    "large-b1": (dict(vocab=8192, d=1024, heads=16, kv_heads=8, ffn=2816, layers=4), (1, 32), 64),
    "large-b4": (dict(vocab=8192, d=1024, heads=16, kv_heads=8, ffn=2816, layers=4), (4, 32), 32),
}


def export(name, folder, cases=CASES):
    sizes, shape, new_tokens = cases[name]
    model_path, prompt_path, tokens_path = (os.path.join(folder, f) for f in ("model.onnx", "prompt.npy", "torch.npy"))
    if all(os.path.exists(p) for p in (model_path, prompt_path, tokens_path)):
        return model_path, prompt_path, np.load(tokens_path), sizes
    import torch
    from model_zoo import build_llama_cached
    torch.manual_seed(1234)
    model = build_llama_cached(**sizes).eval()
    prompt = torch.randint(0, sizes["vocab"], shape, generator=torch.Generator().manual_seed(7))
    tokens = model.greedy(prompt, new_tokens).numpy()
    os.makedirs(folder, exist_ok=True)
    model.export(model_path)
    np.save(prompt_path, prompt.numpy())
    np.save(tokens_path, tokens)
    return model_path, prompt_path, tokens, sizes


def best_of(repeat, command):
    best = None
    for _ in range(repeat):
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines()
            return None, lines[-1] if lines else "exit %d" % done.returncode
        result = json.loads(done.stdout.strip().splitlines()[-1])
        if best is None or result["tokens_per_s"] > best["tokens_per_s"]:
            best = result
    return best, None


def run(command):
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(" ".join(map(str, command[:3])) + ": " + (done.stderr or done.stdout).strip()[-400:])
    return done


def tensor_parallel(args, names):
    """2 tensor-parallel processes under mpirun against one process, on
    generation exports of the same training run. Returns the ratios."""
    ratios = []
    print()
    print("%-12s %-9s %-6s %-7s %12s %12s %8s" % ("case", "prompt", "new", "tokens", "1 proc tok/s",
                                                  "2 proc tok/s", "2 / 1"))
    for name in names:
        folder = os.path.join(args.work, "tp-" + name)
        model, prompt, reference, sizes = export(name, folder, TP_CASES)
        (batch, length), new_tokens = TP_CASES[name][1], TP_CASES[name][2]
        head_dim = sizes["d"] // sizes["heads"]
        specs = ["input_ids=%d,%d:int64" % (batch, length), "attention_mask=%d,%d:int64" % (batch, length),
                 "position_ids=%d,%d:int64" % (batch, length)]
        specs += ["past_key_values.%d.%s=%d,%d,0,%d" % (i, kind, batch, sizes["kv_heads"], head_dim)
                  for i in range(sizes["layers"]) for kind in ("key", "value")]
        flags = [a for spec in specs for a in ("--input", spec)]
        work = lambda *parts: os.path.join(folder, *parts)  # noqa: E731
        try:
            if not os.path.exists(work("out-2", "manifest.json")):
                run([args.dinfer, "strategy", "--model", model, "--device-num", "2", "--preset", "megatron:tp=2",
                     *flags, "-o", work("train.json")])
                run([args.dinfer, "convert", model, work("full.mindir"), "--weights", work("full.ckpt"), *flags])
                run([args.dinfer, "reshard", "--src", work("full.ckpt"), "--src-strategy", "none", "--dst-strategy",
                     work("train.json"), "--dst", work("train")])
                for devices in (1, 2):
                    run([args.dinfer, "export", "--model", model, "--train-strategy", work("train.json"),
                         "--ckpt-dir", work("train"), "--input", "input_ids=%d,%d" % (batch, length),
                         "--max-length", str(length + new_tokens), "--device-num", str(devices), "--no-sync",
                         "-o", work("out-%d" % devices)])
                os.remove(work("full.ckpt"))
                os.remove(work("full.mindir"))
        except RuntimeError as error:
            print("%-12s error: %s" % (name, error))
            continue
        common = ["--input-ids", prompt, "--max-new-tokens", str(new_tokens), "--json", "--threads", "1"]
        one, error = best_of(args.repeat, [args.dinfer, "generate", work("out-1"), *common])
        two, two_error = best_of(args.repeat, ["mpirun", "--allow-run-as-root", "-np", "2", args.dinfer, "generate",
                                               work("out-2"), *common])
        shape = "%dx%d" % (batch, length)
        if error or two_error:
            print("%-12s %-9s %-6d error: %s" % (name, shape, new_tokens, error or "mpirun: " + two_error))
            continue
        agree = one["tokens"] == two["tokens"] == reference.tolist()
        ratio = two["tokens_per_s"] / one["tokens_per_s"]
        ratios.append(ratio)
        print("%-12s %-9s %-6d %-7s %12.1f %12.1f %8.2f" % (name, shape, new_tokens, "same" if agree else "DIFFER",
                                                           one["tokens_per_s"], two["tokens_per_s"], ratio))
    if ratios:
        print("2 tensor-parallel processes (mpirun, 1 kernel thread each) over 1 process: geometric mean %.2fx, "
              "worst %.2fx (goal >= 1.5)" % (math.exp(sum(map(math.log, ratios)) / len(ratios)), min(ratios)))
    return ratios


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", default="/tmp/dinfer-generate")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="")
    parser.add_argument("--dinfer", default=os.path.join(ROOT, "build", "bin", "dinfer"))
    parser.add_argument("--mpi", choices=("auto", "on", "off"), default="auto",
                        help="also the 2-process tensor-parallel cases (auto: when mpirun is found)")
    args = parser.parse_args()
    only = [n for n in args.only.split(",") if n]
    names = [n for n in only if n in CASES] if only else list(CASES)
    tp_names = [n for n in only if n in TP_CASES] if only else list(TP_CASES)
    ratios, failed = [], 0
    print("%-12s %-9s %-6s %-7s %12s %12s %8s" % ("case", "prompt", "new", "tokens", "dinfer tok/s", "ORT tok/s",
                                                  "dinfer/ORT"))
    for name in names:
        model, prompt, reference, sizes = export(name, os.path.join(args.work, name))
        new_tokens = CASES[name][2]
        head_dim = sizes["d"] // sizes["heads"]
        ours, error = best_of(args.repeat, [args.dinfer, "generate", model, "--input-ids", prompt, "--max-new-tokens",
                                            str(new_tokens), "--json", "--threads", str(args.threads)])
        ort, ort_error = best_of(args.repeat, ["node", os.path.join(ROOT, "bench", "ort", "generate_ort.js"), model,
                                               prompt, str(new_tokens), str(args.threads), str(sizes["kv_heads"]),
                                               str(head_dim)])
        shape = "x".join(map(str, np.load(prompt).shape))
        if error or ort_error:
            print("%-12s %-9s %-6d error: %s" % (name, shape, new_tokens, error or "ORT: " + ort_error))
            failed += 1
            continue
        agree = ours["tokens"] == ort["tokens"] == reference.tolist()
        failed += not agree
        ratio = ours["tokens_per_s"] / ort["tokens_per_s"]
        ratios.append(ratio)
        print("%-12s %-9s %-6d %-7s %12.1f %12.1f %8.2f" % (name, shape, new_tokens, "same" if agree else "DIFFER",
                                                           ours["tokens_per_s"], ort["tokens_per_s"], ratio))
    if ratios:
        print("dinfer generate over ONNX Runtime (threads %d): geometric mean %.2fx, worst %.2fx (goal >= 1.0)" %
              (args.threads, math.exp(sum(map(math.log, ratios)) / len(ratios)), min(ratios)))
    import shutil
    if tp_names and (args.mpi == "on" or (args.mpi == "auto" and shutil.which("mpirun"))):
        failed += len(tp_names) - len(tensor_parallel(args, tp_names))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
