"""OR-Tools solvers: pick-up mix and cross-region transfers. Engines: see issues 4 and 5."""
