"""The errors modlab raises for bad input: each prints as one line naming what was wrong."""


class ModlabError(Exception):
    """Base class: a user-facing problem (bad config, bad spec, bad store), never a bug."""


class ConfigError(ModlabError, ValueError):
    """A config or sweep spec that does not validate."""


class StoreError(ModlabError):
    """A results store that cannot be opened or is not a modlab store."""


class StoreWriteError(StoreError):
    """A write to the store failed (disk full, file-size limit, locked past the busy timeout)."""
