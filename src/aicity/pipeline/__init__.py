"""Pipeline steps as pure functions on arrays.

Convention for every step: data arrays are shaped (..., units, indicators); reductions run
over the units axis (-2), and any leading axes are batches (e.g. Monte Carlo samples).
"""
