"""Static safety analysis of shared patterns: code templates and prompt templates."""

from mycel_subnet.safety.analyser import analyse_code, scan_prompt
from mycel_subnet.safety.report import Finding, SafetyReport, Severity

__all__ = ["Finding", "SafetyReport", "Severity", "analyse_code", "scan_prompt"]
