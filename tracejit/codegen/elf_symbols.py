"""The undefined symbols of an ELF64 relocatable object (what it needs from outside).

Why: LLVM's JIT linker ends the process with a fatal error when an object it loads
names a symbol nobody defines. ``native_cache`` therefore records, when it stores a
kernel's object code, every symbol the code imports, and checks before loading that the
process defines each of them. llvmlite has no symbol listing, so this reads the ELF
symbol table itself (only what that needs: section headers, ``SHT_SYMTAB`` entries with
section index ``SHN_UNDEF``).
"""
from __future__ import annotations

import struct

_SHT_SYMTAB = 2
_SHN_UNDEF = 0


class NotElf64(ValueError):
    """The bytes are not a little-endian ELF64 object (other platforms store nothing)."""


def undefined_symbols(obj: bytes) -> list:
    """Sorted names of the symbols `obj` uses but does not define."""
    if obj[:4] != b"\x7fELF" or len(obj) < 64 or obj[4] != 2 or obj[5] != 1:
        raise NotElf64("not a little-endian ELF64 object")
    section_offset, = struct.unpack_from("<Q", obj, 0x28)
    entry_size, count = struct.unpack_from("<HH", obj, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", obj, section_offset + i * entry_size)
                for i in range(count)]
    names = set()
    for _name, kind, _flags, _addr, offset, size, link, _info, _align, symbol_size in sections:
        if kind != _SHT_SYMTAB or symbol_size == 0:
            continue
        strings = sections[link][4]
        for k in range(size // symbol_size):
            name, _info, _other, section, _value, _size = struct.unpack_from(
                "<IBBHQQ", obj, offset + k * symbol_size)
            if section == _SHN_UNDEF and name:
                start = strings + name
                names.add(obj[start:obj.index(b"\0", start)].decode())
    return sorted(names)
