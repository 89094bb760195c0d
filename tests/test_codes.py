"""One vocabulary of codes: the record categories come from sim.records.codes, and the model never
writes a bare integer into a coded record column."""

from __future__ import annotations

import ast

import pandas as pd

from sim.records import codes
from sim.records import log as records
from tests.conftest import ROOT

CODED = ("p_exit", "v_outcome", "v_mode", "a_outcome", "e_kind", "r_status", "l_event")


def test_record_categories_are_the_enum_names_in_code_order(toy_result):
    assert records.OUTCOME == codes.labels(codes.Outcome)
    assert records.LEVER_EVENT == codes.labels(codes.LeverEvent)
    for table, column, enum in (("patients", "exit", codes.Exit), ("visits", "outcome", codes.Outcome),
                                ("visits", "mode", codes.Mode), ("admissions", "outcome", codes.Admission),
                                ("emergency", "reperfusion_kind", codes.Reperfusion),
                                ("lever_events", "event", codes.LeverEvent),
                                ("remote_studies", "status", codes.StudyStatus)):
        dtype = getattr(toy_result, table)[column].dtype
        assert isinstance(dtype, pd.CategoricalDtype)
        assert list(dtype.categories) == [m.name.lower() for m in enum], (table, column)


def test_no_bare_integer_is_written_into_a_coded_column():
    bad = []
    for path in (ROOT / "sim").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "append":
                targets, value = [node.func.value], node.args[0] if node.args else None
            for t in targets:
                base = t.value if isinstance(t, ast.Subscript) else t
                name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
                if name in CODED and isinstance(value, ast.Constant) and isinstance(value.value, int):
                    bad.append(f"{path.name}:{node.lineno} {name} = {value.value}")
    assert not bad, bad
