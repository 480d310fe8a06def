#!/usr/bin/env python3
"""Do two runs of the same comparison matrix agree within the noise they report?

usage: scripts/bench/agree.py RUN_A RUN_B   (result folders of scripts/compare-backends.sh, or their results.json)

For every workload and backend measured in both runs, the runs agree when their [min, max] ranges
over the repetitions overlap, so that neither median lies outside what the other run saw as its
noise. Prints one line per figure, a summary, how many figures would disagree by chance alone, and
the disk reference of both runs (the machine's own drift); exits 1 when a figure disagrees.

By chance alone: two runs of m and n repetitions drawn from one steady distribution have disjoint
ranges when all of one run's samples fall below all of the other's, which happens with probability
2 / C(m+n, m): 10 % a figure for 3 repetitions each, 0.8 % for 5.
"""
import json
import math
import os
import sys


def load(path):
    if os.path.isdir(path):
        path = os.path.join(path, "results.json")
    with open(path) as f:
        return json.load(f)


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    a, b = load(argv[1]), load(argv[2])
    rows, disagree = [], 0
    for backend in sorted(set(a["results"]) & set(b["results"])):
        for workload in sorted(set(a["results"][backend]) & set(b["results"][backend])):
            x, y = a["results"][backend][workload], b["results"][backend][workload]
            agrees = x["min"] <= y["max"] and y["min"] <= x["max"]
            disagree += not agrees
            change = (y["median"] - x["median"]) / x["median"] * 100 if x["median"] else 0.0
            rows.append((backend, workload, x, y, change, agrees))
    print(f"{'backend':8} {'workload':34} {'run A median [min..max]':>32} {'run B median [min..max]':>32} {'B-A':>7}  agree")
    for backend, workload, x, y, change, agrees in rows:
        fmt = lambda r: f"{r['median']:.4g} [{r['min']:.4g}..{r['max']:.4g}]"
        print(f"{backend:8} {workload:34} {fmt(x):>32} {fmt(y):>32} {change:+6.1f}%  {'yes' if agrees else 'NO'}")
    print(f"{len(rows) - disagree} of {len(rows)} figures agree within the ranges their runs report")
    expected = sum(chance_disjoint(x["n"], y["n"]) for _, _, x, y, _, _ in rows)
    print(f"by chance alone (from each figure's repetitions) about {expected:.1f} would disagree on a steady machine")
    for name, label in (("seq_write_fdatasync", "disk sequential write"), ("write_4k_dsync", "disk synced 4 KiB write")):
        da, db = a.get("disk", {}).get(name), b.get("disk", {}).get(name)
        if da and db:
            print(f"{label}: run A {da['median']:.4g} [{da['min']:.4g}..{da['max']:.4g}] {da['unit']}, "
                  f"run B {db['median']:.4g} [{db['min']:.4g}..{db['max']:.4g}] {db['unit']}")
    return 1 if disagree else 0


def chance_disjoint(m, n):
    """Probability that m and n samples of one continuous distribution have disjoint ranges."""
    return 2 / math.comb(m + n, m) if m and n else 0.0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
