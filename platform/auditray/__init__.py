"""Auditray."""
