"""Coach accounts, logins, CSRF and the guards that close coach routes."""
