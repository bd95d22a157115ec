#!/usr/bin/env python3
"""Synthesis time and memory at 1, 100 and 1000 institutions, against the floor of the same run.

The floor is `app.py` over a directory with the platform file only (no institution): the fixed
cost of Python, jsii, Node.js and the platform stack. Each case runs the `app` command of
cdk.json with CDK_OUTDIR and CDK_CONTEXT_JSON, as the CDK CLI does: the figures are those of
`cdk synth` without the CLI's own start-up.

    .venv/bin/python bench/synth.py [--sizes 1,100,1000] [--repeat 1] [--nag]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests import factory  # noqa: E402

TARGETS = {"full_1000": 10.0, "targeted_1000": 1.5}
PEAK_LIMIT_MIB = 1536
# The app command exactly as the CDK CLI runs it.
APP_COMMAND = json.loads((REPO / "cdk.json").read_text())["app"].split()



def generate(directory: Path, count: int) -> None:
    factory.write_institutions(directory, {f"bench-{n}": factory.institution(
        f"Bench {n}", dns=[factory.route53(f"bench{n}.example.edu.br", f"Z{n:020d}")], companies=[
            factory.company(f"Bench {n}", {"comunicacao": f"comunicacao@bench{n}.example.edu.br",
                                           "atendimento": f"atendimento@bench{n}.example.edu.br"},
                            rules={"avisos": "comunicacao", "requerimentos": "atendimento"}),
            factory.company(f"Bench {n} Colégio", {"comunicacao": f"contato@colegio{n}.example.com.br"})])
        for n in range(count)})


def _tree_rss_kib(root: int) -> int:
    """Resident memory of a process and all its descendants (Linux /proc)."""
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        pending.extend(int(c) for c in children)
    return total


def synth(directory: Path, only: str | None, nag: bool) -> tuple[float, int]:
    context = {"institutions_dir": str(directory), "nag": str(nag).lower()}
    context.update(json.loads((REPO / "cdk.json").read_text())["context"])
    if only:
        context["institutions"] = only
    with tempfile.TemporaryDirectory() as outdir:
        env = {**os.environ, "CDK_OUTDIR": outdir, "CDK_CONTEXT_JSON": json.dumps(context)}
        start = time.perf_counter()
        process = subprocess.Popen(APP_COMMAND, cwd=REPO, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        peak = 0
        while process.poll() is None:
            peak = max(peak, _tree_rss_kib(process.pid))
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
        if process.returncode != 0:
            raise SystemExit(f"synthesis failed: {process.stderr.read().decode()[-2000:]}")
    return elapsed, peak // 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,100,1000")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--nag", action="store_true", help="run cdk-nag too (it runs in `cdk synth` by default)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        floor_dir = Path(tmp) / "floor"
        generate(floor_dir, 0)
        # The floor is short and noisy (Python compiling aws_cdk, Node starting): take the best of 3+.
        floor = min(synth(floor_dir, None, args.nag)[0] for _ in range(max(3, args.repeat)))
        print(f"floor (platform only): {floor:.2f} s", file=sys.stderr)
        for size in sizes:
            directory = Path(tmp) / f"n{size}"
            generate(directory, size)
            runs = [synth(directory, None, args.nag) for _ in range(args.repeat)]
            elapsed, peak = min(r[0] for r in runs), max(r[1] for r in runs)
            rows.append((f"full_{size}", size, elapsed, peak))
            print(f"full N={size}: {elapsed:.2f} s, peak {peak} MiB", file=sys.stderr)
            if size == max(sizes):
                runs = [synth(directory, "bench-0", args.nag) for _ in range(args.repeat)]
                elapsed, peak = min(r[0] for r in runs), max(r[1] for r in runs)
                rows.append((f"targeted_{size}", size, elapsed, peak))
    print(f"{'case':<16} {'N':>5} {'seconds':>8} {'x floor':>8} {'target':>8} {'peak MiB':>9}")
    print(f"{'floor':<16} {0:>5} {floor:>8.2f} {1.0:>8.2f} {'':>8} {'':>9}")
    failed = False
    for case, size, elapsed, peak in rows:
        ratio = elapsed / floor
        target = TARGETS.get(case)
        mark = "" if target is None else f"<={target:g}" + ("" if ratio <= target else " MISSED")
        failed |= bool(target and ratio > target) or peak > PEAK_LIMIT_MIB
        print(f"{case:<16} {size:>5} {elapsed:>8.2f} {ratio:>8.2f} {mark:>8} {peak:>9}")
    print(f"peak memory target: < {PEAK_LIMIT_MIB} MiB; nag {'on' if args.nag else 'off'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
