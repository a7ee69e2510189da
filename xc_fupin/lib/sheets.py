"""Reading county spreadsheets (.xlsx, .xls, .csv) the way they really arrive.

The file is checked before any workbook parser sees it: size, format by content (not by
name), ZIP bombs (declared sizes, compression ratio, and the real inflated size of every
member, so a header that lies about its size is caught too), macros and passwords.

.xlsx values are read with python-calamine (Rust, no Python XML parsing, so no entity
expansion either): about 15x faster than openpyxl's read-only mode on a 100,000-row
sheet. A failed allocation inside calamine aborts the process rather than raising, so
calamine runs in a forked child process (`xc_fupin.lib.forked`) with a memory cap and a
time limit: a hostile or damaged workbook kills only that child, and the caller gets a
SheetError. The members are also scanned beforehand for the two inputs known to trigger
the abort (a cell reference absurdly far from A1, an impossible shared-string count; see
`_MemberScan`), which gives the user a more useful message. Merged ranges come from
calamine's own `merged_cell_ranges` (python-calamine 0.9.1 reads them while it loads the
sheet), so there is no second pass over the sheet XML.

.xls is read with xlrd (`formatting_info=True` gives merged ranges): calamine's BIFF
reader aborted the process on damaged .xls files, and .xls stops at 65,536 rows, where
xlrd takes about half a second.

Cell values are handed over raw, with two normalisations: empty or blank text becomes
None, and a whole-number float becomes an int (an .xlsx stores every number as a float;
1250.0 -> 1250). Numbers are never turned into text, so the identity-number validator can
still tell that a cell was stored as a number and has lost its last digits.
"""

from __future__ import annotations

import csv
import gc
import io
import logging
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import time as time_of_day
from operator import itemgetter
from pathlib import PurePath
from typing import BinaryIO, cast

import xlrd
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from openpyxl.utils.cell import get_column_letter
from python_calamine import (
    CalamineWorkbook,
    PasswordError,
    SheetTypeEnum,
    SheetVisibleEnum,
)

from xc_fupin.lib.forked import FORK_AVAILABLE, ChildCrashed, ChildTimedOut, run_forked
from xc_fupin.lib.text import header_key

__all__ = [
    "HEADER_SCAN_ROWS",
    "MAX_UPLOAD_BYTES",
    "SKIP_EMPTY",
    "SKIP_REPEATED_HEADER",
    "SKIP_SIGNATURE",
    "SKIP_TOTAL",
    "ColumnSpec",
    "SheetError",
    "SheetRow",
    "Table",
    "detect_header",
    "read_table",
    "table_from_grid",
]

MAX_UPLOAD_BYTES = 30 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 300 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
# Below this inflated size a member cannot hurt, whatever its ratio: tiny XML parts of a
# real workbook compress very well.
RATIO_CHECK_FLOOR = 10 * 1024 * 1024
MAX_ZIP_MEMBERS = 10_000
# Cells in a sheet's bounding box (A1 to its farthest cell): 200,000 rows x 100 columns.
MAX_SHEET_CELLS = 20_000_000
HEADER_SCAN_ROWS = 20
# The forked calamine reader (see `_xlsx_sheets`): wall-clock seconds, and how many bytes
# its address space may grow; settings SHEETS_READER_TIME_LIMIT / _MEMORY_LIMIT override.
READER_TIME_LIMIT = 60.0
READER_MEMORY_LIMIT = 2 * 1024 * 1024 * 1024

# Reasons recorded in Table.skipped; marked for translation, shown with gettext(reason).
SKIP_EMPTY = gettext_noop("空行")
SKIP_TOTAL = gettext_noop("合计行")
SKIP_SIGNATURE = gettext_noop("签字行")
SKIP_REPEATED_HEADER = gettext_noop("重复表头")

_MACRO_SUFFIXES = (".xlsm", ".xltm", ".xlam")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BINARY_MAGICS = (
    b"%PDF",
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"Rar!",
    b"7z\xbc\xaf",
    b"\x1f\x8b",
    b"II*\x00",
    b"MM\x00*",
    b"RIFF",
)
_TOTAL_WORDS = ("合计", "总计", "小计")
_FOOTER = re.compile(
    r"(填表人|填报人|制表人|审核人|审批人|负责人|经办人|联系人|填报日期|填表日期|制表日期|联系电话)\s*[:：]"
)
_INT_SAFE = float(2**53)

logger = logging.getLogger(__name__)


class SheetError(ValueError):
    """The whole file is refused; str(error) is a Chinese message naming the file.

    A header lacking required columns also says which (`missing`, canonical names) and
    which header cells of that row matched no column (`unmatched`, as written), so the
    upload page can offer to map one to the other.
    """

    def __init__(
        self,
        reason: str,
        *,
        filename: str = "",
        missing: Sequence[str] = (),
        unmatched: Sequence[str] = (),
    ) -> None:
        self.reason = reason
        self.filename = filename
        self.missing = tuple(missing)
        self.unmatched = tuple(unmatched)
        if filename:
            self.message = _("文件“%(filename)s”：%(reason)s") % {
                "filename": filename,
                "reason": reason,
            }
        else:
            self.message = reason
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


