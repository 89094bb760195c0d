"""Sensitivity analysis: which uncertain parameters (the calibrated ones' plausible ranges,
``[ASSUMED]`` values) drive a KPI, or the difference between two scenarios: a tornado, Morris
screening, then Sobol indices on the few that matter (SALib), under common random numbers
(``python -m sim.sensitivity sensitivity=<name>``; configs in ``scenarios/sensitivity/``)."""

from sim.sensitivity.config import SensitivityConfig, load_sensitivity
from sim.sensitivity.runner import SensitivityResult, run_sensitivity

__all__ = ["SensitivityConfig", "SensitivityResult", "load_sensitivity", "run_sensitivity"]
