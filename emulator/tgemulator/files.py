"""Stored files: ids shaped like Telegram's, bytes kept for download."""

from __future__ import annotations

import mimetypes
import secrets
import struct
import zlib
from dataclasses import dataclass
from typing import Any

MAX_DOWNLOAD = 20 * 1024 * 1024

# kind -> (file_id prefix, folder, default extension, default mime type)
_KINDS = {
    "photo": ("AgACAgIAAxkBAA", "photos", "jpg", "image/jpeg"),
    "document": ("BQACAgIAAxkBAA", "documents", "bin", "application/octet-stream"),
    "voice": ("AwACAgIAAxkBAA", "voice", "oga", "audio/ogg"),
    "audio": ("CQACAgIAAxkBAA", "music", "mp3", "audio/mpeg"),
    "video": ("BAACAgIAAxkBAA", "videos", "mp4", "video/mp4"),
    "video_note": ("DQACAgIAAxkBAA", "video_notes", "mp4", "video/mp4"),
    "animation": ("CgACAgIAAxkBAA", "animations", "mp4", "video/mp4"),
    "sticker": ("CAACAgIAAxkBAA", "stickers", "webp", "image/webp"),
}


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    file_name: str | None
    mime_type: str
    file_path: str
    uploaded_by_bot: bool
    width: int | None = None
    height: int | None = None

    @property
    def size(self) -> int:
        return len(self.data)

    def api_file(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
            "file_path": self.file_path,
        }

    def describe(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "kind": self.kind,
            "name": self.file_name,
            "mime": self.mime_type,
            "size": self.size,
            "file_path": self.file_path,
            "uploaded_by_bot": self.uploaded_by_bot,
        }


class FileStore:
    def __init__(self) -> None:
        self.by_id: dict[str, StoredFile] = {}
        self.by_path: dict[str, StoredFile] = {}
        self._counter = 0

    def add(
        self,
        kind: str,
        data: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        uploaded_by_bot: bool = False,
    ) -> StoredFile:
        prefix, folder, ext, default_mime = _KINDS[kind]
        self._counter += 1
        if file_name and "." in file_name and kind in ("document", "audio", "video", "animation"):
            ext = file_name.rsplit(".", 1)[1].lower()
        if mime_type is None:
            guessed = mimetypes.guess_type(file_name)[0] if file_name else None
            mime_type = guessed or default_mime
        width, height = image_size(data) if kind in ("photo", "sticker") else (None, None)
        stored = StoredFile(
            file_id=prefix + secrets.token_urlsafe(30),
            file_unique_id="AQAD" + secrets.token_urlsafe(9),
            kind=kind,
            data=data,
            file_name=file_name,
            mime_type=mime_type,
            file_path=f"{folder}/file_{self._counter}.{ext}",
            uploaded_by_bot=uploaded_by_bot,
            width=width,
            height=height,
        )
        self.by_id[stored.file_id] = stored
        self.by_path[stored.file_path] = stored
        return stored

    def alias(self, original: StoredFile) -> StoredFile:
        """A second file_id for the same bytes (Telegram's photo sizes)."""
        copy = StoredFile(
            **{
                **original.__dict__,
                "file_id": original.file_id[:14] + secrets.token_urlsafe(30),
                "file_unique_id": "AQAD" + secrets.token_urlsafe(9),
            }
        )
        self.by_id[copy.file_id] = copy
        return copy

    def get(self, file_id: str) -> StoredFile | None:
        return self.by_id.get(file_id)

    def uploaded_by_bot(self) -> list[StoredFile]:
        seen: set[str] = set()
        out = []
        for f in self.by_id.values():
            if f.uploaded_by_bot and f.file_path not in seen:
                seen.add(f.file_path)
                out.append(f)
        return out


def image_size(data: bytes) -> tuple[int | None, int | None]:
    """Width/height from a PNG or JPEG header, if it is one."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            length = struct.unpack(">H", data[i + 2 : i + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return width, height
            i += 2 + length
    return None, None


def placeholder_png(
    width: int = 64, height: int = 48, rgb: tuple[int, int, int] = (40, 120, 200)
) -> bytes:
    """A real, tiny PNG so that played users can 'send photos' without files."""

    def chunk(tag: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(tag + payload)
        return struct.pack(">I", len(payload)) + tag + payload + struct.pack(">I", crc)

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def photo_sizes(store: FileStore, stored: StoredFile) -> list[dict[str, Any]]:
    """Telegram answers a photo with several sizes; the last one is the original."""
    width, height = stored.width or 800, stored.height or 600
    scale = min(1.0, 90 / max(width, height))
    thumb = store.alias(stored)
    sizes = [
        (thumb, max(1, round(width * scale)), max(1, round(height * scale))),
        (stored, width, height),
    ]
    return [
        {
            "file_id": f.file_id,
            "file_unique_id": f.file_unique_id,
            "file_size": f.size,
            "width": w,
            "height": h,
        }
        for f, w, h in sizes
    ]


def media_object(store: FileStore, stored: StoredFile, extra: dict[str, Any]) -> Any:
    """The Message field (`photo`, `document`, ...) describing a stored file."""
    if stored.kind == "photo":
        return photo_sizes(store, stored)
    obj: dict[str, Any] = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
    }
    if stored.kind in ("document", "audio", "video", "animation") and stored.file_name:
        obj["file_name"] = stored.file_name
    if stored.kind != "sticker" and stored.kind != "video_note":
        obj["mime_type"] = stored.mime_type
    if stored.kind in ("voice", "audio", "video", "video_note", "animation"):
        obj["duration"] = int(extra.get("duration") or 1)
    if stored.kind in ("video", "animation"):
        obj["width"] = int(extra.get("width") or 640)
        obj["height"] = int(extra.get("height") or 360)
    if stored.kind == "video_note":
        obj["length"] = int(extra.get("length") or 240)
    if stored.kind == "audio":
        for key in ("performer", "title"):
            if extra.get(key):
                obj[key] = extra[key]
    if stored.kind == "sticker":
        obj.update(
            type="regular",
            width=stored.width or 512,
            height=stored.height or 512,
            is_animated=False,
            is_video=False,
            emoji=extra.get("emoji") or "👍",
        )
    return obj
