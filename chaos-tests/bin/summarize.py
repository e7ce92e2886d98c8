#!/usr/bin/env python3
"""Summarizes chaos runs for the README: python3 chaos-tests/bin/summarize.py target/chaos/*/report.json

Prints a Markdown table per fault kind (injections, time to full service from the injection and
from the heal: median and max) and one line per run (seed, operations, lost, violations)."""
import json
import statistics
import sys
from collections import defaultdict


def main(paths):
    by_kind = defaultdict(list)
    runs = []
    for path in paths:
        with open(path) as f:
            report = json.load(f)
        runs.append(report)
        for fault in report["faults"]:
            by_kind[fault["kind"]].append(fault)
    print("| run (seed) | operations | faults | lost acknowledged writes | linearizability violations | unknown keys | unavailable ms |")
    print("|---|---|---|---|---|---|---|")
    for r in runs:
        print(f"| {r['seed']} | {r['operations']} | {len(r['faults'])} | {r['lostAcknowledgedWrites']} | "
              f"{r['linearizabilityViolations']} | {r.get('linearizabilityUnknown', 0)} | {r['unavailableMsTotal']} |")
    print()
    print("| fault kind | injected | full service after injection, ms: median / max | after the heal, ms: median / max | failing calls (all runs) | slowest ok call, ms: median / max |")
    print("|---|---|---|---|---|---|")
    for kind in sorted(by_kind):
        faults = by_kind[kind]
        rec = [f["recoveredMs"] for f in faults if f.get("recoveredMs") is not None]
        heal = [f["recoveredFromHealMs"] for f in faults if f.get("recoveredFromHealMs") is not None]
        fmt = lambda xs: f"{statistics.median(xs):.0f} / {max(xs)}" if xs else "n/a"
        slow = [f["slowestOkMs"] for f in faults if f.get("slowestOkMs") is not None]
        print(f"| `{kind}` | {len(faults)} | {fmt(rec)} | {fmt(heal)} | {sum(f.get('failingOps', 0) for f in faults)} | {fmt(slow)} |")


if __name__ == "__main__":
    main(sys.argv[1:])
