"""Day plans: the stations of a testing day and the groups that rotate through them."""
