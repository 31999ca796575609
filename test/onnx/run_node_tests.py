#!/usr/bin/env python3
"""Imports every ONNX node test of libonnx-testdata with dinfer-translate.

For each test: the op types it uses (from `dinfer inspect --json`), then
`dinfer-translate --import-onnx`, whose output must verify. A test whose ops
the importer supports must import, or be refused with a clear error that names
the node (an attribute or a dynamic shape the nn dialect cannot express); a
test with other ops must be refused naming the op. Nothing may crash.

Prints the ops covered and a summary; exits 1 on any crash, unclear error, or
fewer imports than --min-imported.
"""
import argparse
import concurrent.futures
import json
import os
import subprocess
import sys


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def check(test_dir, bin_dir, supported):
    model = os.path.join(test_dir, "model.onnx")
    name = os.path.basename(test_dir)
    inspect = run([os.path.join(bin_dir, "dinfer"), "inspect", "--json", model])
    if inspect.returncode != 0:
        return name, "inspect-failed", [], inspect.stderr.strip()
    summary = json.loads(inspect.stdout)
    ops = sorted({n["op_type"] for n in summary["nodes"]})
    # The test's own input data, for inputs the program needs as constants.
    values = []
    for i, value in enumerate(summary["inputs"]):
        data = os.path.join(test_dir, "test_data_set_0", "input_%d.pb" % i)
        if os.path.isfile(data):
            values.append("--input-value=%s=%s" % (value["name"], data))
    result = run([os.path.join(bin_dir, "dinfer-translate"), "--import-onnx", model] + values)
    if result.returncode < 0 or result.returncode > 1:
        return name, "crash", ops, "exit %d: %s" % (result.returncode, result.stderr.strip()[-300:])
    errors = [l for l in result.stderr.splitlines() if ": error: " in l]
    if result.returncode == 0:
        if errors:
            return name, "unclear", ops, "exit 0 with errors: " + errors[0]
        verify = subprocess.run([os.path.join(bin_dir, "dinfer-opt"), "--verify-each"], input=result.stdout,
                                capture_output=True, text=True, timeout=120)
        if verify.returncode != 0:
            return name, "invalid-ir", ops, verify.stderr.strip()[-300:]
        if not RUN:
            return name, "imported", ops, ""
        # Run it on the test's data and compare with the expected outputs.
        data = os.path.join(test_dir, "test_data_set_0")
        inputs = ["--input=%s=%s" % (v["name"], os.path.join(data, "input_%d.pb" % i))
                  for i, v in enumerate(summary["inputs"])]
        expects = ["--expect=%s=%s" % (v["name"], os.path.join(data, "output_%d.pb" % i))
                   for i, v in enumerate(summary["outputs"]) if os.path.isfile(os.path.join(data, "output_%d.pb" % i))]
        out_dir = os.path.join(WORK, name)
        ran = run([os.path.join(bin_dir, "dinfer"), "run", model, "--output-dir", out_dir] + inputs + expects)
        if ran.returncode < 0 or ran.returncode > 1:
            return name, "crash", ops, "dinfer run: exit %d: %s" % (ran.returncode, ran.stderr.strip()[-300:])
        if ran.returncode == 0:
            return name, "ran", ops, ""
        return name, "differs" if "DIFFERS" in ran.stderr else "run-error", ops, ran.stderr.strip()[-300:]
    if len(errors) != 1:
        return name, "unclear", ops, result.stderr.strip()[-300:]
    message = errors[0]
    reasons = ["unsupported", "not supported", "does not support", "must be", "is not a tensor",
               "dynamic dimension", "needs"]
    if not any(r in message for r in reasons):
        return name, "unclear", ops, message
    unsupported = [op for op in ops if op not in supported]
    return name, "refused-op" if unsupported else "refused", ops, message


RUN = False
WORK = "/tmp/dinfer-onnx-node-tests"


def main():
    global RUN, WORK
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--data", default="/usr/share/libonnx-testdata/data/node")
    parser.add_argument("--min-imported", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--run", action="store_true", help="also run every imported test and compare its outputs")
    parser.add_argument("--min-ran", type=int, default=0)
    parser.add_argument("--work", default=WORK)
    args = parser.parse_args()
    RUN, WORK = args.run, args.work

    supported = set(run([os.path.join(args.bin, "dinfer-translate"), "--list-onnx-ops"]).stdout.split())
    if not supported:
        print("dinfer-translate --list-onnx-ops printed nothing", file=sys.stderr)
        return 1
    tests = sorted(os.path.join(args.data, d) for d in os.listdir(args.data)
                   if os.path.isfile(os.path.join(args.data, d, "model.onnx")))
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda t: check(t, args.bin, supported), tests))

    by_status = {}
    covered = {}
    for name, status, ops, message in results:
        by_status.setdefault(status, []).append((name, ops, message))
        if status in ("imported", "ran"):
            for op in ops:
                covered[op] = covered.get(op, 0) + 1
    print("ONNX node tests: %d" % len(results))
    for status in ["imported", "ran", "differs", "run-error", "refused", "refused-op", "inspect-failed", "invalid-ir",
                   "unclear", "crash"]:
        print("  %-14s %d" % (status, len(by_status.get(status, []))))
    print("ops covered by imported tests (%d of %d supported):" % (len(covered), len(supported)))
    print("  " + " ".join("%s(%d)" % (op, n) for op, n in sorted(covered.items())))
    missing = sorted(supported - set(covered))
    if missing:
        print("supported ops no test imported: " + " ".join(missing))
    show = ["differs", "run-error", "refused", "inspect-failed", "invalid-ir", "unclear", "crash"] + \
        (["refused-op"] if args.verbose else [])
    if RUN:
        print("ran and matched: " + " ".join(sorted(n for n, *_ in by_status.get("ran", []))))
    for status in show:
        for name, ops, message in by_status.get(status, []):
            print("%s %s [%s]: %s" % (status, name, ",".join(ops), message))

    failures = sum(len(by_status.get(s, [])) for s in ["inspect-failed", "invalid-ir", "unclear", "crash"])
    imported = len(by_status.get("imported", [])) + len(by_status.get("ran", [])) + \
        len(by_status.get("differs", [])) + len(by_status.get("run-error", []))
    if RUN and len(by_status.get("ran", [])) < args.min_ran:
        print("FAIL: %d tests ran and matched, fewer than the %d expected" % (len(by_status.get("ran", [])),
                                                                            args.min_ran))
        return 1
    if imported < args.min_imported:
        print("FAIL: %d imported, fewer than the %d expected" % (imported, args.min_imported))
        return 1
    if failures:
        print("FAIL: %d tests crashed, failed to verify or gave an unclear error" % failures)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
