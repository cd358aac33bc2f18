"""The benchmarks' tables as the documentation shows them (``--markdown``): a Markdown table followed by the
command that produced it, the machine it ran on and the date, ready to paste into ``docs/``.

Written here: the line naming the command, the machine and the date is this project's convention, and
the tables are a few lines of text.
"""

from __future__ import annotations

import datetime
import os
import platform
import sys
from collections.abc import Sequence
from pathlib import Path

import torch


def machine() -> str:
    """This machine in one line: the processor, its cores, torch's threads, each CUDA GPU, torch's version."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        lines = cpuinfo.read_text().splitlines()
        names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
        cpu = names[0] if names else cpu
    parts = [f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__} on {torch.get_num_threads()} threads"]
    if torch.cuda.is_available():
        parts += [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return "; ".join(parts)


def command() -> str:
    """The command that is running, as a reader would type it: ``python -m bench.<name> …``."""
    module = Path(sys.argv[0]).stem
    return " ".join(["python -m bench." + module, *sys.argv[1:]])


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|")


def markdown(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """``rows`` under ``columns`` as a Markdown table, followed by the command, the machine and today's date."""
    lines = ["| " + " | ".join(map(_cell, columns)) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(map(_cell, row)) + " |" for row in rows]
    lines += ["", f"Command: `{command()}`. Machine: {machine()}. Measured {datetime.date.today().isoformat()}."]
    return "\n".join(lines)
