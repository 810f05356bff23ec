"""Simulated devices and athletes that speak the real protocol on pseudo-terminals."""