@dataclass
class ColumnSpec:
    name: str  # canonical Chinese header, e.g. "身份证号"
    aliases: tuple[str, ...] = ()
    required: bool = True


@dataclass(slots=True)
class SheetRow:
    number: int  # 1-based row number as the user sees it in Excel (CSV: line number)
    values: dict[str, object]  # canonical name -> raw cell value; None when empty or absent


@dataclass
class Table:
    filename: str
    sheet_name: str
    header_row: int  # 1-based, like SheetRow.number
    columns: dict[str, int]  # canonical name -> 0-based column index, found columns only
    column_letters: dict[str, str]  # canonical name -> "A", "B", ...
    rows: list[SheetRow]
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (row number, reason)

    def cell_ref(self, number: int, column: str) -> str:
        """Return the Excel reference of a cell, e.g. ("身份证号" in column B, row 12) -> "B12"."""
        return f"{self.column_letters.get(column, '?')}{number}"


# --- messages -------------------------------------------------------------------------


def _corrupt() -> SheetError:
    return SheetError(_("文件已损坏或格式不正确，无法打开"))


def _unrecognised() -> SheetError:
    return SheetError(_("不是可识别的表格文件（支持 .xlsx、.xls、.csv）"))


def _password() -> SheetError:
    return SheetError(_("文件设有密码保护，请取消密码后再上传"))


def _macro() -> SheetError:
    return SheetError(_("不接受含宏的文件（.xlsm），请另存为 .xlsx"))


