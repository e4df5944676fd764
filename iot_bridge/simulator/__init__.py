"""``tradeloom simulate-devices``: a fleet of simulated industrial devices speaking the real protocols."""
