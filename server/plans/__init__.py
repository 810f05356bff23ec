"""Session plans: blocks of drills for a squad, run rep by rep now or at a planned time."""