def _bomb() -> SheetError:
    return SheetError(
        _("文件解压后体积异常（超过 %(limit)d MB 或压缩比过高），已拒绝")
        % {"limit": MAX_UNCOMPRESSED_BYTES // (1024 * 1024)}
    )


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


# --- reading the upload ---------------------------------------------------------------


def _load(data: bytes | BinaryIO | str | os.PathLike[str], max_bytes: int) -> bytes:
    if isinstance(data, (bytes, bytearray, memoryview)):
        payload = bytes(data)
    elif isinstance(data, (str, os.PathLike)):
        try:
            with open(data, "rb") as handle:
                payload = handle.read(max_bytes + 1)
        except OSError:
            raise _corrupt() from None
    else:
        # An upload that a form validator has already read sits at its end.
        try:
            data.seek(0)
        except (AttributeError, OSError, ValueError):
            pass
        payload = data.read(max_bytes + 1)
    if len(payload) > max_bytes:
        raise SheetError(
            _("文件过大，上限为 %(limit)s，请拆分后分批上传") % {"limit": _megabytes(max_bytes)}
        )
    if not payload.strip():
        raise SheetError(_("文件是空的"))
    return payload


# --- .xlsx: a ZIP checked member by member before calamine opens it -------------------


class _MemberScan:
    """Watch a member's inflated bytes for what makes calamine allocate without limit.

    calamine (0.37, inside python-calamine 0.9.1) sizes a sheet's grid from the
    farthest cell reference and reserves shared-string storage from the `uniqueCount`
    attribute; a 5 KB file with one cell at XFD1048576, or uniqueCount="4000000000",
    makes it request hundreds of gigabytes, and a failed allocation in Rust aborts the
    whole process: no exception, the worker dies. This pass is loose on purpose (any
    attribute ending in "r", any quoting or spacing) so a far reference cannot hide; a
    hit is confirmed by `_exact_extent`. Not covered: cells written without an r
    attribute (calamine then counts positions), which no mainstream writer produces;
    that abort is contained by the forked reader (`_xlsx_sheets`).
    """

    __slots__ = ("big_column", "big_row", "head", "tail")

    def __init__(self) -> None:
        self.big_row = 0
        self.big_column = 0
        self.head = b""
        self.tail = b""

    def __call__(self, chunk: bytes) -> None:
        if len(self.head) < 4096:
            self.head += chunk[: 4096 - len(self.head)]
        data = self.tail + chunk if self.tail else chunk
        for letters, digits in _LOOSE_BIG_REF.findall(data):
            if len(letters) >= 2:
                self.big_column = max(self.big_column, _column_number(letters))
            if len(digits) >= 6:
                self.big_row = max(self.big_row, int(digits))
        self.tail = data[-64:]


# Column of two or more letters (>= AA) or row of six or more digits (>= 100000).
_LOOSE_BIG_REF = re.compile(rb"r\s*=\s*[\"']\s*([A-Za-z]{2,10}|[A-Za-z]?(?=\d{6}))(\d{0,20})")
# Only the r attribute of a cell or row element, as calamine reads it.
_EXACT_REF = re.compile(
    rb"<(?:[\w.-]+:)?(?:c|row)\s(?:[^>\"']|\"[^\"]*\"|'[^']*')*?"
    rb"(?<![\w:.-])r\s*=\s*[\"']\s*([A-Za-z]{0,10})(\d{0,20})"
)
_UNIQUE_COUNT = re.compile(rb"(?<![\w:.-])uniqueCount\s*=\s*[\"']\s*(\d{1,20})")
_NARROW_COLUMNS = 26  # what a reference without a big column letter can reach
_SHORT_ROWS = 99_999  # what a reference without six digits can reach


def _column_number(letters: bytes) -> int:
    number = 0
    for byte in letters.upper():
        number = number * 26 + (byte - 64)
    return number


def _column_letters(number: int) -> str:
    return get_column_letter(number) if 1 <= number <= 18278 else f"#{number}"


def _member_bytes(payload: bytes, info: zipfile.ZipInfo) -> tuple[int, int]:
    offset = info.header_offset
    if payload[offset : offset + 4] != b"PK\x03\x04":
        raise _corrupt()
    name_length, extra_length = struct.unpack_from("<HH", payload, offset + 26)
    start = offset + 30 + name_length + extra_length
    end = start + info.compress_size
    if end > len(payload):
        raise _corrupt()
    return start, end


def _inflate(
    payload: bytes, info: zipfile.ZipInfo, limit: int, sink: Callable[[bytes], None]
) -> int:
    """Inflate one member in chunks into `sink`, stopping once past `limit` bytes.

    Reads the raw stream itself rather than trusting the sizes the ZIP declares.
    """
    start, end = _member_bytes(payload, info)
    view = memoryview(payload)
    if info.compress_type == zipfile.ZIP_STORED:
        for position in range(start, end, 1 << 24):
            sink(bytes(view[position : min(position + (1 << 24), end)]))
        return end - start
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    produced = 0
    position = start
    try:
        while position < end and produced <= limit and not inflater.eof:
            chunk = view[position : min(position + (1 << 20), end)]
            position += len(chunk)
            out = inflater.decompress(chunk, 1 << 24)
            produced += len(out)
            sink(out)
            while inflater.unconsumed_tail and produced <= limit:
                out = inflater.decompress(inflater.unconsumed_tail, 1 << 24)
                produced += len(out)
                sink(out)
        if produced <= limit:
            out = inflater.flush()
            produced += len(out)
            sink(out)
    except zlib.error:
        raise _corrupt() from None
    return produced


def _exact_extent(payload: bytes, info: zipfile.ZipInfo) -> tuple[int, int]:
    """Return the farthest (row, column) any cell or row element of a member names."""
    parts: list[bytes] = []
    _inflate(payload, info, info.file_size, parts.append)
    text = b"".join(parts)
    max_row = max_column = 0
    for letters, digits in _EXACT_REF.findall(text):
        if letters:
            max_column = max(max_column, _column_number(letters))
        if digits:
            max_row = max(max_row, int(digits))
    return max_row, max_column


def _check_member(payload: bytes, info: zipfile.ZipInfo) -> None:
    scan = _MemberScan()
    if _inflate(payload, info, info.file_size, scan) > info.file_size:
        raise _corrupt()  # the header understates what is inside
    if info.filename.lower().endswith("sharedstrings.xml"):
        # An <si> element takes at least five bytes, so no honest uniqueCount exceeds this.
        plausible = info.file_size // 5 + 16
        if any(int(n) > plausible for n in _UNIQUE_COUNT.findall(scan.head)):
            raise _corrupt()
    if not (scan.big_row or scan.big_column):
        return
    rows = max(scan.big_row, _SHORT_ROWS)
    columns = max(scan.big_column, _NARROW_COLUMNS)
    if rows * columns <= MAX_SHEET_CELLS:
        return
    rows, columns = _exact_extent(payload, info)
    if rows * columns > MAX_SHEET_CELLS:
        raise SheetError(
            _(
                "表格有内容的区域过大（最远到 %(cell)s 单元格），"
                "请删除表格右侧和下方多余的行列后重新上传"
            )
            % {"cell": f"{_column_letters(columns)}{rows}"}
        )


def _check_xlsx(payload: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(payload))
        infos = archive.infolist()
    except Exception:  # any failure to read the central directory means a broken file
        raise _corrupt() from None
    if len(infos) > MAX_ZIP_MEMBERS:
        raise _bomb()
    names = {info.filename.lower() for info in infos}
    if "xl/workbook.bin" in names:
        raise _unrecognised()  # .xlsb
    if any(name.endswith("vbaproject.bin") for name in names):
        raise _macro()

    declared = sum(info.file_size for info in infos)
    packed = sum(info.compress_size for info in infos)
    if declared > MAX_UNCOMPRESSED_BYTES:
        raise _bomb()
    if declared > RATIO_CHECK_FLOOR and declared > MAX_COMPRESSION_RATIO * max(packed, 1):
        raise _bomb()
    for info in infos:
        if info.file_size > RATIO_CHECK_FLOOR and info.file_size > MAX_COMPRESSION_RATIO * max(
            info.compress_size, 1
        ):
            raise _bomb()
    for info in infos:
        if info.flag_bits & 0x1 or info.compress_type not in (
            zipfile.ZIP_STORED,
            zipfile.ZIP_DEFLATED,
        ):
            raise _corrupt()
        _check_member(payload, info)

    content_types = next((i for i in infos if i.filename == "[Content_Types].xml"), None)
    if content_types is None:
        raise _unrecognised()
    try:
        declaration = archive.read(content_types).lower()
    except Exception:
        raise _corrupt() from None
    if b"macroenabled" in declaration:
        raise _macro()
    if b"spreadsheetml" not in declaration or "xl/workbook.xml" not in names:
        raise _unrecognised()


# --- .xls: an OLE2 compound file; its directory tells .xls from encrypted OOXML -------

_ENDOFCHAIN_OR_SPECIAL = 0xFFFFFFFA


def _ole_entry_names(payload: bytes) -> set[str]:
    """Return the (case-folded) names in an OLE2 compound file's directory."""
    if len(payload) < 512:
        raise _corrupt()
    sector_shift = struct.unpack_from("<H", payload, 30)[0]
    if sector_shift not in (9, 12):
        raise _corrupt()
    size = 1 << sector_shift
    max_sectors = len(payload) // size + 1
    per_sector = size // 4

    def sector(number: int) -> tuple[int, ...]:
        start = (number + 1) * size
        if start + size > len(payload):
            raise _corrupt()
        return struct.unpack_from(f"<{per_sector}I", payload, start)

    fat_count, first_directory = struct.unpack_from("<II", payload, 44)
    next_difat = struct.unpack_from("<I", payload, 68)[0]
    difat = list(struct.unpack_from("<109I", payload, 76))
    for _step in range(max_sectors):
        if next_difat >= _ENDOFCHAIN_OR_SPECIAL:
            break
        entries = sector(next_difat)
        difat.extend(entries[:-1])
        next_difat = entries[-1]
    fat: list[int] = []
    for number in difat[: min(fat_count, max_sectors)]:
        if number < _ENDOFCHAIN_OR_SPECIAL:
            fat.extend(sector(number))

    names: set[str] = set()
    current = first_directory
    for _step in range(max_sectors):
        if current >= _ENDOFCHAIN_OR_SPECIAL:
            break
        start = (current + 1) * size
        block = payload[start : start + size]
        if len(block) < size:
            raise _corrupt()
        for entry in range(0, size, 128):
            name_length = struct.unpack_from("<H", block, entry + 64)[0]
            entry_type = block[entry + 66]
            if entry_type in (1, 2, 5) and 2 <= name_length <= 64:
                raw_name = block[entry : entry + name_length - 2]
                names.add(raw_name.decode("utf-16-le", "replace").casefold())
        current = fat[current] if current < len(fat) else _ENDOFCHAIN_OR_SPECIAL
    return names


def _check_xls(payload: bytes) -> None:
    try:
        names = _ole_entry_names(payload)
    except struct.error:
        raise _corrupt() from None
    if "encryptioninfo" in names or "encryptedpackage" in names:
        raise _password()
    if "_vba_project_cur" in names:
        raise _macro()
    if "workbook" not in names and "book" not in names:
        raise _unrecognised()


# --- CSV ------------------------------------------------------------------------------


def _decode_text(payload: bytes) -> str:
    if payload.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return payload.decode("utf-16")
        except UnicodeDecodeError:
            raise _unrecognised() from None
    if payload.startswith(_BINARY_MAGICS) or b"\x00" in payload[:65536]:
        raise _unrecognised()
    try:
        text = payload.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            # GB18030 is a superset of GBK and GB2312, what Chinese Windows Excel saves.
            text = payload.decode("gb18030")
        except UnicodeDecodeError:
            raise _unrecognised() from None
    sample = text[:65536]
    controls = sum(1 for ch in sample if ch < " " and ch not in "\t\r\n\x0c\x1a")
    if controls > len(sample) // 100:
        raise _unrecognised()
    head = sample.lstrip("\ufeff \t\r\n")[:2048].lower()
    if head.startswith("<") and ("<html" in head or "<table" in head or "<?xml" in head):
        # Many government systems export "xls" files that are really HTML or XML 2003.
        raise SheetError(
            _(
                "文件实际是网页（HTML/XML）格式，不是真正的 Excel 文件，请用 Excel 打开后另存为 .xlsx"
            )
        )
    return text


def _csv_cell(text: str) -> str | None:
    if not text or text.isspace():
        return None
    # ="0563..." is the trick that keeps Excel from reading digits as a number.
    if len(text) >= 3 and text.startswith('="') and text.endswith('"'):
        return text[2:-1]
    return text


def _csv_grid(payload: bytes) -> tuple[list[list[object]], list[int]]:
    text = _decode_text(payload)
    lines = text[:65536].splitlines()[:HEADER_SCAN_ROWS]
    delimiter = (
        "\t" if sum(x.count("\t") for x in lines) > sum(x.count(",") for x in lines) else ","
    )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    grid: list[list[object]] = []
    numbers: list[int] = []
    last_line = 0
    try:
        for record in reader:
            numbers.append(last_line + 1)
            last_line = reader.line_num
            grid.append([_csv_cell(cell) for cell in record])
    except csv.Error:
        raise SheetError(
            _("CSV 格式错误（第%(line)d行附近），无法读取") % {"line": last_line + 1}
        ) from None
    return grid, numbers


# --- workbooks ------------------------------------------------------------------------


def _reader_crashed(error: BaseException) -> bool:
    # A Rust panic inside calamine surfaces as pyo3's PanicException, a BaseException.
    return isinstance(error, Exception) or type(error).__name__ == "PanicException"


def _fill_merged(
    grid: list[list[object]], ranges: Sequence[tuple[tuple[int, int], tuple[int, int]]]
) -> None:
    """Copy each merged range's value down its first column, as the user sees it."""
    for (top, column), (bottom, _right) in ranges:
        if top >= len(grid) or column >= len(grid[top]):
            continue
        value = grid[top][column]
        if value is None or value == "":
            continue
        for index in range(top + 1, min(bottom, len(grid) - 1) + 1):
            row = grid[index]
            if column < len(row) and (row[column] is None or row[column] == ""):
                row[column] = value


def _calamine_sheets(
    payload: bytes, columns: Sequence[ColumnSpec]
) -> tuple[str, list[tuple[str, list[list[object]]]]]:
    """Read the visible worksheets with calamine, up to the first one with a header.

    Runs in the forked child (see `_xlsx_sheets`): no gettext, no ORM, nothing that takes
    a lock another thread may have held. Returns (problem, sheets): problem is "" or
    "password" or "corrupt"; sheets are (name, grid) in workbook order, the last one
    complete if its header was found (`_find_header`, what `detect_header` decides on),
    the others cut to their first HEADER_SCAN_ROWS rows, all that `_table` reads of a
    sheet without a header. Strings are deduplicated, so the pickle sent to the parent
    shares them: a third the size, and unpickled three times faster.
    """
    sheets: list[tuple[str, list[list[object]]]] = []
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(payload))
        metadata = workbook.sheets_metadata
    except PasswordError:
        return "password", sheets
    except BaseException as error:
        if not _reader_crashed(error):
            raise
        return "corrupt", sheets
    with workbook:
        indexes = [
            index
            for index, meta in enumerate(metadata)
            if meta.typ == SheetTypeEnum.WorkSheet and meta.visible == SheetVisibleEnum.Visible
        ] or list(range(len(metadata)))
        for index in indexes:
            try:
                sheet = workbook.get_sheet_by_index(index)
                grid = cast(list[list[object]], sheet.to_python(skip_empty_area=False))
                merged = sheet.merged_cell_ranges or []
            except PasswordError:
                return "password", sheets
            except BaseException as error:
                if not _reader_crashed(error):
                    raise
                return "corrupt", sheets
            _fill_merged(grid, merged)
            index_found, _mapping, missing = _find_header(grid[:HEADER_SCAN_ROWS], columns)
            if index_found < 0 or missing:
                sheets.append((metadata[index].name, grid[:HEADER_SCAN_ROWS]))
                continue
            if FORK_AVAILABLE:  # only worth it when the grid is pickled
                strings: dict[str, str] = {}
                share = strings.setdefault
                grid = [[share(v, v) if type(v) is str else v for v in row] for row in grid]
            sheets.append((metadata[index].name, grid))
            break
    return "", sheets


