"""Ray Job entrypoints: ``ray job submit --working-dir . -- python -m jobs.NAME ...``.

Each is a thin adapter over the library. On a cluster whose image does not install auditray,
the uploaded working directory still carries it under ``platform/``; this makes it importable.
"""

import importlib.util
import sys
from pathlib import Path

if importlib.util.find_spec("auditray") is None:
    sys.path.append(str(Path(__file__).resolve().parent.parent / "platform"))
