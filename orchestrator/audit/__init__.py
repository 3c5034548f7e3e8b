"""The audit trail: every command attempt, who, what, where, when and how it ended."""
