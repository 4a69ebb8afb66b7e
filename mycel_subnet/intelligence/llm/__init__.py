"""LLM backends behind one interface, JSON output with repair and retry, and the router."""

from .base import (
    BackendError,
    BudgetExceeded,
    Generation,
    LLMBackend,
    LLMError,
    NoModelAvailable,
)
from .json_output import JsonResult, extract_json_text, generate_json, parse_json_object
from .router import RoutedJson, RoutedText, Router, RouterPolicy, build_router

__all__ = [
    "BackendError",
    "BudgetExceeded",
    "Generation",
    "JsonResult",
    "LLMBackend",
    "LLMError",
    "NoModelAvailable",
    "RoutedJson",
    "RoutedText",
    "Router",
    "RouterPolicy",
    "build_router",
    "extract_json_text",
    "generate_json",
    "parse_json_object",
]
