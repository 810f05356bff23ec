"""norms domain: the published norm tables (drills/norms/) from the command line."""
