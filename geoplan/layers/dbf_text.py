"""The text encoding of a Shapefile, from what its files say and what its bytes are.

A Shapefile's .dbf names its encoding in a .cpg file beside it or in the language-driver byte of
its header. Many Chinese files from older GIS have neither, and GDAL then reads the text as
ISO-8859-1: GBK names come out as ``Ò»ÅÅÒ»ºÅÉçÇø``. Others have a .cpg that is wrong (936
over UTF-8 text) or too narrow (GBK over text with characters only GB 18030 has). The text
fields' bytes tell: they are valid UTF-8, GBK or GB 18030, or valid in none (a file that mixes
encodings). :func:`shapefile_encoding` reads the file so, says where it departs from what the
file says, and refuses text in no single encoding rather than garble every name.
"""

from __future__ import annotations

import codecs
import functools
import logging
import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from geoplan._errors import InputDataError
from geoplan._text import first_named

__all__ = ["shapefile_encoding"]

logger = logging.getLogger(__name__)

_HEADER = 32
_FIELD = 32
_LDID_AT = 29
_TRIED = ("utf-8", "gbk", "gb18030")
"""The encodings tried, in order: GBK before GB 18030, its superset, so that a .cpg written
for the text names the narrower one that every GIS reads."""
_LABEL = {"utf-8": "UTF-8", "gbk": "GBK", "gb18030": "GB18030"}
_CPG = {"936": "gbk", "cp936": "gbk", "ansi 936": "gbk", "gbk": "gbk", "gb2312": "gbk",
        "65001": "utf-8", "utf-8": "utf-8", "utf8": "utf-8", "gb18030": "gb18030",
        "54936": "gb18030"}
"""What a .cpg file says (as ArcGIS and QGIS write them), as a Python codec."""
_LDID = {0x4D: "gbk", 0x7A: "gbk"}
"""Language-driver bytes of a .dbf header that name a Chinese code page (936)."""


def shapefile_encoding(shp: Path, declared: str | None = None,
                       key: str = "encoding") -> str | None:
    """The encoding to read ``shp``'s text with.

    Parameters
    ----------
    shp
        Path of the ``.shp`` file.
    declared
        The config's ``encoding:`` for the file, if any.
    key
        The config key of ``declared``, as messages name it.

    Returns
    -------
    str or None
        ``declared`` when the text is in it; else the encoding the text is in when the file
        says none or says a wrong one (said in a warning, once per file); None to leave the
        reading to GDAL (plain ASCII, or the .cpg or header right).

    Raises
    ------
    InputDataError
        If ``declared`` is not the text's encoding, or the text is in no single encoding.
    """
    dbf = _sibling(shp, ".dbf")
    if dbf is None:
        return declared
    cpg = _sibling(shp, ".cpg")
    stat = dbf.stat()
    cpg_text = cpg.read_text(encoding="ascii", errors="replace").strip() if cpg else None
    return _encoding(dbf, stat.st_mtime_ns, stat.st_size, declared, key, cpg_text)


@functools.lru_cache(maxsize=64)
def _encoding(dbf: Path, mtime_ns: int, size: int, declared: str | None, key: str,
              cpg_text: str | None) -> str | None:
    """:func:`shapefile_encoding` for one version of ``dbf`` (said once per process, however
    often the file is read)."""
    raw = dbf.read_bytes()
    parts = _text_parts(raw)
    if parts is None:
        return declared
    names, records = parts
    text = records.tobytes()
    if text.isascii() and all(n.isascii() for n in names):
        return declared
    said_by = (f"`{key}: {declared}`" if declared else
               f"{dbf.with_suffix('.cpg').name} (\"{cpg_text}\")" if cpg_text else
               "its header" if raw[_LDID_AT] in _LDID else None)
    said = (_codec(declared) if declared else _CPG.get((cpg_text or "").lower())
            if cpg_text else _LDID.get(raw[_LDID_AT]))
    # UTF-8 bytes of Chinese are mostly valid GBK too: a GBK file with UTF-8 records decodes
    # as GBK whole, and only the records tell
    mixed = None if _decodes(text, "utf-8") else _some_utf8(records)
    if said is not None and _decodes(text, said, names) and not mixed:
        _refuse_cut_names(dbf, names, said)
        return declared
    found = next((e for e in _TRIED if _decodes(text, e, names)), None)
    if found is None or mixed:
        raise InputDataError(_mixed(dbf, names, [row.tobytes() for row in records]))
    _refuse_cut_names(dbf, names, found)
    label = _LABEL[found]
    if declared:
        raise InputDataError(
            f"{dbf}: {said_by}, but its text is not {declared}: it reads as {label}. Set "
            f"`{key}: {found}`, or remove `{key}:` and geoplan reads it so.")
    if said_by:
        logger.warning("%s: %s says another encoding than its text's, which reads as %s and "
                       "is read so. Correct %s to hold %s.", dbf, said_by, label,
                       dbf.with_suffix(".cpg").name, label)
    else:
        logger.warning("%s has no .cpg file naming its text encoding; its text reads as %s and "
                       "is read so. Put a %s file beside it holding %s (or set `%s: %s` in the "
                       "config) to say so.", dbf, label, dbf.with_suffix(".cpg").name, label,
                       key, found)
    return found


