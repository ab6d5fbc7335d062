"""The IR: typed SSA graphs over a closed set of ops. Imports nothing else of tracejit."""
from .graph import Graph, GraphBuilder, Node, Value, clone_node, make_node, rebuild
from .interpreter import run_graph
from .ops import OPS, OpGroup, OpSpec
from . import ops_control  # noqa: F401,E402  (registers the dynamic-slice and loop ops)
from . import ops_library  # noqa: F401,E402  (registers the sort and linear-algebra ops)
from . import ops_special  # noqa: F401,E402  (registers erf and erfc)
from . import ops_fft  # noqa: F401,E402  (registers the fft library op)
from .printer import format_graph
from .types import TensorType, parse_type, short_name
from .verifier import VerificationError, verify

__all__ = ["Graph", "GraphBuilder", "Node", "Value", "clone_node", "make_node", "rebuild",
           "run_graph", "OPS", "OpGroup", "OpSpec", "format_graph", "TensorType", "parse_type",
           "short_name", "VerificationError", "verify"]
