"""The config: one typed schema (Hydra structured configs), its checks, and composing it.

Modules, in import order (each imports only those above it):

errors      ConfigError (one line naming the full key), warnings, Hydra/OmegaConf/YAML messages
schema      the dataclasses: the only place config keys and types are declared
checks      numbers and names checked once per schema field (kind, finite, range)
levers      semantic checks of the policy levers' configs, one function per lever
semantics   :func:`validate`: what a type system cannot express
convert     :func:`to_config`: a composed OmegaConf node to plain, validated dataclasses
loading     composing ``scenarios/`` with Hydra; Hydra's errors as one line
tariff      who pays what of a medical cost (deductible, rates, cap); numpy, imported on its own

This package imports neither SimPy nor anything else of :mod:`sim` but :mod:`sim.rng`.
"""

from sim.config.convert import to_config
from sim.config.errors import ConfigError, warn
from sim.config.loading import register_configs
from sim.config.schema import (
    MODALITIES,
    SPECIALTIES,
    TIERS,
    Behaviour,
    CareConfig,
    ChoiceModel,
    Condition,
    Config,
    Coordinates,
    Dist,
    Emergency,
    ExecutorConfig,
    ExpertConfig,
    ExpertTeam,
    Facility,
    GreenChannelConfig,
    Hours,
    LeversConfig,
    NetworkConfig,
    Operation,
    PaymentConfig,
    Prices,
    Profiles,
    RemoteConfig,
    RemoteConsult,
    RestructureConfig,
    Road,
    RunConfig,
    RunningCosts,
    SkillCurve,
    StudyConfig,
    Travel,
    Village,
)
from sim.config.semantics import validate

__all__ = [
    "ConfigError",
    "Dist",
    "Hours",
    "Facility",
    "Village",
    "Road",
    "Travel",
    "Coordinates",
    "NetworkConfig",
    "Condition",
    "ChoiceModel",
    "Behaviour",
    "Emergency",
    "Prices",
    "RunningCosts",
    "PaymentConfig",
    "Profiles",
    "CareConfig",
    "RunConfig",
    "StudyConfig",
    "ExecutorConfig",
    "Operation",
    "RestructureConfig",
    "Config",
    "ExpertTeam",
    "SkillCurve",
    "ExpertConfig",
    "RemoteConsult",
    "RemoteConfig",
    "GreenChannelConfig",
    "LeversConfig",
    "TIERS",
    "MODALITIES",
    "SPECIALTIES",
    "warn",
    "register_configs",
    "to_config",
    "validate",
]
