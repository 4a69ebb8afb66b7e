"""Engines that solve the task space's requests by parsing, testing and program search, at
three budgets (the capability ladder): reference, search, deep."""

from mycel_subnet.engines.solver.budget import BUDGETS, DEEP, REFERENCE, SEARCH, Budget
from mycel_subnet.engines.solver.engine import SolverEngine

__all__ = ["BUDGETS", "DEEP", "REFERENCE", "SEARCH", "Budget", "SolverEngine"]
