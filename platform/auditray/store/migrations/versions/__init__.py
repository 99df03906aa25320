"""Schema revisions, oldest first by their numeric prefix. Never edit one that has shipped."""
