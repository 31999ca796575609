"""Compares two .npy files within a float32 tolerance and prints the worst
element: compare_npy.py ACTUAL EXPECTED [--rtol R] [--atol A]
[--atol-of-max F] (F times the expected's largest magnitude added to A)."""
import argparse
import sys

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("actual")
parser.add_argument("expected")
parser.add_argument("--rtol", type=float, default=1e-4)
parser.add_argument("--atol", type=float, default=1e-5)
parser.add_argument("--atol-of-max", type=float, default=0.0)
args = parser.parse_args()
actual, expected = np.load(args.actual), np.load(args.expected)
if args.atol_of_max and expected.size:
    args.atol += args.atol_of_max * float(np.abs(expected.astype(np.float64)).max())
if actual.shape != expected.shape or actual.dtype != expected.dtype:
    sys.exit(f"FAIL: {args.actual} is {actual.dtype}{list(actual.shape)}, expected {expected.dtype}{list(expected.shape)}")
error = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
bound = args.atol + args.rtol * np.abs(expected.astype(np.float64))
worst = float(error.max()) if error.size else 0.0
if not np.all(error <= bound):
    sys.exit(f"FAIL: {args.actual}: max abs error {worst:.3g} exceeds atol {args.atol} + rtol {args.rtol}")
print(f"match {actual.dtype}{list(actual.shape)} max abs error {worst:.3g}")
