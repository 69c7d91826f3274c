"""Turns an issue about a repository into a checked, ordered plan: RepositoryDigest,
retrieval, spec normalization (rules / LLM / T5, fused), StyleProfiler (DivoT5 slot)
and PhasePlanner. Never writes to the target repository."""

from planner.normalize import SpecConfig, SpecNormalizer, from_spec_file
from planner.phases import Phase, PhasePlanner, Plan, PlanError
from planner.prompts import SpecFormats, spec_formats
from planner.spec import OPS, Operation, Spec, SpecError

__all__ = [
    "OPS",
    "Operation",
    "Phase",
    "PhasePlanner",
    "Plan",
    "PlanError",
    "Spec",
    "SpecConfig",
    "SpecError",
    "SpecFormats",
    "SpecNormalizer",
    "from_spec_file",
    "spec_formats",
]
