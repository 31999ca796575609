"""Checks that a partition report page names every rank, parameter and
collective kind of its report.json; prints a one-line summary."""
import html
import json
import sys

report = json.load(open(sys.argv[1]))
page = html.unescape(open(sys.argv[2], encoding="utf-8").read())
missing = []
for rank in report["ranks"]:
    if ">rank %d<" % rank["rank"] not in page:
        missing.append("rank %d" % rank["rank"])
for param in report["params"]:
    if param["name"] not in page:
        missing.append("parameter " + param["name"])
kinds = sorted({c["kind"] for r in report["ranks"] for c in r["collectives"]})
for kind in kinds:
    if kind not in page:
        missing.append("kind " + kind)
if "<script src" in page or "<link" in page or "http://" in page or "https://" in page:
    missing.append("something loaded from outside the page")
if len(open(sys.argv[2], "rb").read()) >= 8 << 20:
    missing.append("a page under 8 MiB")
if missing:
    print("missing from the page: " + ", ".join(missing))
    sys.exit(1)
print("%d ranks, %d parameters, kinds %s: all in the page" % (len(report["ranks"]), len(report["params"]),
                                                              " ".join(kinds)))
busiest = max(report["ranks"], key=lambda r: r["sent_bytes"])
largest = max(report["ranks"], key=lambda r: r["weight_bytes"] + r["peak_activation_bytes"])
print("busiest rank %d, largest rank %d" % (busiest["rank"], largest["rank"]))
