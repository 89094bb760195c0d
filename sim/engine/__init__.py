"""The discrete-event engine: SimPy resources (priority pools with reneging, variable capacity
and time-weighted monitors; sites) and the kernel, the only user of SimPy internals.
"""
