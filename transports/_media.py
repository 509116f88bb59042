"""Binary inputs and outputs at the edge: files, file objects and PIL images in, images out.

This is the I/O half of `inferwire.sansio._content`, written once for every client:
`as_content` turns what a user passes as an image, audio clip or document into a `Blob` or a
URL for the core; `to_image` turns image bytes a server sent into a `PIL.Image.Image`.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .sansio._content import MAX_INPUT_SIZE, Blob, blob_from_data_url, is_http_url
from .sansio._errors import UsageError, UsageTypeError

if TYPE_CHECKING:
    from typing import BinaryIO, TypeAlias

    from PIL.Image import Image

    from .sansio._models import Model

    ContentInput: TypeAlias = (
        bytes | bytearray | memoryview | str | os.PathLike[str] | BinaryIO | Image
    )
    """What users pass as an image, audio clip or document."""

__all__ = ["Content", "as_content", "to_image", "with_mask_images"]

M = TypeVar("M", bound="Model")

Content = Blob | str
"""What the core takes for a binary input: the bytes, or an ``http(s)://`` URL."""

_IMAGES_EXTRA = "install Pillow: `pip install 'inferwire[images]'`"


def _too_large(argument: str, size: int, limit: int) -> UsageError:
    return UsageError(f"{argument} is {size} bytes, more than the {limit}-byte input limit",
                      argument=argument)


def _from_path(path: Path, argument: str, limit: int) -> Blob:
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise UsageError(f"{argument}: {str(path)!r} is a directory, not a file",
                             argument=argument)
        if size > limit:
            raise _too_large(argument, size, limit)
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{argument}: no such file {str(path)!r} (pass bytes, a path, a file "
                         "object, a URL or a PIL image)", argument=argument) from None
    except OSError as exc:
        raise UsageError(f"{argument}: cannot read {str(path)!r}: {exc.strerror or exc}",
                         argument=argument) from None
    return Blob(data, None, path.name)


def _from_file(file: Any, argument: str, limit: int) -> Blob:
    try:
        data = file.read(limit + 1)
    except (OSError, ValueError) as exc:
        raise UsageError(f"{argument}: cannot read the file object: {exc}",
                         argument=argument) from None
    if isinstance(data, str):
        raise UsageTypeError(f"{argument}: the file is open in text mode; open it with 'rb'",
                             argument=argument)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise UsageTypeError(f"{argument}: read() returned {type(data).__name__}, not bytes",
                             argument=argument)
    if len(data) > limit:
        raise _too_large(argument, len(data), limit)
    name = getattr(file, "name", None)
    return Blob(bytes(data), None, os.path.basename(name) if isinstance(name, str) else None)


def _from_pil(image: Any, argument: str, limit: int) -> Blob:
    fmt = image.format or "PNG"
    buffer = io.BytesIO()
    try:
        image.save(buffer, format=fmt)
    except (OSError, ValueError, KeyError) as exc:
        raise UsageError(f"{argument}: the PIL image cannot be saved as {fmt}: {exc}",
                         argument=argument) from None
    data = buffer.getvalue()
    if len(data) > limit:
        raise _too_large(argument, len(data), limit)
    mime = sys.modules["PIL.Image"].MIME.get(fmt.upper())
    return Blob(data, mime)


def _is_pil_image(value: Any) -> bool:
    module = sys.modules.get("PIL.Image")
    return module is not None and isinstance(value, module.Image)


def as_content(value: Any, argument: str, limit: int = MAX_INPUT_SIZE) -> Content:
    """What the user passed as `argument`, as a `Blob` or an ``http(s)://`` URL.

    Accepted: ``bytes``, ``bytearray``, ``memoryview``, a path (``str`` or ``os.PathLike``), a
    binary file object, an ``http(s)://`` or ``data:`` URL, a ``PIL.Image.Image``. Anything
    else, a missing file, or content over `limit` bytes is a `UsageError` naming `argument`.
    """
    if isinstance(value, bytes):
        if len(value) > limit:
            raise _too_large(argument, len(value), limit)
        return Blob(value)
    if isinstance(value, (bytearray, memoryview)):
        size = value.nbytes if isinstance(value, memoryview) else len(value)
        if size > limit:
            raise _too_large(argument, size, limit)
        return Blob(bytes(value))
    if isinstance(value, str):
        if is_http_url(value):
            return value
        if value[:5].lower() == "data:":
            blob = blob_from_data_url(value, argument)
            if len(blob.data) > limit:
                raise _too_large(argument, len(blob.data), limit)
            return blob
        if not value:
            raise UsageError(f"{argument} is an empty string", argument=argument)
        return _from_path(Path(value), argument, limit)
    if isinstance(value, os.PathLike):
        return _from_path(Path(os.fspath(value)), argument, limit)
    if hasattr(value, "read"):
        return _from_file(value, argument, limit)
    if _is_pil_image(value):
        return _from_pil(value, argument, limit)
    raise UsageTypeError(
        f"{argument} must be bytes, a path, a binary file object, an http(s):// or data: URL, "
        f"or a PIL image; got {type(value).__name__}", argument=argument)


def to_image(data: bytes) -> Image:
    """Image bytes a server sent, as a `PIL.Image.Image` (needs Pillow)."""
    try:
        from PIL import Image as pil  # noqa: N813
    except ImportError:
        raise UsageError(f"this task returns a PIL image: {_IMAGES_EXTRA}") from None
    try:
        image = pil.open(io.BytesIO(data))
        image.load()
    except (OSError, ValueError, pil.DecompressionBombError) as exc:
        from .sansio._errors import MalformedResponseError

        raise MalformedResponseError(f"the server's image cannot be decoded: {exc}",
                                     received=data[:64]) from None
    return image


def with_mask_images(elements: list[M]) -> list[M]:
    """Image-segmentation elements with each base64 PNG ``mask`` decoded to a PIL image."""
    import base64
    import binascii

    out = []
    for element in elements:
        mask = element.get("mask")
        if isinstance(mask, str):
            try:
                data = base64.b64decode(mask, validate=True)
            except (binascii.Error, ValueError):
                from .sansio._errors import MalformedResponseError

                raise MalformedResponseError("a segmentation mask is not valid base64",
                                             received=mask[:64]) from None
            element = type(element)(**{**element, "mask": to_image(data)})
        out.append(element)
    return out
