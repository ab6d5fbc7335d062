"""What makes two generated kernels the same kernel (shared by both backends).

A kernel is identified by its code with its own name taken out, so regions that
differ only in name (``heat_k0`` and ``heat_k3`` of an unrolled loop) or only in sizes
(a new batch size) share one compiled kernel. The IR shown in a file's header has its
dims written as size parameters for the same reason.
"""
from __future__ import annotations

import re

from .files import content_hash


def kernel_name(nest) -> str:
    """The Python name of `nest`'s kernel function: its region's name, made a legal
    identifier that shadows nothing a generated module uses."""
    name = re.sub(r"\W", "_", nest.name) or "kernel"
    reserved = name[0].isdigit() or name.startswith("_tj_") or name in ("np", "numba", "start", "stop")
    return f"k_{name}" if reserved else name


def normalize_region_text(text: str, sizes: dict) -> str:
    """Write each dim of the printed types as its size parameter (`f32[n0,n1]`), so the
    header (and the file's content hash) does not change with the batch size."""
    names = {int(v): k for k, v in sizes.items()}

    def dims(match):
        parts = [p for p in match.group(2).split(",") if p]
        shown = [names.get(int(p), p) if p.isdigit() else p for p in parts]
        return f"{match.group(1)}[{','.join(shown)}]"
    return re.sub(r"(~?(?:bool|[iuf]\d+)|shape=)\[([\d,]*)\]", dims, text)


def kernel_identity(code: str, function_name: str, nest) -> str:
    """Hash of a kernel's code with its function name replaced by a placeholder, plus
    what its launcher reads from the nest (the domain's extents as size parameters,
    which axes are reduced, buffer ranks and dtypes, the matmul operands): two nests
    whose code prints alike but launch differently are different kernels."""
    launch = repr((nest.domain_sizes, nest.inner_axes, nest.matmul,
                   [(b.name, len(b.shape), str(b.dtype)) for b in (*nest.inputs, *nest.outputs)]))
    return content_hash(re.sub(rf"\b{re.escape(function_name)}\b", "__kernel__", code) + launch)
