"""Calibration of the tiered-care simulator to a county's observed figures (issue 5).

``calibration/targets.yaml`` lists observed figures (KPI, value, tolerance, source);
``calibration/space.yaml`` the free parameters (config path, bounds, transform).
``python -m calibration`` fits them (Latin-hypercube design, then Nelder-Mead or Powell on a
weighted squared loss, every evaluation with common random numbers over several
replications) and writes ``scenarios/care/calibrated.yaml`` (use ``care=calibrated``), a
report with identifiability, and a plotly figure.  From Python::

    from calibration import fit, write_outputs
    result = fit({"network": "toy", "design_points": 8, "iterations": 20})
    write_outputs(result, "outputs/calibration/mine", care_out="none")
"""

from __future__ import annotations

from calibration.fit import Evaluation, FitResult, Settings, fit, loss_of
from calibration.report import write_outputs
from calibration.spec import CalibrationError, Parameter, Target, load_space, load_targets

__all__ = ["fit", "Settings", "FitResult", "Evaluation", "loss_of", "write_outputs", "CalibrationError",
           "Target", "Parameter", "load_targets", "load_space"]
