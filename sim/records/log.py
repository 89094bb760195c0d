"""The append-only, columnar log of one replication, turned into the record tables.

The model only appends compact rows here; every KPI is computed afterwards from the tables
(:mod:`sim.analysis.kpis`).  Columns are ``array.array`` buffers (a few bytes per value) turned
into pandas DataFrames column by column as the record schema (:mod:`sim.records.schema`)
declares them, the numeric columns as views of the buffers (no copy).

Tables
------
patients    one row per episode: home village, condition, onset, exit kind and time, first
            facility, self-transport travel minutes (in all, and to the first contact; 0 for a
            120 call), up/down-referral counts.
visits      one row per facility visit: arrival, start of consult, end, outcome, how the patient
            came, tests done there (bitmask over MODALITIES).
admissions  one row per bed request: facility, request, admission, discharge, delayed-discharge
            minutes (``blocked_min``), outcome.  ``request`` is when the bed was asked for,
            ``admit`` when it was granted and ``discharge`` when it was released: the bed is
            held from ``admit`` to ``discharge``, so the rows' bed-minutes are exactly those of
            the bed pools (warm-started occupants, who have no row, aside).  For a bed transfer
            (a deteriorating tier-1 inpatient moving up to the lead hospital, a down-referred
            inpatient moving to a tier-1 bed) the new bed is requested while the patient still
            holds the old one (its row stays open until then) and held from the grant through
            the journey: the arrival on the ward is the matching visit's ``arrive``.  A
            transfer wait that times out leaves a ``no_bed`` row at the wanted site.
emergency   one row per 120 / emergency episode: call (onset for self-presenters), first medical
            contact (FMC), first ECG, door of the definitive-care site, reperfusion (balloon or
            needle) and how, ambulance station.

Policy levers (:mod:`sim.levers`; the tables are empty when the levers are off):

expert_visits   one row per specialist visit: team, specialty, site, lead it came from (-1 =
                external experts), departure from the lead, arrival on site, planned end,
                departure from the site (after the queue is worked off), return to the lead.
remote_studies  one row per remotely read study: patient, acquiring site, reading centre,
                modality, priority, sent (acquired + transmitted on), read start, report, status.
lever_events    one row per lever decision about a patient: site, time, event (LEVER_EVENT),
                value (extra waiting days for a deferral; minutes for timed events).
"""

from __future__ import annotations

from array import array

import numpy as np
import pandas as pd

from sim.config import MODALITIES
from sim.records import schema
from sim.records.codes import (
    ADMISSION,
    EXIT,
    LEVER_EVENT,
    MODE,
    OUTCOME,
    STUDY_STATUS,
    Admission,
    Exit,
    Outcome,
    Reperfusion,
    StudyStatus,
)

__all__ = ["Log", "EXIT", "OUTCOME", "MODE", "ADMISSION", "TEST_BIT", "decode_tests", "LEVER_EVENT",
           "STUDY_STATUS"]

#: bit of each modality in the ``tests`` bitmask of a visit.
TEST_BIT = {m: 1 << i for i, m in enumerate(MODALITIES)}
# plain ints for the appends on the model's hot path
_IN_SYSTEM, _IN_PROGRESS, _WAITING = int(Exit.IN_SYSTEM), int(Outcome.IN_PROGRESS), int(Admission.WAITING)
_NO_REPERFUSION, _PENDING = int(Reperfusion.NONE), int(StudyStatus.PENDING)

_NAN = float("nan")
_DTYPES = {"d": np.float64, "f": np.float32, "H": np.uint16, "h": np.int16, "I": np.uint32,
           "B": np.uint8}


def decode_tests(mask: int) -> list[str]:
    """Modalities in a tests bitmask.

    >>> decode_tests(TEST_BIT["ecg"] | TEST_BIT["ct"])
    ['ecg', 'ct']
    """
    return [m for m, b in TEST_BIT.items() if mask & b]


