"""Credentials in the OS keyring, the audit log, log redaction."""
