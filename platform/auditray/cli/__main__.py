"""``python -m auditray.cli`` runs the same command line as ``auditray``."""

from auditray.cli import main

main()
