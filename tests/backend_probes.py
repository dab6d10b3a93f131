"""Functions the backend tests hand to worker processes. Kept free of torch and modlab imports so a
spawned worker starts in a fraction of a second."""

from __future__ import annotations

import os
import signal
from pathlib import Path


def square(item: int, device: str) -> tuple[int, str]:
    return item * item, device


def die_on_request(item: tuple[int, str, str | None], device: str) -> int:
    """Item ``(value, mode, marker)``: mode 'always' kills its worker every time; 'once' kills it the
    first time only (the marker file remembers); anything else returns ``value``."""
    value, mode, marker = item
    if mode == "always" or (mode == "once" and not Path(marker).exists()):
        if mode == "once":
            Path(marker).touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return value


def raise_on_three(item: int, device: str) -> int:
    if item == 3:
        raise ValueError("three is not allowed")
    return item