def _reader_limits() -> tuple[float, int | None]:
    time_limit = getattr(settings, "SHEETS_READER_TIME_LIMIT", READER_TIME_LIMIT)
    memory_limit = getattr(settings, "SHEETS_READER_MEMORY_LIMIT", READER_MEMORY_LIMIT)
    return float(time_limit), None if memory_limit is None else int(memory_limit)


def _xlsx_sheets(
    payload: bytes, columns: Sequence[ColumnSpec], filename: str
) -> list[tuple[str, list[list[object]]]]:
    """Read an .xlsx with calamine in a forked child process (`run_forked`).

    calamine aborts the process on some inputs the pre-scan cannot see (cells written
    without an r attribute far down a sheet make it count positions and request a grid of
    96 GB); in a child that only costs the child. The child's address space may grow by
    READER_MEMORY_LIMIT bytes and it must be done in READER_TIME_LIMIT seconds (settings
    SHEETS_READER_MEMORY_LIMIT and SHEETS_READER_TIME_LIMIT override them). Without
    fork (not Linux) calamine runs in this process, guarded by the pre-scan only.
    """
    time_limit, memory_limit = _reader_limits()
    try:
        problem, sheets = run_forked(
            _calamine_sheets,
            (payload, columns),
            time_limit=time_limit,
            memory_limit=memory_limit,
        )
    except ChildTimedOut:
        logger.warning(
            "Reading %r took more than %g s; the reader was killed", filename, time_limit
        )
        raise SheetError(
            _(
                "读取时间过长（超过 %(seconds)s 秒），文件可能已损坏或内容过多，"
                "请删除多余的行列或拆分后重新上传"
            )
            % {"seconds": f"{time_limit:g}"}
        ) from None
    except ChildCrashed as error:
        # A death is the file's doing; an exception is ours (a reader error is returned).
        log = logger.warning if error.traceback is None else logger.error
        log("The reader died on %r: %s", filename, error.detail)
        raise SheetError(
            _("文件已损坏或格式异常，无法读取，请用 Excel 或 WPS 打开后另存为 .xlsx 再上传")
        ) from None
    if problem == "password":
        raise _password()
    if problem:
        raise _corrupt()
    return sheets


