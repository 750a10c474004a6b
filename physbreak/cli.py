"""The ``physbreak`` command: a thin layer over the library.

    physbreak simulate CONFIG.toml [--out FILE] [--resume]   # spin MC, or kind = "perovskite" MD
    physbreak analyze FILE [--json] [--plots DIR | --no-plots] [--discard N] [--fss [--fss-min-size L] [--fss-omega W]]   # any physbreak file
    physbreak demo [--steps N] [--json]
    physbreak groundstates CONFIG.toml [--out FILE] [--resume]
    physbreak train CONFIG.toml [--quiet]                    # spin ground states, kind = "structures", or graphs
    physbreak predict CHECKPOINT INPUT [--out FILE] [--split NAME] [--target GROUP] [--variants one|all]
    physbreak sweep CONFIG.toml [--scheduler ADDRESS] [--status]   # grid of runs on dask.distributed
    physbreak schema KIND                                    # JSON Schema of a config kind

Bad input (a :class:`~physbreak.errors.PhysbreakError`) is printed as one
line on stderr with exit code 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

from physbreak import __version__
from physbreak.errors import PhysbreakError


INTERRUPTED = {  # command -> how to continue after Ctrl-C
    "simulate": "the file holds the last checkpoint, continue it with --resume",
    "groundstates": "the file holds the finished problems, continue it with --resume",
    "sweep": "finished tasks are kept, run the same command again to do the rest",
    "train": "finished models are kept, run the same command again to do the rest",
    "predict": "the output file is incomplete (attribute complete = False): delete it or use another --out",
}


OTHER_COMMAND = {"sweep": "sweep", "structures": "train", "decoding": "train", "classification": "train",
                 "colouring": "train"}


def _nproc(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if not 1 <= n <= 1024:
        raise argparse.ArgumentTypeError(f"--nproc = {text!r}: a number of processes from 1 to 1024")
    return n


def _run_arguments(parser, config_help: str):
    """CONFIG, --out, --resume, --quiet: the arguments of commands that write a resumable file."""
    parser.add_argument("config", help=config_help)
    parser.add_argument("--out", help="output HDF5 file (default: the config's `output`)")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted run")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    _check_argument(parser)


def _check_argument(parser):
    parser.add_argument("--check", action="store_true", help="validate the config as the run would (fields, "
                        "files it names, device, memory) and stop; write nothing")


def _threads(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"--threads = {text!r}: an integer >= 0 (0: every core)")
    return int(text)


class _Parser(argparse.ArgumentParser):
    """Command-line errors as one line, like every other physbreak error."""

    def error(self, message):
        self.exit(2, f"physbreak: error: {' '.join(message.split())} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="physbreak", description=__doc__.split("\n")[0])
    p.add_argument("--version", action="version", version=f"physbreak {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    sim = sub.add_parser("simulate", help="run a Monte Carlo (spins) or Langevin MD (perovskite) study into HDF5")
    _run_arguments(sim, "TOML run config")
    sim.add_argument("--threads", type=_threads, help="CPU worker threads, 0: every core (default: the "
                     "config's `threads`, 1); the results do not depend on it")
    a = sub.add_parser("analyze", help="summary and plots of a run, dataset or predictions file")
    a.add_argument("file", help="HDF5 run file")
    a.add_argument("--json", action="store_true", help="print JSON instead of a table")
    a.add_argument("--plots", help="folder for PNG plots (default: FILE stem + '_plots')")
    a.add_argument("--no-plots", action="store_true", help="write no plots")
    a.add_argument("--discard", type=int, default=0, help="samples dropped per chain (default 0)")
    a.add_argument("--fss", action="store_true", help="spin runs: multiple-histogram reweighting of every size "
                   "and finite-size scaling fits of nu, gamma/nu and Tc")
    a.add_argument("--fss-min-size", type=float, default=0.0, metavar="L",
                   help="fit only sizes >= L (corrections to scaling at small L; default: all sizes)")
    a.add_argument("--fss-omega", type=float, default=None, metavar="W",
                   help="fit peak heights as A L^x (1 + c L^-W): the leading correction to scaling with "
                        "exponent W (e.g. 0.83 for 3D Ising; needs >= 4 sizes)")
    a.add_argument("--order", default="auto", choices=("auto", "magnetization", "staggered"),
                   help="order parameter (default auto: the dominant irrep of the lattice's space group for runs "
                        "stored with sampler.modes = true, else the staggered magnetisation for antiferromagnets)")
    _run_arguments(sub.add_parser("groundstates", help="generate a dataset of Ising ground-state problems"),
                   "TOML dataset config")
    t = sub.add_parser("train", help="train symmetry-breaking predictors (spin ground states, structures, "
                                     "graph decoding / classification / colouring); write the benchmark report")
    t.add_argument("config", help="TOML training config ([[family]] dataset tables, or kind = \"structures\", "
                                  "\"decoding\", \"classification\", \"colouring\")")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument("--nproc", type=_nproc, default=1, help="train data-parallel in N processes (torchrun; gloo "
                   "on the CPU, NCCL with one GPU each on CUDA); rank 0 writes every file")
    _check_argument(t)
    pr = sub.add_parser("predict", help="predict symmetry-broken ground states with a trained model")
    pr.add_argument("checkpoint", help="a .pt file written by `physbreak train`")
    pr.add_argument("data", help="a dataset .h5 (`physbreak groundstates`), a structure file ase reads "
                    "(cif, extxyz, POSCAR, ...), a spin couplings file (.toml, .txt, .h5) or, for graph "
                    "models, a graph file (.g6, .s6, .edgelist, .adjlist, .gml, .graphml, .json)")
    pr.add_argument("--out", help="output file (default: INPUT-stem_predictions.h5, or INPUT-stem_TARGET.ext "
                    "for structure files; any extension ase writes)")
    pr.add_argument("--split", help="dataset inputs: only records of this split")
    pr.add_argument("--target", help="structure files: the target group (space-group symbol or number, or a "
                    "point group for molecules)")
    pr.add_argument("--variants", default="one", choices=("one", "all"),
                    help="structure files: the prediction only, or every domain variant (default one)")
    pr.add_argument("--device", default="cpu", help="torch device (default cpu)")
    sw = sub.add_parser("sweep", help="a grid of models x sizes x temperatures x seeds as dask tasks, one "
                        "HDF5 file each; finished tasks are skipped when it runs again")
    sw.add_argument("config", help="TOML sweep config (kind = \"sweep\", a [grid] table)")
    sw.add_argument("--scheduler", help="address of a running dask scheduler (default: a LocalCluster)")
    sw.add_argument("--quiet", action="store_true", help="no progress bar")
    sw.add_argument("--status", action="store_true", help="list what is finished, started and pending; run nothing")
    _check_argument(sw)
    sc = sub.add_parser("schema", help="print the JSON Schema of a config kind (for editors: validation and "
                        "completion of TOML configs)")
    sc.add_argument("kind", help="run, perovskite, sweep, dataset, train, structures, decoding, classification, "
                    "colouring, or all")
    sy = sub.add_parser("symmetry", help="symmetry-mode decomposition of a distortion PARENT -> CHILD (irreps, "
                        "amplitudes, order-parameter directions, isotropy subgroups), or with --irrep the isotropy "
                        "subgroups of one irrep of a crystal")
    sy.add_argument("parent", help="the symmetric structure (any file ase.io reads)")
    sy.add_argument("child", nargs="?", help="the distorted structure: the same atoms (a crystal may be a supercell)")
    sy.add_argument("--irrep", help="an irrep label of the parent (e.g. R4+): list its directions' isotropy subgroups")
    sy.add_argument("--supercell", type=int, nargs=3, default=(2, 2, 2), metavar="N",
                    help="diagonal supercell for --irrep (default 2 2 2)")
    sy.add_argument("--symprec", type=float, default=1e-3, help="spglib tolerance in A (default 1e-3)")
    sy.add_argument("--json", metavar="PATH", help="also write the result as JSON")
    d = sub.add_parser("demo", help="symmetry breaking demo: Neel states of antiferromagnets, "
                                     "every breaker strategy")
    d.add_argument("--steps", type=int, default=200, help="training steps per model (default 200)")
    d.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return p


def _valid(config, summary: str) -> int:
    """``--check``: the config passed every check its command makes before writing."""
    print(f"{config}: valid ({summary}); nothing was written")
    return 0


def _demo(args) -> str:
    from physbreak.errors import ConfigError
    from physbreak.learn.neel_demo import STRATEGIES, run

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


def _file_kind(path) -> str:
    from physbreak.io import open_file

    with open_file(path) as f:
        return str(f.attrs.get("kind", "spin_mc"))


def _fss_json(result: dict) -> dict:
    """:func:`~physbreak.analysis.fss.analyze_fss`'s result as JSON-ready dicts."""
    from dataclasses import asdict

    return {"sizes": result["sizes"], "fitted": result["fitted"],
            "peaks": [{k: asdict(v) for k, v in t.items()} for t in result["peaks"]],
            "fit": {k: asdict(v) for k, v in result["fit"].items()}, "plots": result.get("plots")}