class Log:
    """Columnar, append-only record of one replication."""

    def __init__(self) -> None:
        # patients (row = patient id)
        self.p_village = array("H")
        self.p_condition = array("B")
        self.p_onset = array("d")
        self.p_exit = array("B")
        self.p_exit_time = array("d")
        self.p_first = array("h")
        self.p_travel = array("f")
        self.p_first_travel = array("f")
        self.p_up = array("B")
        self.p_down = array("B")
        # visits
        self.v_patient = array("I")
        self.v_facility = array("H")
        self.v_arrive = array("d")
        self.v_start = array("d")
        self.v_end = array("d")
        self.v_outcome = array("B")
        self.v_mode = array("B")
        self.v_tests = array("B")
        # admissions
        self.a_patient = array("I")
        self.a_facility = array("H")
        self.a_request = array("d")
        self.a_admit = array("d")
        self.a_discharge = array("d")
        self.a_blocked = array("f")
        self.a_outcome = array("B")
        # emergency
        self.e_patient = array("I")
        self.e_call = array("d")
        self.e_fmc = array("d")
        self.e_door = array("d")
        self.e_reperfusion = array("d")
        self.e_ecg = array("d")
        self.e_kind = array("B")
        self.e_station = array("h")
        self.e_dest = array("h")
        # expert visits
        self.x_team = array("H")
        self.x_specialty = array("H")
        self.x_site = array("H")
        self.x_lead = array("h")
        self.x_doctors = array("H")
        self.x_depart = array("d")
        self.x_arrive = array("d")
        self.x_planned_end = array("d")
        self.x_leave = array("d")
        self.x_return = array("d")
        # remote studies
        self.r_patient = array("I")
        self.r_site = array("H")
        self.r_centre = array("H")
        self.r_modality = array("B")
        self.r_priority = array("B")
        self.r_sent = array("d")
        self.r_start = array("d")
        self.r_report = array("d")
        self.r_status = array("B")
        # lever events
        self.l_patient = array("I")
        self.l_site = array("H")
        self.l_time = array("d")
        self.l_event = array("B")
        self.l_value = array("f")
        self.active = 0

    # ----------------------------------------------------------------- patients
    def new_patient(self, village: int, condition: int, onset: float) -> int:
        pid = len(self.p_onset)
        self.p_village.append(village)
        self.p_condition.append(condition)
        self.p_onset.append(onset)
        self.p_exit.append(_IN_SYSTEM)
        self.p_exit_time.append(_NAN)
        self.p_first.append(-1)
        self.p_travel.append(0.0)
        self.p_first_travel.append(0.0)
        self.p_up.append(0)
        self.p_down.append(0)
        self.active += 1
        return pid

    def new_patients(self, village: np.ndarray, condition: np.ndarray, onset: np.ndarray,
                     first: np.ndarray, travel: np.ndarray) -> int:
        """Append a batch of patients at once; returns the first new patient id."""
        pid0 = len(self.p_onset)
        n = len(onset)
        self.p_village.frombytes(np.asarray(village, dtype=np.uint16).tobytes())
        self.p_condition.frombytes(np.asarray(condition, dtype=np.uint8).tobytes())
        self.p_onset.frombytes(np.asarray(onset, dtype=np.float64).tobytes())
        self.p_exit.frombytes(bytes(n))
        self.p_exit_time.frombytes(np.full(n, np.nan).tobytes())
        self.p_first.frombytes(np.asarray(first, dtype=np.int16).tobytes())
        self.p_travel.frombytes(np.asarray(travel, dtype=np.float32).tobytes())
        self.p_first_travel.frombytes(np.asarray(travel, dtype=np.float32).tobytes())
        self.p_up.frombytes(bytes(n))
        self.p_down.frombytes(bytes(n))
        self.active += n
        return pid0

    def add_visit(self, pid: int, facility: int, arrive: float, start: float, end: float, outcome: int,
                  mode: int, tests: int) -> None:
        """Append a finished visit in one call."""
        self.v_patient.append(pid)
        self.v_facility.append(facility)
        self.v_arrive.append(arrive)
        self.v_start.append(start)
        self.v_end.append(end)
        self.v_outcome.append(outcome)
        self.v_mode.append(mode)
        self.v_tests.append(tests)

    def exit(self, pid: int, kind: int, t: float) -> None:
        if self.p_exit[pid] != 0:
            raise AssertionError(f"patient {pid} exits twice ({EXIT[self.p_exit[pid]]}, then {EXIT[kind]})")
        self.p_exit[pid] = kind
        self.p_exit_time[pid] = t
        self.active -= 1

    # ----------------------------------------------------------------- visits
    def visit(self, pid: int, facility: int, arrive: float, mode: int) -> int:
        row = len(self.v_arrive)
        self.v_patient.append(pid)
        self.v_facility.append(facility)
        self.v_arrive.append(arrive)
        self.v_start.append(_NAN)
        self.v_end.append(_NAN)
        self.v_outcome.append(_IN_PROGRESS)
        self.v_mode.append(mode)
        self.v_tests.append(0)
        return row

    # ----------------------------------------------------------------- admissions
    def admission(self, pid: int, facility: int, request: float) -> int:
        row = len(self.a_request)
        self.a_patient.append(pid)
        self.a_facility.append(facility)
        self.a_request.append(request)
        self.a_admit.append(_NAN)
        self.a_discharge.append(_NAN)
        self.a_blocked.append(0.0)
        self.a_outcome.append(_WAITING)
        return row

    # ----------------------------------------------------------------- emergency
    def emergency(self, pid: int, call: float, station: int) -> int:
        row = len(self.e_call)
        self.e_patient.append(pid)
        self.e_call.append(call)
        self.e_fmc.append(_NAN)
        self.e_door.append(_NAN)
        self.e_reperfusion.append(_NAN)
        self.e_ecg.append(_NAN)
        self.e_kind.append(_NO_REPERFUSION)
        self.e_station.append(station)
        self.e_dest.append(-1)
        return row

    # ----------------------------------------------------------------- levers
    def expert_visit(self, team: int, specialty: int, site: int, lead: int, doctors: int, depart: float,
                     arrive: float, planned_end: float) -> int:
        row = len(self.x_team)
        self.x_team.append(team)
        self.x_specialty.append(specialty)
        self.x_site.append(site)
        self.x_lead.append(lead)
        self.x_doctors.append(doctors)
        self.x_depart.append(depart)
        self.x_arrive.append(arrive)
        self.x_planned_end.append(planned_end)
        self.x_leave.append(_NAN)
        self.x_return.append(_NAN)
        return row

    def remote_study(self, pid: int, site: int, centre: int, modality: int, priority: int, sent: float) -> int:
        row = len(self.r_patient)
        self.r_patient.append(pid)
        self.r_site.append(site)
        self.r_centre.append(centre)
        self.r_modality.append(modality)
        self.r_priority.append(priority)
        self.r_sent.append(sent)
        self.r_start.append(_NAN)
        self.r_report.append(_NAN)
        self.r_status.append(_PENDING)
        return row

    def lever_event(self, pid: int, site: int, t: float, event: int, value: float = 0.0) -> None:
        self.l_patient.append(pid)
        self.l_site.append(site)
        self.l_time.append(t)
        self.l_event.append(event)
        self.l_value.append(value)

    def nbytes(self) -> int:
        """Bytes held by the record buffers."""
        return sum(a.buffer_info()[1] * a.itemsize for a in vars(self).values() if isinstance(a, array))

    # ----------------------------------------------------------------- tables
    def tables(self, facility_ids: list[str], village_ids: list[str], condition_ids: list[str],
               specialties: list[str] | None = None) -> dict[str, pd.DataFrame]:
        """The record tables (:data:`~sim.records.schema.RECORD_TABLES`) as DataFrames, built
        from the record schema: each declared column from the buffer :data:`BUFFERS` names,
        with the declared dtype (code columns and ids as categoricals); the ``scenario`` and
        ``replication`` columns are added by the caller."""
        cats = schema.Categories(facility=tuple(facility_ids), village=tuple(village_ids),
                                 condition=tuple(condition_ids), specialty=tuple(specialties or []))
        n = len(self.p_onset)
        out = {}
        for table in schema.RECORD_TABLES:
            data = {}
            for column, kind in schema.SCHEMA[table]:
                if column in ("scenario", "replication"):
                    continue
                buf = BUFFERS[table][column]
                values = np.arange(n, dtype=np.uint32) if buf is None else _column(getattr(self, buf))
                if isinstance(kind, schema.Categorical):
                    # the codes (uint8/uint16/int16 buffers) become pandas' smallest code type
                    data[column] = pd.Categorical.from_codes(values, dtype=pd.CategoricalDtype(kind.categories(cats)))
                else:
                    data[column] = values.astype(kind, copy=False)
            out[table] = pd.DataFrame(data, copy=False)  # the columns stay views of the buffers
        return out


