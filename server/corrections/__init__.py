"""corrections domain: coach changes to recorded reps, each logged."""
