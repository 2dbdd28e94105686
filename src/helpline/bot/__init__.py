"""The AI front line: matching, scripts, knowledge answers, escalation (its own issue builds it)."""