def _open_xls(payload: bytes) -> xlrd.book.Book:
    # formatting_info is what makes xlrd report merged cells; retry without it because
    # xlrd's formatting parser is stricter than its cell parser.
    last_error: Exception | None = None
    for formatting_info in (True, False):
        try:
            return xlrd.open_workbook(
                file_contents=payload,
                formatting_info=formatting_info,
                on_demand=True,
                logfile=io.StringIO(),
            )
        except xlrd.XLRDError as error:
            if "encrypted" in str(error).lower():
                raise _password() from None
            last_error = error
        except Exception as error:  # xlrd reports damage with many exception types
            last_error = error
    raise _corrupt() from last_error


def _xls_value(value: object, kind: int, datemode: int) -> object:
    if kind == xlrd.XL_CELL_DATE:
        try:
            moment = xlrd.xldate.xldate_as_datetime(cast(float, value), datemode)
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return value
        return moment.date() if moment.time() == time_of_day.min else moment
    if kind == xlrd.XL_CELL_BOOLEAN:
        return bool(value)
    if kind == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(cast(int, value), "#ERROR")
    return value


def _xls_sheets(payload: bytes) -> Iterator[tuple[str, list[list[object]]]]:
    """Read .xls with xlrd: pure Python, so a damaged file raises instead of aborting.

    calamine's BIFF reader aborted the process on randomly damaged .xls files (it
    allocates from length fields it has not checked); .xls tops out at 65,536 rows, so
    xlrd's speed (about 0.5 s for a full sheet) is acceptable.
    """
    book = _open_xls(payload)
    try:
        # Visibility is read from the workbook's sheet list; asking each Sheet would parse
        # every sheet just to skip it.
        states = getattr(book, "_sheet_visibility", None) or [0] * book.nsheets
        visible = [index for index, state in enumerate(states) if state == 0]
        for index in visible or range(book.nsheets):
            sheet = book.sheet_by_index(index)
            grid: list[list[object]] = []
            special = {xlrd.XL_CELL_DATE, xlrd.XL_CELL_BOOLEAN, xlrd.XL_CELL_ERROR}
            for number in range(sheet.nrows):
                values = sheet.row_values(number)
                kinds = sheet.row_types(number)
                if special.intersection(kinds):
                    values = [
                        _xls_value(v, k, book.datemode) for v, k in zip(values, kinds, strict=True)
                    ]
                grid.append(values)
            merged = [
                ((top, left), (bottom - 1, right - 1))
                for top, bottom, left, right in sheet.merged_cells
            ]
            _fill_merged(grid, merged)
            yield sheet.name, grid
    except SheetError:
        raise
    except Exception as error:
        raise _corrupt() from error
    finally:
        book.release_resources()


