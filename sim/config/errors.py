"""Config errors: one line naming the full key and what is wrong, and the messages that turn
Hydra, OmegaConf and YAML exceptions into such a line.  Imports nothing else of the package.
"""

from __future__ import annotations

__all__ = ["ConfigError", "shorten", "warn", "yaml_error_message"]

#: longest message a :class:`ConfigError` carries; longer values inside it are shortened.
_MAX_MESSAGE = 400
_MAX_TOKEN = 60


def shorten(text: str, limit: int = _MAX_MESSAGE) -> str:
    """One line of at most ``limit`` characters: newlines folded, over-long tokens cut.

    >>> shorten("a: " + "x" * 500)[:12], len(shorten("a: " + "x" * 500)) < 100
    ('a: xxxxxxxxx', True)
    """
    words = " ".join(str(text).split()).split(" ")
    out = []
    for i, w in enumerate(words):
        keep = (w.startswith("/") and len(w) <= 250) or (i == 0 and w.endswith(":") and len(w) <= 250)
        if len(w) > _MAX_TOKEN and not keep:  # keep file paths and the leading key
            w = f"{w[:_MAX_TOKEN - 20]}...({len(w)} chars)"
        out.append(w)
    line = " ".join(out)
    return line if len(line) <= limit else line[: limit - 3] + "..."


class ConfigError(ValueError):
    """A user mistake in a config: one line naming the key and what is wrong.

    The message is folded to one line and long values in it are shortened, so that an error
    never echoes a value thousands of characters long.
    """

    def __init__(self, message: object = "") -> None:
        super().__init__(shorten(str(message)))


_WARNED: set[str] = set()


def warn(key: str, message: str) -> None:
    """One line on stderr about a value that is unusual but not wrong (once per process)."""
    import sys

    line = shorten(f"warning: {key}: {message}")
    if line not in _WARNED:
        _WARNED.add(line)
        print(line, file=sys.stderr)


def _omegaconf_message(exc: BaseException) -> str:
    """One line from an OmegaConf error: the full dotted key, then the first line of the
    problem.  OmegaConf reports keys inside lists of structured nodes (``teams[0]``) relative
    to the list element; its message then carries the full key on a ``full_key:`` line."""
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    first = lines[0] if lines else type(exc).__name__
    key = getattr(exc, "full_key", None) or ""
    for ln in lines[1:]:
        if ln.startswith("full_key:"):
            full = ln.split(":", 1)[1].strip()
            if len(full) > len(key):
                key = full
    if key:
        # OmegaConf writes a leaf's key first ("first_day: Value 'x' ..."): keep the full key only
        leaf = key.rsplit(".", 1)[-1].split("[", 1)[0]
        for prefix in (f"{key}:", f"{leaf}:"):
            if first.startswith(prefix):
                first = first[len(prefix):].strip()
                break
        first = f"{key}: {first}"
    return first


def yaml_error_message(exc: BaseException) -> str | None:
    """One line for a YAML error in the chain of ``exc``: the file, the line and the problem
    (a duplicate key names the key), or None when the chain holds no YAML error.

    >>> import yaml
    >>> try:
    ...     yaml.safe_load("a: 1\\nb: [1, 2\\n")
    ... except yaml.YAMLError as exc:
    ...     print(yaml_error_message(exc))
    <text>, line 3: expected ',' or ']', but got '<stream end>' (in the flow sequence at line 2)
    """
    import os

    import yaml

    e: BaseException | None = exc
    for _ in range(10):
        if e is None:
            return None
        if isinstance(e, yaml.MarkedYAMLError):
            break
        e = e.__cause__ or e.__context__
    else:
        return None
    assert isinstance(e, yaml.MarkedYAMLError)
    mark = e.problem_mark or e.context_mark
    name = getattr(mark, "name", "") or "<text>"
    if name.startswith("<"):
        name = "<text>"
    else:
        try:
            rel = os.path.relpath(name)
            name = rel if not rel.startswith("..") else name
        except ValueError:  # pragma: no cover - another drive on Windows
            pass
    line = mark.line + 1 if mark is not None else 0
    problem = (e.problem or "").strip()
    if problem.startswith("found duplicate key"):
        dup = problem[len("found duplicate key"):].strip()
        problem = f"duplicate key {dup!r}"
    context = (e.context or "").strip()
    where = ""
    if e.context_mark is not None and context:
        thing = context.replace("while parsing ", "").replace("while constructing ", "").replace("while scanning ", "")
        thing = thing.replace("a ", "the ", 1) if thing.startswith("a ") else thing
        where = f" (in {thing} at line {e.context_mark.line + 1})"
    return f"{name}, line {line}: {problem or context or type(e).__name__}{where}"
ConfigError.__module__ = "sim.config"  # its public name (as in tracebacks and doctests)
