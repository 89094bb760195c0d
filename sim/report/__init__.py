"""Reporting: plotly figures and the bilingual HTML policy brief, built from analysis tables."""
