"""The vocabulary of codes in the records, defined once.

Every code the model writes into a record column (a patient's exit, a visit's outcome, how the
patient came, an admission's outcome, a reperfusion, a lever decision, a remote study's status)
is a member of one :class:`enum.IntEnum` here.  The record tables turn the codes into
categorical columns whose categories are the members' names in lower case, in code order
(:func:`labels`), so the tables, the KPIs and the model read the same names.

>>> Outcome.REFERRED_UP, int(Outcome.REFERRED_UP), labels(Exit)[3]
(<Outcome.REFERRED_UP: 3>, 3, 'left_untreated')
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["Exit", "Outcome", "Mode", "Admission", "Reperfusion", "LeverEvent", "StudyStatus", "labels",
           "EXIT", "OUTCOME", "MODE", "ADMISSION", "REPERFUSION", "LEVER_EVENT", "STUDY_STATUS"]


class Exit(IntEnum):
    """How a patient's episode ends (every arriving patient ends in exactly one)."""

    IN_SYSTEM = 0
    COMPLETED = 1
    TRANSFERRED_OUT = 2
    LEFT_UNTREATED = 3


class Outcome(IntEnum):
    """The outcome of one facility visit."""

    IN_PROGRESS = 0
    TREATED = 1
    ADMITTED = 2
    REFERRED_UP = 3
    RENEGED = 4
    BALKED = 5
    OUT_OF_COUNTY = 6
    DOWN_REFERRAL = 7
    CLOSED_ELSEWHERE = 8
    DEFERRED = 9


class Mode(IntEnum):
    """How the patient came to a visit."""

    SELF = 0
    REFERRAL = 1
    AMBULANCE = 2
    DOWN_REFERRAL = 3
    AFTER_RENEGE = 4
    DEFERRED_RETURN = 5
    #: an insured resident who lives and gets care elsewhere (异地就医, registered)
    ELSEWHERE = 6


class Admission(IntEnum):
    """The outcome of a bed request (one admission row each)."""

    IN_BED = 0
    DISCHARGED = 1
    NO_BED = 2
    WAITING = 3


class Reperfusion(IntEnum):
    """How an emergency patient was reperfused."""

    NONE = 0
    PCI = 1
    THROMBOLYSIS = 2
    STROKE_THROMBOLYSIS = 3


class LeverEvent(IntEnum):
    """A lever's (or the two-way referral's) decision about a patient; ``*_AVOIDED`` and
    ``*_LOCAL`` mean managed locally instead of referred up."""

    EXPERT_SEEN = 0
    EXPERT_AVOIDED = 1
    SKILL_LOCAL = 2
    DEFERRED = 3
    REMOTE_LOCAL = 4
    REMOTE_REFERRED = 5
    REMOTE_TIMEOUT = 6
    REMOTE_FAILED = 7
    MDT_LOCAL = 8
    MDT_REFERRED = 9
    MDT_TIMEOUT = 10
    TELE_ECG_SENT = 11
    TELE_ECG_BYPASS = 12
    CIRCULAR_WAIT = 13
    DOWN_BED_TIMEOUT = 14
    DETERIORATION_UP = 15
    DETERIORATION_OUT = 16
    #: an up-referred patient booked through the green channel (绿色通道) at the lead; value:
    #: the referring site's index (the ``facility`` categories are in site order)
    GREEN_CHANNEL = 17


class StudyStatus(IntEnum):
    """A remotely read study's status."""

    PENDING = 0
    REPORTED = 1
    FAILED = 2


def labels(codes: type[IntEnum]) -> dict[int, str]:
    """``{code: name}`` in code order, names in lower case (the categories of the tables).

    >>> labels(StudyStatus)
    {0: 'pending', 1: 'reported', 2: 'failed'}
    """
    return {int(m): m.name.lower() for m in sorted(codes, key=int)}


#: the codes of the record columns as ``{code: name}``, in code order (the categories of the
#: record tables' code columns, :mod:`sim.records.schema`).
EXIT = labels(Exit)
OUTCOME = labels(Outcome)
MODE = labels(Mode)
ADMISSION = labels(Admission)
REPERFUSION = labels(Reperfusion)
LEVER_EVENT = labels(LeverEvent)
STUDY_STATUS = labels(StudyStatus)
