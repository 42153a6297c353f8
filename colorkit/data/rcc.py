"""Read Qt resource files (``.rcc``, format versions 1-3) with the standard library only.

GCompris ships its photos inside such files (see ``gcompris.py``). Layout (all integers big-endian)::

    header   b"qres", version u32, tree offset u32, data offset u32, names offset u32
             (+ overall flags u32 from version 3 on: a 24-byte header)
    tree     one node per entry, 14 bytes (v1) or 22 bytes (v2, v3; + u64 last-modified):
               name offset u32, flags u16 (1 = zlib, 2 = directory, 4 = zstd), then
               directory: child count u32, index of the first child u32
               file:      country u16, language u16, data offset u32
    names    length u16, hash u32, UTF-16BE characters
    data     size u32, bytes; zlib data starts with the uncompressed size (u32)

Node 0 is the root directory ``/``. Usage::

    rcc = RccFile.open("explore_monuments.rcc")
    for entry in rcc.files():          # RccEntry(path="explore_monuments/resource/...", flags=..., ...)
        data = rcc.read(entry)         # the file's bytes, decompressed
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from colorkit.errors import ColorkitError

FLAG_ZLIB = 0x01
FLAG_DIRECTORY = 0x02
FLAG_ZSTD = 0x04
MAGIC = b"qres"


@dataclass(frozen=True)
class RccEntry:
    """One file inside an .rcc: its path (``/``-separated, no leading slash), flags and raw data offset."""

    path: str
    flags: int
    data_offset: int

    @property
    def compression(self) -> str:
        if self.flags & FLAG_ZSTD:
            return "zstd"
        if self.flags & FLAG_ZLIB:
            return "zlib"
        return "none"


def _zstd_decompress(payload: bytes) -> bytes | None:
    """Decompress a zstd frame with whatever decoder is installed; None when there is none."""
    try:  # Python >= 3.14
        from compression import zstd  # type: ignore[import-not-found]

        return zstd.decompress(payload)
    except ImportError:
        pass
    try:
        import zstandard  # type: ignore[import-not-found]

        return zstandard.ZstdDecompressor().decompress(payload, max_output_size=1 << 30)
    except ImportError:
        return None


class RccFile:
    """A parsed .rcc held in memory (they are a few MB)."""

    def __init__(self, data: bytes, name: str = "<bytes>"):
        self.name = name
        self._b = data
        if len(data) < 20 or data[:4] != MAGIC:
            raise ColorkitError("not a Qt resource file (no 'qres' magic)", path=name)
        self.version, self.tree_offset, self.data_offset, self.names_offset = struct.unpack_from(">4I", data, 4)
        if self.version not in (1, 2, 3):
            raise ColorkitError(f"unsupported .rcc format version {self.version} (1-3 are supported)", path=name)
        if self.version >= 3 and len(data) < 24:
            raise ColorkitError("truncated .rcc: header cut short", path=name)
        self.overall_flags = struct.unpack_from(">I", data, 20)[0] if self.version >= 3 else 0
        self.node_size = 14 if self.version == 1 else 22
        for what, off in (("tree", self.tree_offset), ("data", self.data_offset), ("names", self.names_offset)):
            if off >= len(data):
                raise ColorkitError(f"truncated .rcc: {what} offset {off} beyond file size {len(data)}", path=name)

    @classmethod
    def open(cls, path: str | Path) -> RccFile:
        path = Path(path)
        try:
            return cls(path.read_bytes(), name=str(path))
        except OSError as exc:
            raise ColorkitError(f"cannot read: {exc.strerror or exc}", path=path) from exc

    # -- low level ---------------------------------------------------------------------------------
    def _node(self, index: int) -> tuple[int, int, int, int]:
        """(name offset, flags, a, b) of tree node ``index``; (a, b) = (count, first child) or (locale, data offset)."""
        off = self.tree_offset + index * self.node_size
        if off + 14 > len(self._b):
            raise ColorkitError(f"truncated .rcc: tree node {index} out of range", path=self.name)
        name_off, flags = struct.unpack_from(">IH", self._b, off)
        if flags & FLAG_DIRECTORY:
            count, first = struct.unpack_from(">II", self._b, off + 6)
            return name_off, flags, count, first
        locale, data_off = struct.unpack_from(">II", self._b, off + 6)
        return name_off, flags, locale, data_off

    def _name(self, name_off: int) -> str:
        off = self.names_offset + name_off
        if off + 6 > len(self._b):
            raise ColorkitError("truncated .rcc: name out of range", path=self.name)
        (length,) = struct.unpack_from(">H", self._b, off)
        raw = self._b[off + 6 : off + 6 + 2 * length]
        if len(raw) != 2 * length:
            raise ColorkitError("truncated .rcc: name runs past the end", path=self.name)
        try:
            return raw.decode("utf-16-be")
        except UnicodeDecodeError as exc:
            raise ColorkitError(f"corrupt .rcc: a name is not valid UTF-16 ({exc.reason})", path=self.name) from None

    # -- public --------------------------------------------------------------------------------------
    def files(self) -> list[RccEntry]:
        """Every file in the resource tree, depth first, in tree order."""
        out: list[RccEntry] = []
        n_nodes_max = (len(self._b) - self.tree_offset) // self.node_size
        stack = [(0, "")]
        seen = 0
        while stack:
            index, prefix = stack.pop()
            seen += 1
            if seen > n_nodes_max + 1:
                raise ColorkitError("corrupt .rcc: resource tree has a cycle", path=self.name)
            name_off, flags, a, b = self._node(index)
            name = "" if index == 0 else self._name(name_off)
            path = f"{prefix}/{name}" if prefix else name
            if flags & FLAG_DIRECTORY:
                if a + b > n_nodes_max:  # a corrupt count would otherwise queue billions of nodes
                    raise ColorkitError(f"corrupt .rcc: directory {path or '/'!r} lists nodes past the end",
                                        path=self.name)
                stack.extend((b + i, path) for i in reversed(range(a)))
            else:
                out.append(RccEntry(path=path, flags=flags, data_offset=b))
        return out

    def read(self, entry: RccEntry) -> bytes:
        """The bytes of one file, decompressed. zstd needs a decoder (Python >= 3.14 or ``zstandard``)."""
        off = self.data_offset + entry.data_offset
        if off + 4 > len(self._b):
            raise ColorkitError(f"truncated .rcc: data of {entry.path} out of range", path=self.name)
        (size,) = struct.unpack_from(">I", self._b, off)
        payload = self._b[off + 4 : off + 4 + size]
        if len(payload) != size:
            raise ColorkitError(f"truncated .rcc: data of {entry.path} runs past the end", path=self.name)
        if entry.flags & FLAG_ZSTD:
            data = _zstd_decompress(payload)
            if data is None:
                raise ColorkitError(
                    f"{entry.path} is zstd-compressed and no zstd decoder is available "
                    "(use Python >= 3.14 or `pip install zstandard`)",
                    path=self.name,
                )
            return data
        if entry.flags & FLAG_ZLIB:
            if size < 4:
                raise ColorkitError(f"corrupt zlib data for {entry.path}", path=self.name)
            (expected,) = struct.unpack_from(">I", payload, 0)
            try:
                data = zlib.decompress(payload[4:])
            except zlib.error as exc:
                raise ColorkitError(f"corrupt zlib data for {entry.path}: {exc}", path=self.name) from exc
            if len(data) != expected:
                raise ColorkitError(
                    f"zlib data for {entry.path} has {len(data)} bytes, header says {expected}", path=self.name
                )
            return data
        return payload

    def read_path(self, path: str) -> bytes:
        """The bytes of the file at ``path`` (as listed by :meth:`files`)."""
        for entry in self.files():
            if entry.path == path.lstrip("/"):
                return self.read(entry)
        raise ColorkitError(f"no file {path!r} in the resource", path=self.name)


def write_rcc(files: dict[str, bytes], version: int = 3, compress: dict[str, str] | None = None) -> bytes:
    """Build an .rcc in memory (the inverse of :class:`RccFile`; used by the tests).

    ``files`` maps ``/``-separated paths to bytes; ``compress`` maps a path to ``"zlib"`` or
    ``"zstd"`` (zstd payloads are written as given: pass an already-compressed frame).
    """
    compress = compress or {}
    # directory tree: nested dicts, leaves are bytes
    root: dict = {}
    for path in files:
        parts = path.strip("/").split("/")
        d = root
        for p in parts[:-1]:
            d = d.setdefault(p, {})
        d[parts[-1]] = path
    names = bytearray()
    name_offsets: dict[str, int] = {}

    def name_off(name: str) -> int:
        if name not in name_offsets:
            name_offsets[name] = len(names)
            enc = name.encode("utf-16-be")
            h = 0
            for ch in name:  # qt_hash
                h = ((h << 4) + ord(ch)) & 0xFFFFFFFF
                h = (h ^ ((h & 0xF0000000) >> 23)) & 0x0FFFFFFF
            names.extend(struct.pack(">HI", len(name), h) + enc)
        return name_offsets[name]

    data_blob = bytearray()
    nodes: list[bytes] = []
    # breadth-first layout so that the children of a directory are contiguous
    pending: list[tuple[int, str, dict | str]] = [(0, "", root)]
    nodes.append(b"")
    while pending:
        idx, name, item = pending.pop(0)
        noff = 0 if idx == 0 else name_off(name)
        if isinstance(item, dict):
            children = sorted(item.items())
            first = len(nodes)
            for child_name, child in children:
                nodes.append(b"")
                pending.append((len(nodes) - 1, child_name, child))
            body = struct.pack(">IHII", noff, FLAG_DIRECTORY, len(children), first)
        else:
            raw = files[item]
            kind = compress.get(item, "none")
            flags = 0
            if kind == "zlib":
                raw = struct.pack(">I", len(raw)) + zlib.compress(raw)
                flags = FLAG_ZLIB
            elif kind == "zstd":
                flags = FLAG_ZSTD
            body = struct.pack(">IHHHI", noff, flags, 0, 0, len(data_blob))
            data_blob.extend(struct.pack(">I", len(raw)) + raw)
        if version >= 2:
            body += struct.pack(">Q", 0)
        nodes[idx] = body
    header_size = 24 if version >= 3 else 20
    tree = b"".join(nodes)
    tree_off = header_size
    data_off = tree_off + len(tree)
    names_off = data_off + len(data_blob)
    header = MAGIC + struct.pack(">4I", version, tree_off, data_off, names_off)
    if version >= 3:
        header += struct.pack(">I", 0)
    return header + tree + bytes(data_blob) + bytes(names)