# --- header and rows ------------------------------------------------------------------


def _spec_keys(columns: Sequence[ColumnSpec]) -> list[tuple[ColumnSpec, str, frozenset[str]]]:
    result = []
    for spec in columns:
        canonical = header_key(spec.name)
        keys = {canonical, *(header_key(alias) for alias in spec.aliases)} - {""}
        result.append((spec, canonical, frozenset(keys)))
    return result


def _match_header(
    cells: Sequence[object], spec_keys: list[tuple[ColumnSpec, str, frozenset[str]]]
) -> dict[str, int]:
    keys = ["" if cell is None or cell == "" else header_key(cell) for cell in cells]
    mapping: dict[str, int] = {}
    used: set[int] = set()
    # Exact canonical names first, so an alias never steals a column from its owner.
    for exact in (True, False):
        for spec, canonical, accepted in spec_keys:
            if spec.name in mapping:
                continue
            for index, key in enumerate(keys):
                if key and index not in used and (key == canonical if exact else key in accepted):
                    mapping[spec.name] = index
                    used.add(index)
                    break
    return mapping


def _find_header(
    rows: list[list[object]], columns: Sequence[ColumnSpec]
) -> tuple[int, dict[str, int], list[str]]:
    """Return (row index or -1, mapping, missing required columns); see detect_header."""
    spec_keys = _spec_keys(columns)
    required = [spec.name for spec in columns if spec.required]
    best_index = -1
    best_mapping: dict[str, int] = {}
    best_score = (0, 0)
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        cells = row if isinstance(row, (list, tuple)) else [row]
        mapping = _match_header(cells, spec_keys)
        score = (sum(1 for name in required if name in mapping), len(mapping))
        if score > best_score:
            best_index, best_mapping, best_score = index, mapping, score
    return best_index, best_mapping, [name for name in required if name not in best_mapping]


