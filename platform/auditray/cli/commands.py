"""Registers every command module (``*_cmds.py`` in this package) on the app.

Discovery keeps each capability's commands in its own module: adding one needs no edit here.
"""

import importlib
import pkgutil

import auditray.cli as _package

for _module in sorted(m.name for m in pkgutil.iter_modules(_package.__path__) if m.name.endswith("_cmds")):
    importlib.import_module(f"auditray.cli.{_module}")
