#!/usr/bin/python3
"""Writes docs/troubleshooting.md from dinfer's real error messages: every case below is run
against the build (bad inputs made in a temporary folder) and its message is copied into the
page. python/tests/test_docs.py regenerates the page and fails when it differs, so the page
always shows what dinfer prints today.

    /usr/bin/python3 scripts/update-troubleshooting.py [--build build] [--check]
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
PAGE = os.path.join(ROOT, "docs", "troubleshooting.md")
MODEL = os.path.join(ROOT, "test", "models", "gpt_block")

INTRO = """# Troubleshooting

Every message on this page is what dinfer prints today: `scripts/update-troubleshooting.py` makes each bad
input, runs the command and copies its message here, and a test fails when the page and the messages part.
`WORK/` stands for the folder the files were in. Errors go to stderr as `dinfer <command>: error: <message>`
(exit code 1) or `dinfer <command>: <usage>` (exit code 2); the Python package raises `dinfer.DinferError` (or
`dinfer.DinferUsageError`, also a `ValueError`) with the same message. Nothing is written under a final name
when a command fails: outputs are written under a temporary name and renamed when complete.
"""

# (title, command (list, WORK/ and MODEL/ substituted), what it means and what to do)
CASES = [
    ("A training rank's checkpoint is missing",
     ["export", "--model", "MODEL/model.onnx", "--train-strategy", "WORK/train.json", "--ckpt-dir",
      "WORK/train_missing", "--input", "x=2,32,128", "--device-num", "4", "-o", "WORK/out2"],
     "The checkpoint set needs one `rank_<i>/` folder per training rank (stages x the device matrix of the "
     "strategy file). Copy the missing rank's checkpoint, or give the files in rank order with "
     "`dinfer reshard --src-list`."),
    ("A checkpoint set that does not match the strategy file",
     ["reshard", "--src", "WORK/train", "--src-strategy", "WORK/train4.json", "--dst", "WORK/merged.ckpt",
      "--dst-strategy", "none"],
     "The strategy file is not the one the checkpoints were saved with (another device count or another "
     "layout). Use the training run's own strategy file (`strategy_ckpt_save_file`), merged with "
     "`dinfer merge-strategy` for a pipeline-parallel run."),
    ("A truncated checkpoint",
     ["inspect", "WORK/truncated.ckpt"],
     "The file ends inside a tensor: it was cut by a copy or a full disk. Copy it again from the training "
     "machine; `dinfer inspect` tells which files of a set are whole."),
    ("A file that is not a strategy file",
     ["layout", "--model", "MODEL/model.onnx", "--train-strategy", "MODEL/x.npy", "--input", "x=2,32,128"],
     "`--train-strategy` takes MindSpore's strategy file (protobuf, as `strategy_ckpt_save_file` writes it, "
     "or JSON)."),
    ("A predict input of the wrong shape",
     ["run", "MODEL/model.onnx", "--input", "x=WORK/x_wrong.npy"],
     "The input's shape or dtype differs from what the model takes; the message gives both."),
    ("A predict input that is not given",
     ["run", "MODEL/model.onnx"],
     "Every graph input needs `--input NAME=FILE.npy` (in Python: one array per input, in order)."),
    ("A device count the training layout cannot be adapted to",
     ["layout", "--model", "MODEL/model.onnx", "--train-strategy", "WORK/train.json", "--input", "x=2,32,128",
      "--device-num", "3"],
     "The inference devices are split into pipeline stages of equal size; choose a device count that the "
     "stage count divides (or pass `--pipeline-stages`)."),
    ("An export folder changed after the export",
     ["run", "WORK/out_changed", "--input", "x=MODEL/x.npy"],
     "Every file of an export is checked against the sha256 in `manifest.json` before anything runs. The file "
     "was modified or damaged in transit: copy the export again, or export again."),
    ("A predict strategy from another layout",
     ["export", "--model", "MODEL/model.onnx", "--train-strategy", "WORK/train.json", "--ckpt-dir", "WORK/train",
      "--input", "x=2,32,128", "--device-num", "4", "--predict-strategy", "WORK/predict2.ckpt", "-o", "WORK/out3"],
     "`--predict-strategy` must be what `dinfer layout -o` wrote for the same model, inputs, device and stage "
     "counts; drop it to use the layout the export derives itself."),
    ("Pipeline stage files of two formats",
     ["merge-strategy", "WORK/mixed", "-o", "WORK/merged_strategy.ckpt"],
     "A folder of per-stage strategy files holds either `.ckpt` (protobuf) or `.json` files; move the others "
     "away."),
    ("A tensor-parallel size that does not divide the devices",
     ["strategy", "--model", "MODEL/model.onnx", "--device-num", "8", "--preset", "megatron:tp=3",
      "-o", "WORK/bad.json"],
     "tp x dp x pipeline stages must equal the device count."),
    ("An encrypted checkpoint without its key",
     ["inspect", "WORK/encrypted.ckpt"],
     "MindSpore's encrypted checkpoints and MindIR (AES-GCM, AES-CBC, SM4-CBC) need the key: `--key-file FILE` "
     "(the raw 16, 24 or 32 key bytes) or `DINFER_KEY_FILE`, and `--key-mode` when it is not AES-GCM."),
    ("A damaged safetensors file",
     ["reshard", "--src", "WORK/train_st", "--src-strategy", "WORK/train.json", "--dst", "WORK/merged.safetensors",
      "--dst-strategy", "none"],
     "dinfer writes a SHA-256 of each safetensors file's data into its header (`__metadata__`, "
     "`dinfer_sha256`; other readers ignore it) and checks it before any byte is used. The file changed after "
     "it was written: copy it again from where it was made."),
    ("A Hugging Face folder whose index does not match its shards",
     ["reshard", "--src", "WORK/hf_bad", "--src-strategy", "none", "--dst", "WORK/x.ckpt", "--dst-strategy", "none"],
     "`model.safetensors.index.json` names the shard of every tensor; a shard was replaced or renamed. Fix the "
     "`weight_map` entry or copy the folder again."),
    ("A file that is not a model",
     ["run", "MODEL/x.npy", "--input", "x=MODEL/x.npy"],
     "`dinfer run` takes an ONNX or MindIR model, or an export folder."),
]

PYTHON_CASES = [
    ("Python: infer_predict_layout without full-batch inputs",
     "dinfer.infer_predict_layout(dinfer.Model('MODEL/model.onnx'), numpy.zeros((2, 32, 128), numpy.float32))",
     "As in MindSpore, the predict layout is for full-batch inputs: "
     "`set_auto_parallel_context(full_batch=True, ...)`."),
    ("Python: no training strategy in the context",
     "dinfer.set_auto_parallel_context(full_batch=True); "
     "dinfer.infer_predict_layout(dinfer.Model('MODEL/model.onnx'), numpy.zeros((2, 32, 128), numpy.float32))",
     "`set_auto_parallel_context(strategy_ckpt_load_file=FILE)` names the training strategy file."),
    ("Python: an encrypted checkpoint read with a wrong key",
     "dinfer.load_checkpoint('WORK/encrypted.ckpt', dec_key=b'0123456789ABCDEX')",
     "The key (or `dec_mode`) is not the one the file was encrypted with; AES-GCM files carry an "
     "authentication tag, so a wrong key is always caught."),
]


def prepare(work, dinfer):
    def run(*args):
        subprocess.run([dinfer] + list(args), check=True, capture_output=True)

    model = os.path.join(MODEL, "model.onnx")
    run("convert", model, f"{work}/full.mindir", "--weights", f"{work}/full.ckpt")
    run("strategy", "--model", model, "--device-num", "8", "--pipeline-stages", "2", "--preset",
        "megatron:tp=2,opt-shard", "-o", f"{work}/train.json")
    run("strategy", "--model", model, "--device-num", "4", "--preset", "megatron:tp=4", "-o", f"{work}/train4.json")
    run("reshard", "--src", f"{work}/full.ckpt", "--src-strategy", "none", "--dst-strategy", f"{work}/train.json",
        "--dst", f"{work}/train")
    shutil.copytree(f"{work}/train", f"{work}/train_missing")
    shutil.rmtree(f"{work}/train_missing/rank_3")
    with open(f"{work}/train/rank_0/checkpoint_0.ckpt", "rb") as f:
        data = f.read()
    with open(f"{work}/truncated.ckpt", "wb") as f:
        f.write(data[: len(data) // 2])
    import numpy
    numpy.save(f"{work}/x_wrong.npy", numpy.zeros((2, 32, 64), numpy.float32))
    run("export", "--model", model, "--train-strategy", f"{work}/train.json", "--ckpt-dir", f"{work}/train",
        "--input", "x=2,32,128", "--device-num", "4", "-o", f"{work}/out_changed")
    with open(f"{work}/out_changed/rank_1/net.mindir", "r+b") as f:
        f.seek(100)
        byte = f.read(1)
        f.seek(100)
        f.write(bytes([byte[0] ^ 1]))
    run("layout", "--model", model, "--train-strategy", f"{work}/train.json", "--input", "x=2,32,128",
        "--device-num", "2", "-o", f"{work}/predict2.ckpt")
    with open(f"{work}/key", "wb") as f:
        f.write(b"0123456789ABCDEF")
    run("convert", model, f"{work}/enc.mindir", "--weights", f"{work}/encrypted.ckpt", "--key-file", f"{work}/key",
        "--encrypt-output")
    run("reshard", "--src", f"{work}/full.ckpt", "--src-strategy", "none", "--dst-strategy", f"{work}/train.json",
        "--dst", f"{work}/train_st", "--format", "safetensors")
    with open(f"{work}/train_st/rank_2/checkpoint_2.safetensors", "r+b") as f:
        f.seek(-1, os.SEEK_END)
        byte = f.read(1)
        f.seek(-1, os.SEEK_END)
        f.write(bytes([byte[0] ^ 1]))
    run("reshard", "--src", f"{work}/full.ckpt", "--src-strategy", "none", "--dst", f"{work}/hf_bad",
        "--dst-strategy", "none", "--max-shard-size", "256K")
    index = f"{work}/hf_bad/model.safetensors.index.json"
    with open(index) as f:
        text = f.read()
    with open(index, "w") as f:
        f.write(text.replace('"down.bias": "model-00001', '"down.bias": "model-00002'))
    os.makedirs(f"{work}/mixed")
    shutil.copy(f"{ROOT}/test/tools/dinfer/Inputs/stage0.json", f"{work}/mixed/stage0.json")
    run("strategy", "--model", model, "--device-num", "2", "--preset", "megatron:tp=2",
        "-o", f"{work}/mixed/stage1.ckpt")


def render(build):
    dinfer = os.path.join(build, "bin", "dinfer")
    sections = [INTRO]
    with tempfile.TemporaryDirectory(prefix="dinfer-troubleshooting-") as work:
        prepare(work, dinfer)

        def normalize(text):
            return text.replace(work, "WORK").replace(MODEL, "MODEL").replace(ROOT + "/", "")

        for title, command, advice in CASES:
            args = [a.replace("WORK", work).replace("MODEL", MODEL) for a in command]
            result = subprocess.run([dinfer] + args, capture_output=True, text=True, cwd=work)
            if result.returncode == 0:
                raise SystemExit(f"case '{title}' did not fail: dinfer {' '.join(command)}")
            lines = [l for l in result.stderr.splitlines() if "error" in l or l.startswith("dinfer")]
            message = normalize("\n".join(lines[-2:]))
            sections.append(f"## {title}\n\n```\n$ dinfer {' '.join(command)}\n{message}\n(exit code "
                            f"{result.returncode})\n```\n\n{advice}\n")
        for title, code, advice in PYTHON_CASES:
            script = ("import numpy, dinfer\ndinfer.set_verbose(False)\ntry:\n    "
                      + code.replace("MODEL", MODEL).replace("WORK", work).replace("; ", "\n    ")
                      + "\nexcept dinfer.DinferError as e:\n    print(type(e).__name__ + ': ' + str(e))\n")
            env = dict(os.environ, PYTHONPATH=os.path.join(build, "python"))
            result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=work)
            message = normalize(result.stdout.strip() or result.stderr.strip().splitlines()[-1])
            sections.append(f"## {title}\n\n```\n>>> {code}\n{message}\n```\n\n{advice}\n")
    return "\n".join(sections)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=os.environ.get("DINFER_BUILD_DIR", os.path.join(ROOT, "build")))
    parser.add_argument("--check", action="store_true", help="exit 1 when the page is not current")
    args = parser.parse_args()
    text = render(os.path.abspath(args.build))
    if args.check:
        current = open(PAGE).read() if os.path.exists(PAGE) else ""
        if current != text:
            sys.stderr.write("docs/troubleshooting.md is not current: run scripts/update-troubleshooting.py\n")
            return 1
        return 0
    with open(PAGE + ".tmp", "w") as f:
        f.write(text)
    os.replace(PAGE + ".tmp", PAGE)
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