def detect_header(
    rows: list[list[object]], columns: Sequence[ColumnSpec]
) -> tuple[int, dict[str, int]]:
    """Find the header row among the first HEADER_SCAN_ROWS rows.

    The header is the row matching the most columns (by `header_key` against each spec's
    name and aliases); it must hold every required column. Returns its 0-based index in
    `rows` and canonical name -> 0-based column index for the columns found. Raises
    SheetError naming the missing columns.
    """
    best_index, best_mapping, missing = _find_header(rows, columns)
    if best_index < 0:
        wanted = [spec.name for spec in columns if spec.required] or [spec.name for spec in columns]
        raise SheetError(
            _("未找到表头：前%(n)d行中没有一行包含所需的列（%(columns)s）")
            % {"n": HEADER_SCAN_ROWS, "columns": "、".join(wanted)}
        )
    if missing:
        used = set(best_mapping.values())
        cells = rows[best_index] if isinstance(rows[best_index], (list, tuple)) else []
        unmatched = [
            " ".join(str(cell).split())
            for index, cell in enumerate(cells)
            if index not in used and cell is not None and str(cell).strip()
        ]
        raise SheetError(
            _("未找到表头：缺少列 %(missing)s（按第%(row)d行作为表头查找）")
            % {"missing": "、".join(missing), "row": best_index + 1},
            missing=missing,
            unmatched=list(dict.fromkeys(unmatched)),
        )
    return best_index, best_mapping


def _is_total_row(cells: Sequence[object]) -> bool:
    seen = 0
    for cell in cells:
        if cell is None or cell == "":
            continue
        if isinstance(cell, str):
            if cell.isspace():
                continue
            if "计" in cell:
                text = "".join(cell.split())
                if text.startswith(_TOTAL_WORDS) or (
                    len(text) <= 8 and text.endswith(_TOTAL_WORDS)
                ):
                    return True
        seen += 1
        if seen == 3:
            break
    return False


def _is_footer_row(cells: Sequence[object], values: dict[str, object], mapped: int) -> bool:
    if not any(isinstance(cell, str) and _FOOTER.search(cell) for cell in cells):
        return False
    # A household sheet has a 联系电话 column: only text like "联系电话：0563…" in an
    # otherwise mostly empty row is a footer, never a filled data row.
    others = sum(
        1
        for value in values.values()
        if value is not None and not (isinstance(value, str) and _FOOTER.search(value))
    )
    return others <= mapped // 2


def _normalise(cells: Sequence[object]) -> list[object]:
    # Hot loop (every cell of every row): one comprehension, no function call per cell.
    return [
        None
        if type(v) is str and (not v or v.isspace())
        else int(v)
        if type(v) is float and v.is_integer() and -_INT_SAFE < v < _INT_SAFE
        else v
        for v in cells
    ]


def _build_rows(
    grid: list[list[object]],
    numbers: list[int] | None,
    header_index: int,
    mapping: dict[str, int],
    columns: Sequence[ColumnSpec],
) -> tuple[list[SheetRow], list[tuple[int, str]]]:
    names = list(mapping)
    positions = [mapping[name] for name in names]
    width_needed = max(positions) + 1
    pick = itemgetter(*positions) if len(positions) > 1 else lambda cells: (cells[positions[0]],)
    absent = {spec.name: None for spec in columns if spec.name not in mapping}
    mapped_count = len(names)

    header = _normalise(grid[header_index])
    header += [None] * (width_needed - len(header))
    header_values = list(pick(header))
    first = positions.index(min(positions))
    header_keys = [header_key(value) for value in header_values]

    rows: list[SheetRow] = []
    skipped: list[tuple[int, str]] = []
    for index in range(header_index + 1, len(grid)):
        cells = grid[index]
        number = numbers[index] if numbers is not None else index + 1
        if len(cells) < width_needed:
            cells = [*cells, *([None] * (width_needed - len(cells)))]
        picked = _normalise(pick(cells))
        filled = mapped_count - picked.count(None)
        values = dict(zip(names, picked, strict=True))
        if absent:
            values.update(absent)

        if _is_total_row(cells):
            skipped.append((number, SKIP_TOTAL))
        elif filled < mapped_count and _is_footer_row(cells, values, mapped_count):
            skipped.append((number, SKIP_SIGNATURE))
        elif filled == 0:
            skipped.append((number, SKIP_EMPTY))
        elif (
            picked[first] is not None
            and picked[first] == header_values[first]
            and sum(1 for v, key in zip(picked, header_keys, strict=True) if header_key(v) == key)
            > mapped_count // 2
        ):
            skipped.append((number, SKIP_REPEATED_HEADER))
        else:
            rows.append(SheetRow(number=number, values=values))
    return rows, skipped


