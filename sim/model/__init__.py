"""One replication: the typed world (county, resources, levers, log) and the patient flow."""
