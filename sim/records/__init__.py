"""What a replication records: the code vocabulary (IntEnums), the record schema (columns,
dtypes, categories, declared once), the append-only columnar log and the run result.

No SimPy here: saved outputs can be read and analysed without the engine.
"""
