"""Devices that do not speak protocol v1, translated for the rest of the program."""