#: table -> column -> the :class:`Log` buffer holding it (``None``: the row number, a patient's id).
BUFFERS: dict[str, dict[str, str | None]] = {
    "patients": {"patient": None, "village": "p_village", "condition": "p_condition", "onset": "p_onset",
                 "exit": "p_exit", "exit_time": "p_exit_time", "first_facility": "p_first", "travel_min": "p_travel",
                 "first_travel_min": "p_first_travel", "up_referrals": "p_up", "down_referrals": "p_down"},
    "visits": {"patient": "v_patient", "facility": "v_facility", "arrive": "v_arrive", "start": "v_start",
               "end": "v_end", "outcome": "v_outcome", "mode": "v_mode", "tests": "v_tests"},
    "admissions": {"patient": "a_patient", "facility": "a_facility", "request": "a_request", "admit": "a_admit",
                   "discharge": "a_discharge", "blocked_min": "a_blocked", "outcome": "a_outcome"},
    "emergency": {"patient": "e_patient", "call": "e_call", "fmc": "e_fmc", "door": "e_door",
                  "reperfusion": "e_reperfusion", "reperfusion_kind": "e_kind", "ecg": "e_ecg",
                  "station": "e_station", "destination": "e_dest"},
    "expert_visits": {"team": "x_team", "specialty": "x_specialty", "site": "x_site", "lead": "x_lead",
                      "doctors": "x_doctors", "depart": "x_depart", "arrive": "x_arrive",
                      "planned_end": "x_planned_end", "leave": "x_leave", "return": "x_return"},
    "remote_studies": {"patient": "r_patient", "site": "r_site", "centre": "r_centre", "modality": "r_modality",
                       "priority": "r_priority", "sent": "r_sent", "start": "r_start", "report": "r_report",
                       "status": "r_status"},
    "lever_events": {"patient": "l_patient", "site": "l_site", "time": "l_time", "event": "l_event",
                     "value": "l_value"},
}


def _column(a: array) -> np.ndarray:
    """A buffer as a numpy array of its own type, without a copy: the tables share the log's
    memory (one copy of the records, not two), and the log can grow no further (an append
    raises ``BufferError`` while a table holds the buffer)."""
    dtype = _DTYPES[a.typecode]
    return np.frombuffer(a, dtype=dtype) if len(a) else np.zeros(0, dtype=dtype)
