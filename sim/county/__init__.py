"""The county: facilities, villages and roads as a referral graph, restructuring, the patient
catalogue and arrivals, first-contact choice and referral routing, opening hours.

Pure functions and passive data; nothing here imports SimPy.
"""
