"""Lead scoring, capacity-aware assignment, SLA timers and the public pool. Engine: see issue 6."""
