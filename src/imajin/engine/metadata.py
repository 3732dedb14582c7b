"""Write generation parameters into image files, and read them back.

PNG: a ``parameters`` text chunk in the A1111 format that other tools read,
plus an ``imajin`` chunk holding the exact parameters as JSON. WebP: the same
two in an XMP packet, and the A1111 text in EXIF UserComment. Optionally a
JSON sidecar next to the image. :func:`read_metadata` prefers the JSON, then
the sidecar, then parses A1111 text (so images from other tools load too).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from imajin.engine.hashing import short_hash
from imajin.engine.parameters import GenerationParameters
from imajin.engine.schedulers import SCHEDULER_NAMES, sampler_from_label, sampler_label
from imajin.errors import InvalidInput, NotFound
from imajin.storage.temp import publish, temp_sibling

PNG_TEXT_KEY = "parameters"
PNG_JSON_KEY = "imajin"
XMP_NAMESPACE = "https://imajin.dev/ns/generation/1.0/"
_EXIF_USER_COMMENT = 0x9286
_XMP_FIELD = re.compile(
    r"<imajin:(?P<name>json|parameters)>(?P<value>.*?)</imajin:(?P=name)>", re.S
)
_A1111_FIELD = re.compile(r'\s*([\w][\w \-/]+):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)')
IMAGE_FORMATS = {".png": "PNG", ".webp": "WEBP"}


def _quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False) if re.search(r'[,:"\n]', value) else value


def format_parameters(params: GenerationParameters) -> str:
    """The A1111 "parameters" text: prompt, ``Negative prompt:`` line, then ``Key: value`` pairs."""
    fields: list[tuple[str, str]] = [
        ("Steps", str(params.steps)),
        ("Sampler", sampler_label(params.scheduler)),
        ("CFG scale", f"{params.guidance:g}"),
        ("Seed", str(params.seed)),
        ("Size", f"{params.width}x{params.height}"),
    ]
    if params.model_hash:
        fields.append(("Model hash", short_hash(params.model_hash)))
    fields.append(("Model", params.model))
    if params.guidance_rescale:
        fields.append(("CFG rescale", f"{params.guidance_rescale:g}"))
    if params.loras:
        hashes = ", ".join(f"{x.name}: {short_hash(x.sha256 or '')}" for x in params.loras)
        weights = ", ".join(f"{x.name}: {x.weight:g}" for x in params.loras)
        fields += [("Lora hashes", hashes), ("Lora weights", weights)]
    if params.imajin_version:
        fields.append(("Version", f"imajin {params.imajin_version}"))
    lines = [params.prompt]
    if params.negative_prompt:
        lines.append(f"Negative prompt: {params.negative_prompt}")
    lines.append(", ".join(f"{key}: {_quote(value)}" for key, value in fields))
    return "\n".join(lines)


def _unquote(value: str) -> str:
    value = value.strip()
    if value.startswith('"') and value.endswith('"'):
        try:
            return str(json.loads(value))
        except json.JSONDecodeError:
            return value[1:-1]
    return value


def parse_parameters(text: str) -> GenerationParameters:
    """Parse A1111 "parameters" text (imajin's or another tool's).

    Raises:
        InvalidInput: The text lacks the fields needed to regenerate (steps, seed, size).
    """
    lines = text.strip().split("\n")
    fields = {k.strip(): _unquote(v) for k, v in _A1111_FIELD.findall(lines[-1])}
    body = lines[:-1] if "Steps" in fields else lines
    if "Steps" not in fields:
        fields = {}
    prompt_lines: list[str] = []
    negative_lines: list[str] = []
    target = prompt_lines
    for line in body:
        if line.startswith("Negative prompt:"):
            target = negative_lines
            target.append(line.removeprefix("Negative prompt:").lstrip())
        else:
            target.append(line)
    try:
        width, height = (int(x) for x in fields["Size"].split("x"))
        scheduler = sampler_from_label(fields.get("Sampler", "")) or "euler"
        if (
            fields.get("Schedule type", "").lower() == "karras"
            and f"{scheduler}_karras" in SCHEDULER_NAMES
        ):
            scheduler = f"{scheduler}_karras"
        return GenerationParameters(
            prompt="\n".join(prompt_lines),
            negative_prompt="\n".join(negative_lines),
            model=fields.get("Model", "photorealistic"),
            width=width,
            height=height,
            steps=int(fields["Steps"]),
            guidance=float(fields.get("CFG scale", "7")),
            guidance_rescale=float(fields.get("CFG rescale", "0")),
            seed=int(fields["Seed"]),
            scheduler=scheduler,
        )
    except (KeyError, ValueError) as exc:
        raise InvalidInput(
            f"the image's parameters text lacks {exc} (need Steps, Seed and Size)", field="file"
        ) from exc


def _xmp_packet(params: GenerationParameters) -> bytes:
    text = html.escape(format_parameters(params))
    data = html.escape(params.model_dump_json(by_alias=True))
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" xmlns:imajin="{XMP_NAMESPACE}">'
        f"<imajin:parameters>{text}</imajin:parameters>"
        f"<imajin:json>{data}</imajin:json>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    ).encode()


def sidecar_path(image_path: Path) -> Path:
    """Where the JSON sidecar of ``image_path`` lives (``x.png`` → ``x.json``)."""
    return image_path.with_suffix(".json")


def save_image(
    image: Image.Image,
    path: Path,
    params: GenerationParameters,
    *,
    embed: bool = True,
    sidecar: bool = False,
    quality: int = 95,
) -> Path:
    """Save ``image`` as PNG or WebP (by suffix) with its parameters.

    The file is written to a temporary name and renamed, so readers never see
    half an image.

    Raises:
        InvalidInput: The suffix is neither .png nor .webp.
    """
    fmt = IMAGE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InvalidInput(
            f"cannot save {path.name}: use a .png or .webp file name", field="output"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {"quality": quality} if fmt == "WEBP" else {}
    if embed and fmt == "PNG":
        info = PngInfo()
        info.add_text(PNG_TEXT_KEY, format_parameters(params))
        info.add_itxt(PNG_JSON_KEY, params.model_dump_json(by_alias=True))
        options["pnginfo"] = info
    elif embed:
        exif = Image.Exif()
        exif[_EXIF_USER_COMMENT] = b"UNICODE\0" + format_parameters(params).encode("utf-16-be")
        options.update(xmp=_xmp_packet(params), exif=exif.tobytes())
    _write_atomically(path, lambda tmp: image.save(tmp, format=fmt, **options))
    if sidecar:
        document = params.model_dump_json(by_alias=True, indent=2) + "\n"
        _write_atomically(sidecar_path(path), lambda tmp: tmp.write_text(document, "utf-8"))
    return path


def _write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    # A crash or a failed encode leaves no half-written file under the final name,
    # and the temporary one is removed (or swept at start-up: imajin.storage.temp).
    tmp = temp_sibling(path)
    try:
        write(tmp)
        publish(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _from_json(text: str | bytes) -> GenerationParameters:
    try:
        return GenerationParameters.model_validate_json(text)
    except ValueError as exc:
        raise InvalidInput(
            f"the embedded imajin parameters are invalid: {exc}", field="file"
        ) from exc


def _embedded(image: Image.Image) -> tuple[str | None, str | None]:
    info = image.info
    if PNG_JSON_KEY in info or PNG_TEXT_KEY in info:
        return info.get(PNG_JSON_KEY), info.get(PNG_TEXT_KEY)
    xmp = info.get("xmp")
    if xmp:
        packet = xmp.decode("utf-8", "replace") if isinstance(xmp, bytes) else str(xmp)
        found = {m["name"]: html.unescape(m["value"]) for m in _XMP_FIELD.finditer(packet)}
        return found.get("json"), found.get("parameters")
    return None, None


def read_metadata(path: Path) -> GenerationParameters:
    """The generation parameters recorded for an image (or read from a ``.json`` sidecar).

    Raises:
        NotFound: The file does not exist.
        InvalidInput: It holds no generation parameters.
    """
    if not path.is_file():
        raise NotFound(f"{path} does not exist", field="file")
    if path.suffix.lower() == ".json":
        return _from_json(path.read_bytes())
    try:
        with Image.open(path) as image:
            data, text = _embedded(image)
    except OSError as exc:
        raise InvalidInput(
            f"{path.name} is not an image imajin can read: {exc}", field="file"
        ) from exc
    if data:
        return _from_json(data)
    if sidecar_path(path).is_file():
        return _from_json(sidecar_path(path).read_bytes())
    if text:
        return parse_parameters(text)
    raise InvalidInput(
        f"{path.name} holds no generation parameters (no PNG text, XMP or sidecar)", field="file"
    )
