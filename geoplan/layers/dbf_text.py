"""The text encoding of a Shapefile that does not say it.

A Shapefile's .dbf names its encoding in a .cpg file beside it or in the language-driver byte of
its header. Many Chinese files from older GIS have neither; GDAL then reads the text as
ISO-8859-1 and GBK names come out as ``Ò»ÅÅÒ»ºÅÉçÇø``. When neither is there, the text
fields' bytes tell: valid UTF-8 is read as UTF-8, else valid GB 18030 (a superset of GBK) as
GB 18030; anything else is left to GDAL.
"""

from __future__ import annotations

import functools
import logging
import struct
from pathlib import Path

import numpy as np

__all__ = ["guess_shapefile_encoding"]

logger = logging.getLogger(__name__)

_HEADER = 32
_FIELD = 32
_LDID_AT = 29


def guess_shapefile_encoding(shp: Path) -> str | None:
    """The encoding to read ``shp``'s text with, when its files do not name one.

    Parameters
    ----------
    shp
        Path of the ``.shp`` file.

    Returns
    -------
    str or None
        ``"utf-8"`` or ``"gb18030"``; None when a .cpg file or the header's language driver
        names the encoding, when the text is plain ASCII, or when the bytes are neither.
    """
    dbf = _sibling(shp, ".dbf")
    if dbf is None or _sibling(shp, ".cpg") is not None:
        return None
    stat = dbf.stat()
    return _guess(dbf, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _guess(dbf: Path, mtime_ns: int, size: int) -> str | None:
    """The guess for one version of ``dbf`` (said once per process, however often it is read)."""
    raw = dbf.read_bytes()
    text = _text_bytes(raw)
    if text is None or text.isascii():
        return None
    for encoding in ("utf-8", "gb18030"):
        try:
            text.decode(encoding)
        except UnicodeDecodeError:
            continue
        label = "UTF-8" if encoding == "utf-8" else "GBK"
        logger.warning("%s has no .cpg file naming its text encoding; its text reads as %s and "
                       "is read so. Put a %s file beside it holding %s (or set `encoding:` in "
                       "the config) to say so.", dbf.name, label, dbf.stem + ".cpg", label)
        return encoding
    return None


def _text_bytes(raw: bytes) -> bytes | None:
    """The field names and character fields of a .dbf's records, without the header's binary
    parts; None when the header names a language driver or cannot be read."""
    if len(raw) < _HEADER or raw[_LDID_AT] != 0:
        return None
    n_records, header_len, record_len = struct.unpack_from("<IHH", raw, 4)
    names: list[bytes] = []
    char_fields: list[tuple[int, int]] = []
    offset = 1  # each record starts with its deletion flag
    at = _HEADER
    while at + _FIELD <= min(header_len, len(raw)) and raw[at] != 0x0D:
        name = raw[at:at + 11].split(b"\0", 1)[0]
        kind, length = raw[at + 11:at + 12], raw[at + 16]
        names.append(name)
        if kind == b"C":
            char_fields.append((offset, length))
        offset += length
        at += _FIELD
    if offset != record_len or header_len + n_records * record_len > len(raw):
        return None  # not the layout the header says: leave it to GDAL
    records = np.frombuffer(raw, dtype=np.uint8, count=n_records * record_len,
                            offset=header_len).reshape(n_records, record_len)
    # each field on its own line, so that no character is read across two fields
    newline = np.full((n_records, 1), ord("\n"), dtype=np.uint8)
    parts = [b"\n".join(names) + b"\n"]
    parts += [np.hstack([records[:, start:start + length], newline]).tobytes()
              for start, length in char_fields]
    return b"".join(parts)


def _sibling(shp: Path, suffix: str) -> Path | None:
    """The file beside ``shp`` with the same stem and ``suffix`` in either case."""
    for candidate in (shp.with_suffix(suffix), shp.with_suffix(suffix.upper())):
        if candidate.is_file():
            return candidate
    return None
