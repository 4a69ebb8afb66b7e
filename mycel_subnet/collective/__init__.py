"""The instance side of the collective: extract, publish, find, show, use, rate and earnings.

The `mycel pattern ...` commands (mycel_subnet/cli/cmd_pattern.py) and the local HTTP API
(api.py, `mycel pattern serve`) call these same async functions on an `Instance`.
"""

from mycel_subnet.collective.apply import use
from mycel_subnet.collective.earnings import earnings, rate
from mycel_subnet.collective.errors import (
    BadInput,
    CollectiveError,
    NotSupported,
    Refused,
    Unavailable,
    UnknownPatternId,
)
from mycel_subnet.collective.extract import extract
from mycel_subnet.collective.find import find, show
from mycel_subnet.collective.instance import Instance, InstanceConfig
from mycel_subnet.collective.publish import publish

__all__ = [
    "BadInput",
    "CollectiveError",
    "Instance",
    "InstanceConfig",
    "NotSupported",
    "Refused",
    "Unavailable",
    "UnknownPatternId",
    "earnings",
    "extract",
    "find",
    "publish",
    "rate",
    "show",
    "use",
]
