"""Simulated devices and athletes that speak the real protocol on pseudo-terminals.

Words, one meaning each: a *hub* is only the device kind (kind 3, many beams, and the devices
behind it); a *plugged device* (plugged.py) is one simulated device alone on its own port; a
*rig* (server/sim/rig.py) is a whole simulated setup: devices, their ports, the driver that
opens them and the athletes running through them.
"""
