"""Policy search: the cheapest mix of levers that meets a county's targets, found by a
maintained optimiser (Optuna) over scenarios run under common random numbers, with the
constraints judged on confidence intervals and the best candidates confirmed by more
replications (``python -m sim.search search=<name>``; configs in ``scenarios/search/``)."""

from sim.search.config import SearchConfig, load_search
from sim.search.runner import SearchResult, load_search_result, run_search

__all__ = ["SearchConfig", "SearchResult", "load_search", "run_search", "load_search_result"]
