"""Calibration of the tiered-care simulator to a county's observed figures (issues 5 and 15).

``calibration/county_targets/<network>.yaml`` lists each bundled county's observed figures (KPI,
value, tolerance, source), extending the national figures for a rural county
(``county_targets/county.yaml``) or an urban district (``county_targets/district.yaml``);
``calibration/space.yaml`` the free parameters (config path, bounds, transform).
``python -m calibration network=<name>`` fits them: a response surface on a Latin-hypercube
design of short runs (``method=surrogate``, refined in a few rounds; ``method=direct`` runs
Nelder-Mead or Powell on the simulator itself), every evaluation under common random numbers,
then a longer check run at the optimum.  It writes ``scenarios/care/<network>_calibrated.yaml``
(the network's default care option, with a ``calibration:`` block the brief reads), a report
with identifiability, and a plotly figure.  From Python::

    from calibration import fit, write_outputs
    result = fit({"network": "toy", "design_points": 12, "rounds": 2, "check_replications": 0})
    write_outputs(result, "outputs/calibration/mine", care_out="none")
"""

from __future__ import annotations

from calibration.fit import Evaluation, FitResult, Settings, fit, loss_of
from calibration.report import write_outputs
from calibration.spec import CalibrationError, Parameter, Target, load_space, load_targets

__all__ = ["fit", "Settings", "FitResult", "Evaluation", "loss_of", "write_outputs", "CalibrationError",
           "Target", "Parameter", "load_targets", "load_space"]
