"""Use cases: one function per thing a user or an event asks of Relance."""
