"""Optimization passes: pure Graph -> Graph functions and the ordered pipeline."""
from .cse import cse
from .dce import dce
from .fold import fold_constants
from .fusion import FusionError, describe_fusion, fuse
from .pipeline import PIPELINE, final_graph, format_history, optimize
from .simplify import RULES, simplify

__all__ = ["cse", "dce", "fold_constants", "FusionError", "describe_fusion", "fuse", "PIPELINE",
           "final_graph", "format_history", "optimize", "RULES", "simplify"]
