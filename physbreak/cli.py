"""The ``physbreak`` command: a thin layer over the library.

    physbreak simulate CONFIG.toml [--out FILE] [--resume]
    physbreak analyze FILE [--json] [--plots DIR | --no-plots] [--discard N]

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
    return p


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
