"""The archive as one .zip: a table of contents (目录.xlsx) and every file in Chinese-named
folders (类别/任务/单位), streamed while it is written.

Why streamed in the request rather than built by a Celery job: the zip needs no state,
no temporary file and no clean-up, the scope is checked by the request that sends it,
and memory stays flat (each file is copied in 64 KB pieces and each finished piece is
sent at once), so a large archive costs time on the wire, not memory or disk. Files are
stored, not compressed, when they are already compressed (PDF, images, Office, zip).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator

from django.utils import timezone

from reports.periods import month_label
from reports.texts import task_short_name
from tasks import clock
from xc_fupin.lib.export import xlsx_bytes

from .selectors import Archive, Category, Record

TOC_NAME = "目录.xlsx"
TOC_HEADERS = ["序号", "类别", "任务", "单位", "月份", "文件名/说明", "状态", "压缩包内位置"]
DETAIL_HEADERS = ["序号", "类别", "任务", "单位", "月份", "全文"]
#: Already compressed: deflating them again costs CPU for nothing.
STORED = {".pdf", ".ofd", ".jpg", ".jpeg", ".png", ".docx", ".xlsx", ".zip", ".rar", ".et", ".wps"}
CHUNK = 64 * 1024
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def _clean(name: str, limit: int = 60) -> str:
    """A folder or file name that every unzip tool accepts (no separators, no control
    characters, not too long), keeping its extension."""
    name = _UNSAFE.sub("_", name).strip(" .") or "文件"
    if len(name) <= limit:
        return name
    stem, dot, ext = name.rpartition(".")
    if dot and len(ext) <= 6:
        return stem[: limit - len(ext) - 1] + "." + ext
    return name[:limit]


def _folder(record: Record) -> str:
    if len(record.task_numbers) > 1:
        task = record.task_label
    elif record.task:
        task = f"任务{record.task.number:02d} {task_short_name(record.task)}"
    else:
        task = "综合"
    return "/".join(_clean(p) for p in (record.category, task, record.unit_label))


def place_files(archive: Archive) -> None:
    """Give every file its path in the zip: 类别/任务NN 简称/单位/序号-原文件名, unique."""
    used: set[str] = set()
    for number, record in enumerate(archive.records, start=1):
        for k, f in enumerate(record.files, start=1):
            month = f"{record.period:%Y年%m月}-" if record.period else ""
            path = f"{_folder(record)}/{number:03d}.{k}-{month}{_clean(f.name)}"
            while path in used:
                path = path.replace(f"{number:03d}.{k}-", f"{number:03d}.{k}-副本-", 1)
            used.add(path)
            f.path = path


def toc_rows(archive: Archive) -> Iterator[list[object]]:
    """One row per record, then one per file of it (序号 3.1, 3.2 …), then one per missing
    month. Nothing of a child is in these columns: records name units, tasks, file names
    and the unit's own words."""
    for number, r in enumerate(archive.records, start=1):
        yield [number, r.category, r.task_label, r.unit_label, r.month, r.text, r.status, ""]
        for k, f in enumerate(r.files, start=1):
            yield [f"{number}.{k}", "附件", r.task_label, r.unit_label, r.month, f.name, "", f.path]
    n = len(archive.records)
    for gap in archive.gaps:
        for m in gap.months:
            n += 1
            yield [
                n,
                Category.MISSING,
                gap.task_label,
                gap.unit.display_name,
                month_label(m),
                "该月没有台账记录",
                "未填报",
                "",
            ]


def detail_rows(archive: Archive) -> Iterator[list[object]]:
    for number, r in enumerate(archive.records, start=1):
        if r.detail:
            yield [number, r.category, r.task_label, r.unit_label, r.month, r.detail]


def toc_bytes(archive: Archive) -> bytes:
    title = f"检查档案 {archive.period_words}"
    return xlsx_bytes(
        [
            (title, TOC_HEADERS, toc_rows(archive)),
            ("工作情况全文", DETAIL_HEADERS, detail_rows(archive)),
        ],
        column_widths={"文件名/说明": 60, "压缩包内位置": 50, "任务": 28, "全文": 90},
    )


class _Sink(io.RawIOBase):
    """A write-only, non-seekable file for zipfile: it keeps what was written until taken,
    so the zip goes out piece by piece (zipfile then writes data descriptors)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._size = 0
        self._pos = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self._parts.append(bytes(data))
        self._size += len(data)
        self._pos += len(data)
        return len(data)

    def tell(self) -> int:
        return self._pos

    @property
    def pending(self) -> int:
        return self._size

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts, self._size = [], 0
        return data


def zip_chunks(archive: Archive) -> Iterator[bytes]:
    """The .zip, piece by piece. Call `place_files` first (the TOC names the paths). A
    file gone from storage is left out and its TOC row keeps its name (the list of such
    files is 缺失文件.txt in the zip)."""
    sink = _Sink()
    stamp = timezone.localtime(clock.now()).timetuple()[:6]
    lost: list[str] = []
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo(TOC_NAME, date_time=stamp)
        zf.writestr(info, toc_bytes(archive), compress_type=zipfile.ZIP_STORED)
        yield sink.take()
        for _record, f in archive.files:
            try:
                handle = f.field.open("rb")
            except (FileNotFoundError, ValueError):
                lost.append(f.path)
                continue
            info = zipfile.ZipInfo(f.path, date_time=stamp)
            ext = "." + f.path.rpartition(".")[2].lower()
            info.compress_type = zipfile.ZIP_STORED if ext in STORED else zipfile.ZIP_DEFLATED
            with handle, zf.open(info, "w", force_zip64=True) as out:
                while chunk := handle.read(CHUNK):
                    out.write(chunk)
                    if sink.pending >= CHUNK:
                        yield sink.take()
            yield sink.take()
        if lost:
            text = "以下文件在服务器上已不存在，未能打包：\n" + "\n".join(lost) + "\n"
            zf.writestr(zipfile.ZipInfo("缺失文件.txt", date_time=stamp), text.encode("utf-8"))
    yield sink.take()
