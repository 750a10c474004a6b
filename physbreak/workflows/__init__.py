"""The commands' work: each module turns a validated config into files
(simulate, sweep, perovskite_run, dataset, train, predict).  The only modules
besides the CLI that read configs."""
