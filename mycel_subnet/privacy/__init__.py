"""Privacy pipeline for sharing patterns: PII removal, generalisation, differential privacy."""

from mycel_subnet.privacy.dp import (
    PrivacyAccountant,
    PrivacyBudgetExceeded,
    gaussian_mechanism,
    gaussian_sigma,
    laplace_mechanism,
    laplace_scale,
    privatise_signals,
)
from mycel_subnet.privacy.generalise import Generalised, generalise
from mycel_subnet.privacy.pii import PiiFinding, Redaction, remove_pii
from mycel_subnet.privacy.pipeline import ShareableInsight, extract_shareable

__all__ = [
    "Generalised",
    "PiiFinding",
    "PrivacyAccountant",
    "PrivacyBudgetExceeded",
    "Redaction",
    "ShareableInsight",
    "extract_shareable",
    "gaussian_mechanism",
    "gaussian_sigma",
    "generalise",
    "laplace_mechanism",
    "laplace_scale",
    "privatise_signals",
    "remove_pii",
]