def _sniff(payload: bytes, filename: str) -> str:
    if PurePath(filename).suffix.lower() in _MACRO_SUFFIXES:
        raise _macro()
    if payload.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "xlsx"
    if payload.startswith(_OLE_MAGIC):
        return "xls"
    return "csv"


def _table(
    grid: Sequence[Sequence[object]],
    numbers: list[int] | None,
    sheet_name: str,
    filename: str,
    columns: Sequence[ColumnSpec],
) -> Table:
    rows_as_lists = cast(list[list[object]], grid)
    header_index, mapping = detect_header(rows_as_lists[:HEADER_SCAN_ROWS], columns)
    rows, skipped = _build_rows(rows_as_lists, numbers, header_index, mapping, columns)
    return Table(
        filename=filename,
        sheet_name=sheet_name,
        header_row=numbers[header_index] if numbers is not None else header_index + 1,
        columns=dict(mapping),
        column_letters={name: get_column_letter(column + 1) for name, column in mapping.items()},
        rows=rows,
        skipped=skipped,
    )


def _read(
    data: bytes | BinaryIO | str | os.PathLike[str],
    filename: str,
    columns: Sequence[ColumnSpec],
    max_bytes: int,
) -> Table:
    payload = _load(data, max_bytes)
    kind = _sniff(payload, filename)
    if kind == "csv":
        grid, numbers = _csv_grid(payload)
        return _table(grid, numbers, PurePath(filename).stem, filename, columns)
    if kind == "xlsx":
        _check_xlsx(payload)
    else:
        _check_xls(payload)
    first_error: SheetError | None = None
    sheets = _xlsx_sheets(payload, columns, filename) if kind == "xlsx" else _xls_sheets(payload)
    for sheet_name, grid in sheets:
        try:
            return _table(grid, None, sheet_name, filename, columns)
        except SheetError as error:
            if first_error is None:
                first_error = SheetError(
                    _("工作表“%(sheet)s”%(reason)s")
                    % {"sheet": sheet_name, "reason": error.reason},
                    missing=error.missing,
                    unmatched=error.unmatched,
                )
    if first_error is None:
        raise SheetError(_("文件中没有可读取的工作表"))
    raise first_error


@contextmanager
def _collector_paused() -> Iterator[None]:
    # A 100,000-row sheet allocates about a million containers that all stay alive;
    # generational collections over them would cost a third of the read time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def read_table(
    data: bytes | BinaryIO | str | os.PathLike[str],
    *,
    filename: str,
    columns: Sequence[ColumnSpec],
    max_bytes: int = MAX_UPLOAD_BYTES,
) -> Table:
    """Read the first sheet with a recognisable header from an uploaded spreadsheet.

    `data` is the file's bytes, an open binary file or a path; `filename` is the name the
    user uploaded (used for messages and to refuse macro-enabled extensions). Only visible
    worksheets are considered, in workbook order. Title rows above the header, 合计 rows,
    signature lines, repeated headers and empty rows are skipped and listed in
    `Table.skipped`. Raises SheetError when the file as a whole cannot be used.
    """
    if not columns:
        raise ValueError("columns must not be empty")
    with _collector_paused():
        try:
            return _read(data, filename, columns, max_bytes)
        except SheetError as error:
            if error.filename:
                raise
            raise SheetError(
                error.reason, filename=filename, missing=error.missing, unmatched=error.unmatched
            ) from error


def table_from_grid(
    grid: Sequence[Sequence[object]],
    *,
    filename: str,
    columns: Sequence[ColumnSpec],
    sheet_name: str = "",
) -> Table:
    """Build a Table from rows already in memory (e.g. a tablib dataset from the admin).

    Same header detection, value normalisation and row skipping as `read_table`; row
    numbers count from 1 at `grid[0]`. Raises SheetError naming `filename`.
    """
    if not columns:
        raise ValueError("columns must not be empty")
    with _collector_paused():
        try:
            return _table(grid, None, sheet_name, filename, columns)
        except SheetError as error:
            raise SheetError(error.reason, filename=filename) from error
