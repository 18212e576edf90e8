"""File types decided by content, not by name."""

import filetype

from challenge.enums import N_

# What each allowed extension may contain, by the sniffed container format.
KIND_BY_EXTENSION = {
    "pdf": "pdf",
    "png": "png",
    "jpg": "jpg",
    "jpeg": "jpg",
    "gif": "gif",
    "webp": "webp",
    "zip": "zip",
    "docx": "zip",
    "xlsx": "zip",
    "pptx": "zip",
    "doc": "ole",
    "xls": "ole",
    "ppt": "ole",
}
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "zip": "application/zip",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
}
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
SNIFF_BYTES = 8192

TYPE_MISMATCH = N_("文件内容与扩展名不符，请上传真实的 %(ext)s 文件")
TYPE_NOT_ALLOWED = N_("不支持该文件类型，允许的类型：%(allowed)s")


def container_of(head: bytes) -> str | None:
    if head.startswith(OLE_MAGIC):
        return "ole"
    guess = filetype.guess(head)
    if guess is None:
        return None
    if guess.extension in {"docx", "xlsx", "pptx", "zip"} or guess.mime == "application/zip":
        return "zip"
    return {"jpeg": "jpg"}.get(guess.extension, guess.extension)


def extension_of(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def check(filename: str, head: bytes, allowed: tuple[str, ...]) -> tuple[str | None, str | None]:
    """Return (extension, None) when the content fits its name, else (None, message_id)."""
    extension = extension_of(filename)
    if extension not in allowed or extension not in KIND_BY_EXTENSION:
        return None, TYPE_NOT_ALLOWED
    if container_of(head) != KIND_BY_EXTENSION[extension]:
        return None, TYPE_MISMATCH
    return extension, None