def _codec(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:  # the config check names it
        return None


def _decodes(text: bytes, encoding: str, names: Sequence[bytes] = ()) -> bool:
    """Whether ``text`` and the field ``names`` are valid ``encoding``; a name may end in part
    of a character (a .dbf holds 10 bytes of a name: QGIS cuts a long UTF-8 name mid-way)."""
    try:
        text.decode(encoding)
        for name in names:
            codecs.getincrementaldecoder(encoding)().decode(name, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _some_utf8(records: np.ndarray) -> bool:
    """Whether some records with non-ASCII text are valid UTF-8 (text in GBK almost never is)."""
    return any(not row.isascii() and _decodes(row, "utf-8")
               for row in (r.tobytes() for r in records[(records >= 0x80).any(axis=1)]))


def _refuse_cut_names(dbf: Path, names: Sequence[bytes], encoding: str) -> None:
    """Refuse field names that end in part of a character: no reader can decode them."""
    cut = [n.decode(encoding, errors="ignore") + "…" for n in names
           if not _decodes(n, encoding)]
    if cut:
        raise InputDataError(
            f"{dbf}: the field name(s) {first_named(cut, 5)} end in half a character: a .dbf "
            "holds 10 bytes of a field name, and a longer one was cut in the middle of a "
            f"{_LABEL.get(encoding, encoding)} character. Rename the field(s) in QGIS to at most "
            "3 Chinese characters (or Latin letters), or save the layer as a GeoPackage, which "
            "keeps whole names.")


def _mixed(dbf: Path, names: list[bytes], records: list[bytes]) -> str:
    """Why a .dbf's text is in no single encoding: what the field names and each record read
    as."""
    reads: dict[str, list[str]] = {"utf-8": [], "gb18030": [], "neither": []}

    def read_as(text: bytes, names: Sequence[bytes] = ()) -> str:
        return next((e for e in ("utf-8", "gb18030") if _decodes(text, e, names)), "neither")

    if not all(n.isascii() for n in names):
        reads[read_as(b"", names)].append("field names")
    for i, record in enumerate(records, start=1):
        if not record.isascii():
            reads[read_as(record)].append(f"record {i}")
    said = "; ".join(f"{first_named(where, 5)} read as {name}"
                     for name, where in (("UTF-8", reads["utf-8"]), ("GBK", reads["gb18030"]),
                                         ("neither", reads["neither"])) if where)
    return (f"{dbf}: its text is in no single encoding ({said}), so its names would come out "
            "garbled. Save it again in one encoding: in QGIS, open it with the encoding that "
            "shows its names right (Layer Properties ▸ Source ▸ Data source encoding), fix the "
            "others, and Export ▸ Save Features As with Encoding UTF-8.")


def _text_parts(raw: bytes) -> tuple[list[bytes], np.ndarray] | None:
    """The field names, and each record's character fields as a row of bytes, each field ending
    in a line break (so that no character is read across two fields), without the header's
    binary parts; None when the header cannot be read."""
    if len(raw) < _HEADER:
        return None
    n_records, header_len, record_len = struct.unpack_from("<IHH", raw, 4)
    names: list[bytes] = []
    char_fields: list[tuple[int, int]] = []
    offset = 1  # each record starts with its deletion flag
    at = _HEADER
    while at + _FIELD <= min(header_len, len(raw)) and raw[at] != 0x0D:
        names.append(raw[at:at + 11].split(b"\0", 1)[0])
        kind, length = raw[at + 11:at + 12], raw[at + 16]
        if kind == b"C":
            char_fields.append((offset, length))
        offset += length
        at += _FIELD
    if offset != record_len or header_len + n_records * record_len > len(raw):
        return None  # not the layout the header says: leave it to GDAL
    records = np.frombuffer(raw, dtype=np.uint8, count=n_records * record_len,
                            offset=header_len).reshape(n_records, record_len)
    newline = np.full((n_records, 1), ord("\n"), dtype=np.uint8)
    text = np.hstack([part for start, length in char_fields
                      for part in (records[:, start:start + length], newline)]
                     or [np.zeros((n_records, 0), dtype=np.uint8)])
    return names, text


def _sibling(shp: Path, suffix: str) -> Path | None:
    """The file beside ``shp`` with the same stem and ``suffix`` in either case."""
    for candidate in (shp.with_suffix(suffix), shp.with_suffix(suffix.upper())):
        if candidate.is_file():
            return candidate
    return None
