"""What a report was built with: modlab version, git commit, torch and Python versions, device, date."""

from __future__ import annotations

import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import torch

import modlab
from modlab.train.device import resolve_device


def git_commit(where: Path | None = None) -> str:
    """The commit of the source tree modlab runs from (``+ local changes`` when it has any), or
    ``unknown`` outside a git checkout."""
    where = where or Path(modlab.__file__).resolve().parent

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(where), *args], capture_output=True, text=True, check=True, timeout=30
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short=12", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{commit} + local changes" if dirty else commit


def device_name(device: str) -> str:
    """``cpu`` or ``cuda (GPU name)`` for the device string the figures ran with."""
    resolved = resolve_device(device)
    if resolved.type == "cuda":
        return f"{resolved} ({torch.cuda.get_device_name(resolved)})"
    return str(resolved)


def build_info(device: str) -> dict[str, str]:
    return {
        "modlab": modlab.__version__,
        "git commit": git_commit(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "device": device_name(device),
        "built": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
