"""Policy: who the caller is and what it may do (auth), and the audit log of every write (audit)."""
