"""Guided verification and calibration runs as generators of steps, and a runner. No UI imports."""
