"""Policy levers, one module each, implementing :class:`sim.levers.protocol.Lever` and listed
once in :data:`sim.levers.registry.LEVERS`:

expert      expert visits (专家下沉坐诊), ``levers.expert``
remote      remote reading and consultation (远程诊断 / 远程会诊), ``levers.remote``
tele_ecg    tele-ECG cath-lab pre-activation, the emergency network's lever (``levers.remote.tele_ecg``)

shared by them: ``site_rules`` (the per-(site, condition) :class:`~sim.levers.site_rules.Rule`)
and ``reading`` (the lead hospitals' reading centres).  ``docs/contributing.md`` says how to
add a lever.
"""
