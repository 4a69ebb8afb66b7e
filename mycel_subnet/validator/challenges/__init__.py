"""Ground-truth challenges for the three request types, from a private seed."""

from mycel_subnet.validator.challenges.base import Challenge, Grade
from mycel_subnet.validator.challenges.checker import SandboxChecker
from mycel_subnet.validator.challenges.round import Round, build_round

__all__ = ["Challenge", "Grade", "Round", "SandboxChecker", "build_round"]
