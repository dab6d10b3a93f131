"""The errors modlab raises for bad input: each prints as one line naming what was wrong."""


class ModlabError(Exception):
    """Base class: a user-facing problem (bad config, bad spec, bad store), never a bug."""


class ConfigError(ModlabError, ValueError):
    """A config or sweep spec that does not validate."""


class StoreError(ModlabError):
    """A results store that cannot be opened or is not a modlab store."""


class StoreWriteError(StoreError):
    """A write to the store failed (disk full, file-size limit, locked past the busy timeout)."""


ECHO_LIMIT = 200  # characters of a value an error message repeats


def echo(value: object, limit: int = ECHO_LIMIT) -> str:
    """``repr(value)`` for an error message, cut to ``limit`` characters (``…`` marks the cut), so a
    huge bad value never makes a huge error line."""
    return clip(repr(value), limit)


def clip(text: str, limit: int = ECHO_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, ``…`` marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