def _dataset_line(r: dict) -> str:
    if "kind" in r:
        return f"{r['family']:>12} {r['split']:>6} {r['kind']:>12}: {r['count']} structures"
    return (f"{r['family']:>12} {r['split']:>6} {r['n_sites']:>6} spins: {r['count']} problems, "
            f"mean degeneracy {r['degeneracy']:.1f}, exact {100 * r['exact']:.0f}%")


def _analyze(args):
    """``physbreak analyze``: any physbreak file."""
    from physbreak.analysis.report import analyze_run, format_report

    if not args.fss_min_size >= 0:
        from physbreak.errors import ConfigError

        raise ConfigError("--fss-min-size", args.fss_min_size, "a size >= 0")
    if args.fss_omega is not None and not args.fss_omega > 0:
        from physbreak.errors import ConfigError

        raise ConfigError("--fss-omega", args.fss_omega, "an exponent > 0")
    path = Path(args.file)
    kind = _file_kind(path)
    plots = None if args.no_plots else (args.plots or path.with_name(path.stem + "_plots"))
    if kind == "perovskite_md":
        from physbreak.analysis.structural import analyze_perovskite, format_perovskite

        result = analyze_perovskite(path, plots)
        print(json.dumps(result, indent=1) if args.json else format_perovskite(result))
    elif kind == "sweep_index" and args.fss:
        from physbreak.analysis.fss import format_fss
        from physbreak.analysis.sweep_report import sweep_fss

        results = sweep_fss(path, args.discard, plots_dir=plots, min_size=args.fss_min_size, omega=args.fss_omega)
        print(json.dumps({m: _fss_json(r) for m, r in results.items()}, indent=1) if args.json
              else "\n\n".join(f"[{m}]\n{format_fss(r)}" for m, r in results.items()))
    elif kind == "sweep_index":
        from physbreak.analysis.sweep_report import analyze_sweep, format_sweep

        result = analyze_sweep(path, plots, args.discard, args.order)
        print(json.dumps(result, indent=1) if args.json else format_sweep(result))
    elif kind == "predictions":
        from physbreak.workflows.predict import format_predictions, summarise_predictions

        result = summarise_predictions(path)
        print(json.dumps(result, indent=1) if args.json else format_predictions(result))
    elif kind == "groundstates":
        from physbreak.problems.store import summary

        result = {"file": str(path), "rows": summary(path)}
        lines = [_dataset_line(r) for r in result["rows"]] or [f"{path}: no finished records"]
        print(json.dumps(result, indent=1) if args.json else "\n".join(lines))
    elif args.fss:
        from physbreak.analysis.fss import analyze_fss, format_fss

        result = analyze_fss(path, args.discard, plots=plots, min_size=args.fss_min_size, omega=args.fss_omega)
        print(json.dumps(_fss_json(result), indent=1) if args.json else format_fss(result))
    else:
        result = analyze_run(path, plots, args.discard, args.order)
        print(json.dumps(result, indent=1) if args.json else format_report(result))


