"""Reading a selfie upload (multipart/form-data) into memory, within a byte limit.

Not FastAPI's ``UploadFile``: Starlette spools any file over 1 MiB to a temporary
file on disk, and a selfie must not touch a disk unless the operator keeps
selfies. This reader feeds the request stream to python-multipart's streaming
parser and stops reading at the limit (413), so memory stays bounded too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from imajin.errors import InvalidInput, PayloadTooLarge

FILE_FIELD = "selfie"
_MAX_FIELD_BYTES = 1024  # text fields (``style``) are short
_MAX_PARTS = 8
_FORM_OVERHEAD = 64 * 1024  # boundaries and part headers around the file


@dataclass
class SelfieForm:
    """The upload: the selfie's bytes and the text fields sent with it."""

    selfie: bytes
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class _Part:
    name: str = ""
    is_file: bool = False
    data: bytearray = field(default_factory=bytearray)


class _Collector:
    """python-multipart callbacks that gather the parts, counting bytes as they come."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.parts: list[_Part] = []
        self._header_name = b""
        self._header_value = b""

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value_data,
            "on_header_end": self._header_end,
            "on_part_data": self._data,
        }

    def _begin(self) -> None:
        if len(self.parts) >= _MAX_PARTS:
            raise InvalidInput(f"The form has more than {_MAX_PARTS} parts.", field="body")
        self.parts.append(_Part())
        self._header_name = self._header_value = b""

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            _kind, options = parse_options_header(self._header_value)
            part = self.parts[-1]
            part.name = options.get(b"name", b"").decode("utf-8", "replace")
            part.is_file = b"filename" in options
        self._header_name = self._header_value = b""

    def _data(self, data: bytes, start: int, end: int) -> None:
        part = self.parts[-1]
        if part.is_file and part.name != FILE_FIELD:
            raise InvalidInput(
                f"The form has a file field `{part.name}`; send the image as `{FILE_FIELD}`.",
                field=FILE_FIELD,
            )
        part.data += data[start:end]
        limit = self.max_bytes if part.name == FILE_FIELD else _MAX_FIELD_BYTES
        if len(part.data) > limit:
            if part.name == FILE_FIELD:
                raise _too_large(self.max_bytes)
            raise InvalidInput(
                f"`{part.name}` is over {_MAX_FIELD_BYTES} bytes.", field=part.name or "body"
            )


def _too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"`{FILE_FIELD}` is over the limit of {max_bytes} bytes (gateway.profile.max_bytes).",
        field=FILE_FIELD,
    )


async def read_selfie_form(request: Request, *, max_bytes: int) -> SelfieForm:
    """The ``selfie`` file and text fields of a multipart request, at most ``max_bytes``.

    Raises:
        PayloadTooLarge: The selfie (or the whole body) is over the limit; reading stops.
        InvalidInput: Not multipart/form-data, malformed, or no ``selfie`` file.
    """
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise InvalidInput(
            "Send the selfie as multipart/form-data with a file field `selfie`.", field="body"
        )
    collector = _Collector(max_bytes)
    try:
        parser = MultipartParser(boundary, collector.callbacks())  # type: ignore[arg-type]
    except ValueError:
        raise InvalidInput("The multipart boundary is malformed.", field="body") from None
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > max_bytes + _FORM_OVERHEAD:
            raise _too_large(max_bytes)
        try:
            parser.write(chunk)
        except (InvalidInput, PayloadTooLarge):
            raise
        except Exception:  # python-multipart's parse errors have no common base
            raise InvalidInput("The multipart body is malformed.", field="body") from None
    parser.finalize()
    return _form(collector.parts)


def _form(parts: list[_Part]) -> SelfieForm:
    selfie: bytes | None = None
    fields: dict[str, str] = {}
    for part in parts:
        if part.name == FILE_FIELD:
            selfie = bytes(part.data)
        elif part.name and not part.is_file:
            try:
                fields[part.name] = part.data.decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidInput(f"`{part.name}` is not UTF-8 text.", field=part.name) from None
    if selfie is None:
        raise InvalidInput(
            f"The form has no `{FILE_FIELD}` field; send the image as the file field "
            f"`{FILE_FIELD}`.",
            field=FILE_FIELD,
        )
    return SelfieForm(selfie=selfie, fields=fields)
