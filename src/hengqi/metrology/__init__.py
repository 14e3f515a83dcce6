"""The pure metrology core: no I/O, only stdlib, numpy and scipy.

Quantities and rounding, accuracy classes and MPE rules, R 76 test evaluation, R 111 weights, GUM propagation
and Monte Carlo, EURAMET cg-18 calibration, minimum weight, decision rules.
"""
