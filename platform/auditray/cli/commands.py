"""Imports every command module so its commands register on the app."""

from auditray.cli import audit_cmds, data_cmds, demo_cmds, generate_cmds, misc_cmds  # noqa: F401
