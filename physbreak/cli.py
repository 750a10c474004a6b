"""The ``physbreak`` command: a thin layer over the library.

    physbreak simulate CONFIG.toml [--out FILE] [--resume]
    physbreak analyze FILE [--json] [--plots DIR | --no-plots] [--discard N]
    physbreak demo [--steps N] [--json]

Bad input (a :class:`~physbreak.errors.PhysbreakError`) is printed as one
line on stderr with exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from physbreak import __version__
from physbreak.errors import PhysbreakError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="physbreak", description=__doc__.split("\n")[0])
    p.add_argument("--version", action="version", version=f"physbreak {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("simulate", help="run a Monte Carlo study into HDF5")
    s.add_argument("config", help="TOML run config")
    s.add_argument("--out", help="output HDF5 file (default: the config's `output`)")
    s.add_argument("--resume", action="store_true", help="continue an interrupted run")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    a = sub.add_parser("analyze", help="observables, Binder-crossing Tc and plots of a run")
    a.add_argument("file", help="HDF5 run file")
    a.add_argument("--json", action="store_true", help="print JSON instead of a table")
    a.add_argument("--plots", help="folder for PNG plots (default: FILE stem + '_plots')")
    a.add_argument("--no-plots", action="store_true", help="write no plots")
    a.add_argument("--discard", type=int, default=0, help="samples dropped per chain (default 0)")
    a.add_argument("--order", default="auto", choices=("auto", "magnetization", "staggered"),
                   help="order parameter (default: staggered for antiferromagnets)")
    d = sub.add_parser("demo", help="symmetry breaking demo: Neel states of antiferromagnets, "
                                     "every breaker strategy")
    d.add_argument("--steps", type=int, default=200, help="training steps per model (default 200)")
    d.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return p


def _demo(args) -> str:
    from physbreak.errors import ConfigError
    from physbreak.train.neel_demo import STRATEGIES, run

    if args.steps < 1:
        raise ConfigError("--steps", args.steps, "an integer >= 1")
    rows = run(steps=args.steps)
    if args.json:
        return json.dumps(rows, indent=1)
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    rate = {(r["task"], r["strategy"]): r["exact_test"] for r in rows}
    short = {"none": "none", "relaxed_canonicalization": "rel.canon", "relaxed_emlp": "rel.E-MLP",
             "noise": "noise", "sympe": "SymPE"}
    lines = ["exact-hit rate on held-out couplings (sign of the output is a Neel state)",
             f"{'task':<12}" + "".join(f"{short[s]:>11}" for s in STRATEGIES)]
    for t in tasks:
        lines.append(f"{t:<12}" + "".join(f"{100 * rate[(t, s)]:>10.0f}%" for s in STRATEGIES))
    return "\n".join(lines)


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "simulate":
            from physbreak.config import load
            from physbreak.simulate import simulate

            cfg = load(args.config)
            out = simulate(cfg, out=args.out, resume=args.resume,
                           progress=False if args.quiet else None)
            print(f"wrote {out}")
        elif args.command == "demo":
            print(_demo(args))
        else:
            from physbreak.analysis.report import analyze_run, format_report

            if args.discard < 0:
                from physbreak.errors import ConfigError

                raise ConfigError("--discard", args.discard, "an integer >= 0")
            path = Path(args.file)
            plots = None if args.no_plots else (args.plots or path.with_name(path.stem + "_plots"))
            result = analyze_run(path, plots, args.discard, args.order)
            print(json.dumps(result, indent=1) if args.json else format_report(result))
    except PhysbreakError as exc:
        print(f"physbreak: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("physbreak: interrupted; the file holds the last checkpoint, continue it with "
              "--resume", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
