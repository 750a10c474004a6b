"""Analysis of Monte Carlo runs: error bars, thermodynamics, Binder crossings,
histogram reweighting, finite-size scaling, exact reference results and plots."""

from physbreak.analysis.binder import binder_crossings, crossing
from physbreak.analysis.exact import (ISING_2D_TC, ising_torus_energy, onsager_energy, potts_2d_tc,
                                      spin_wave_energy, yang_magnetization)
from physbreak.analysis.fss import analyze_fss, fss_fit
from physbreak.analysis.observables import thermodynamics
from physbreak.analysis.plots import plot_observables
from physbreak.analysis.report import analyze_run
from physbreak.analysis.reweighting import Reweighting
from physbreak.analysis.stats import Estimate, estimate, tau_int

__all__ = ["ISING_2D_TC", "Estimate", "Reweighting", "analyze_fss", "analyze_run", "binder_crossings",
           "crossing", "estimate", "fss_fit", "ising_torus_energy", "onsager_energy", "plot_observables",
           "potts_2d_tc", "spin_wave_energy", "tau_int", "thermodynamics", "yang_magnetization"]
