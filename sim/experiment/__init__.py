"""Running scenarios: replications and their executors (local pool, Dask), studies (a
baseline and alternatives under common random numbers), warm-up and replication design,
memory sizing.
"""