def main(argv=None) -> int:
    from physbreak.io import hdf5

    # a damaged input file must not hang the command (a fork per file opened; PHYSBREAK_HDF5_GUARD=0 turns it off)
    hdf5.GUARD_SECONDS = float(os.environ.get("PHYSBREAK_HDF5_GUARD", "20"))
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (already printed as one line)
        return exc.code if isinstance(exc.code, int) else 0
    try:
        if args.command == "simulate":
            from physbreak.config import load_text, parse, read_toml
            from physbreak.workflows.simulate import simulate

            from physbreak.resources import use_threads
            from physbreak.workflows.simulate import preflight

            text = load_text(args.config)
            progress = False if args.quiet else None
            kind = read_toml(text).get("kind", "run")
            if isinstance(kind, str) and kind in OTHER_COMMAND:
                from physbreak.errors import ConfigError

                raise ConfigError("kind", kind, f"'run' or 'perovskite' for physbreak simulate (a {kind} config "
                                  f"runs with `physbreak {OTHER_COMMAND[kind]}`)")
            if kind == "perovskite":
                from physbreak.workflows import perovskite_run

                cfg = perovskite_run.parse(text)
                if args.check:
                    perovskite_run.preflight(cfg)
                    return _valid(args.config, f"{len(cfg.temperatures)} temperatures, {cfg.size}^3 cells")
                if args.threads is not None:
                    use_threads(args.threads)
                out = perovskite_run.run(cfg, args.out, args.resume, progress)
            else:
                cfg = parse(text)
                if args.threads is not None:
                    cfg = dataclasses.replace(cfg, threads=args.threads)
                if args.check:
                    preflight(cfg)
                    return _valid(args.config, f"{len(cfg.lattice.sizes)} systems x {cfg.n_chains} chains")
                out = simulate(cfg, out=args.out, resume=args.resume, progress=progress)
            print(f"wrote {out}")
        elif args.command == "symmetry":
            from physbreak.workflows.symmetry import format_symmetry, symmetry_report, write_json

            result = symmetry_report(args.parent, args.child, args.irrep, tuple(args.supercell), args.symprec)
            print(format_symmetry(result))
            if args.json:
                print(f"wrote {write_json(result, args.json)}")
        elif args.command == "schema":
            from physbreak.config import json_schema

            print(json.dumps(json_schema(args.kind), indent=1))
        elif args.command == "sweep":
            from physbreak.config import load_text
            from physbreak.config.sweep import parse as parse_sweep
            from physbreak.workflows.sweep import run_sweep, sweep_status

            from physbreak.config import check_device

            cfg = parse_sweep(load_text(args.config))
            if args.status:
                print(sweep_status(cfg))
                return 0
            if args.check:
                check_device(cfg.device)
                return _valid(args.config, f"{len(cfg.tasks)} tasks")
            result = run_sweep(cfg, args.scheduler, progress=False if args.quiet else None)
            print(f"{result['done']} tasks run, {result['skipped']} already finished; index {result['index']}")
            for name, error in result["failed"].items():
                print(f"physbreak: task {name} failed: {error}", file=sys.stderr)
            if result["failed"]:
                print(f"physbreak: {len(result['failed'])} task(s) failed; run the sweep again to retry them "
                      "(finished tasks are kept)", file=sys.stderr)
                return 1
        elif args.command == "demo":
            print(_demo(args))
        elif args.command == "groundstates":
            from physbreak.workflows.dataset import build_dataset, load as load_dataset

            cfg = load_dataset(args.config)
            if args.check:
                return _valid(args.config, f"{len(cfg.families)} families")
            out = build_dataset(cfg, args.out, args.resume, progress=False if args.quiet else None)
            print(f"wrote {out}")
        elif args.command == "train":
            from physbreak.config import check_device
            from physbreak.learn import distributed
            from physbreak.workflows.train import load as load_train, run

            cfg = load_train(args.config)
            if args.check:
                check_device(cfg.device)
                models = getattr(cfg, "models", None) or cfg.breakers
                return _valid(args.config, f"{len(models)} models x {len(getattr(cfg, 'datasets', [1]))} datasets")
            if args.nproc > 1 and "WORLD_SIZE" not in os.environ:
                check_device(cfg.device)
                rest = list(argv if argv is not None else sys.argv[1:])  # every argument but --nproc N
                i = rest.index("--nproc") if "--nproc" in rest else None
                rest = rest[:i] + rest[i + 2:] if i is not None else [a for a in rest if not a.startswith("--nproc=")]
                return distributed.launch(args.nproc, rest)
            if distributed.init_from_env(cfg.device):
                cfg = dataclasses.replace(cfg, device=distributed.local_device(cfg.device))
            out = run(cfg, progress=False if args.quiet else None)
            if distributed.is_main():
                print(f"wrote {out}")
        elif args.command == "predict":
            from physbreak.workflows.predict import predict_file

            for path, what in predict_file(args.checkpoint, args.data, args.out, args.split, args.device,
                                           args.target, args.variants):
                print(f"wrote {path} ({what})")
        else:
            from physbreak.config import fields

            with fields({"discard": "--discard", "order": "--order", "plots": "--plots"}):
                _analyze(args)
    except PhysbreakError as exc:
        print(f"physbreak: error: {' '.join(str(exc).splitlines())}", file=sys.stderr)  # always one line
        return 2
    except MemoryError:
        print(f"physbreak: error: {args.command} ran out of memory: use fewer or smaller systems "
              "(files already written are kept)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"physbreak: interrupted; {INTERRUPTED.get(args.command, 'nothing was written')}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # stdout piped into a reader that stopped early (`| head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush at exit
        return 141
    return 0


def entry() -> None:
    """The console script (and ``python -m physbreak``): :func:`main`, then :func:`exit_now`."""
    exit_now(main())


def exit_now(code: int) -> None:
    """Exit with ``code`` once everything is written, without the interpreter's
    teardown: freeing numba's compiled-code objects one by one takes about
    0.3 s, a tenth of a short ``simulate``.  With another (non-daemon) thread
    running or an HDF5 file still open, the normal exit; else the atexit
    handlers run and the streams are flushed first."""
    import atexit
    import threading

    h5py = sys.modules.get("h5py")
    open_files = h5py.h5f.get_obj_count(h5py.h5f.OBJ_ALL, h5py.h5f.OBJ_FILE) if h5py else 0
    others = [t for t in threading.enumerate() if not t.daemon and t is not threading.main_thread()]
    if others or open_files:
        sys.exit(code)
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # the reader went away: nothing left to deliver
        pass
    os._exit(code)


if __name__ == "__main__":
    entry()
