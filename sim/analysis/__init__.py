"""Measuring: the KPI registry, KPIs and summaries as pure functions of the record tables,
and the reader/writer of run folders.  Importing this package never imports SimPy.
"""
