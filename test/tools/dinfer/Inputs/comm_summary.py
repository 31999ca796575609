"""Prints, from `dinfer layout --comm --json`, one line per stage: the
collectives of the stage's first rank by kind and the bytes it sends, and
checks that every rank of a stage issues the same ones."""
import json
import sys

comm = json.load(open(sys.argv[1]))
label = sys.argv[2]
stages = {}
for rank in comm["ranks"]:
    kinds = {}
    for c in rank["collectives"]:
        key = "%s/%d" % (c["kind"], c["group_size"])
        kinds[key] = kinds.get(key, 0) + 1
    line = " ".join("%s x%d" % kv for kv in sorted(kinds.items())) or "none"
    first = stages.setdefault(rank["stage"], (line, rank["sent_bytes"]))
    if first != (line, rank["sent_bytes"]):
        print("%s: rank %d differs from its stage: %s" % (label, rank["rank"], line))
for stage, (line, sent) in sorted(stages.items()):
    print("%s stage %d: %s; %d bytes sent" % (label, stage, line, sent))
