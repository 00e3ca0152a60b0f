"""The read-only web catalog (what ai-developer browses)."""
