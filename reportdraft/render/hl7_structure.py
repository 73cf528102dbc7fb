"""Fast structural validation of the ORU^R01 messages ``render/hl7.py`` writes.

hl7apy's strict parse builds an object per segment, field and component and took 96 % of
an HL7 rendering (148 of 154 ms per report, ``bench/results/render.json``). Every message
we send is checked here instead, in well under a millisecond, against HL7 v2.5.1 as
``data/render/hl7_v251_oru.yaml`` spells it (hl7apy's own tables for the segments we
use; a test keeps the two equal):

* the message starts with ``MSH|^~\\&|``, has the configured message type and version;
* every segment id is one of ours and the segments come in ORU^R01 order;
* no segment has more fields than v2.5.1 defines, every required field is there, no field
  repeats more than it may;
* every field, component and subcomponent holds no more parts than its data type has, and
  every primitive value fits its type (length; the pattern of NM, SI, DT, TM, DTM).

The ED payload (the PDF) is checked as base64 instead of by length, as the strict path
does. hl7apy's strict parse stays available (``render_hl7(strict=True)``, ``reportdraft
render --strict``) and the tests parse every message back with it.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from dataclasses import dataclass

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from reportdraft.errors import ConfigurationError, RenderError
from reportdraft.resources import package_data

FIELD, REPETITION, COMPONENT, SUBCOMPONENT = "|", "~", "^", "&"
ENCODING = "^~\\&"
VARIES = "varies"


class _Primitive(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_length: int | None = None
    pattern: str | None = None


class _Spec(BaseModel):
    """The YAML file's schema."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    message_type: str
    order: str
    primitives: dict[str, _Primitive]
    composites: dict[str, list[str]]
    segments: dict[str, list[tuple[str, int, int]]]

    @model_validator(mode="after")
    def _types_are_defined(self) -> _Spec:
        known = {*self.primitives, *self.composites, VARIES}
        named = [t for parts in self.composites.values() for t in parts]
        named += [field[0] for fields in self.segments.values() for field in fields]
        unknown = sorted(set(named) - known)
        if unknown:
            raise ValueError(f"types used but not defined: {unknown}")
        if any(len(name) != 3 or not name.isupper() for name in self.segments):
            raise ValueError("segment ids are three upper-case letters")
        re.compile(self.order)
        return self


@dataclass(frozen=True)
class _Field:
    type: str
    required: bool
    max_repeats: int  # -1: any number


class Structure:
    """A compiled message structure: :meth:`problems` lists what is wrong with a message."""

    def __init__(self, spec: _Spec) -> None:
        self.version = spec.version
        self.message_type = spec.message_type
        self.order = re.compile(spec.order)
        self.composites = spec.composites
        self.max_length = {k: p.max_length for k, p in spec.primitives.items()}
        self.patterns = {
            k: re.compile(p.pattern) for k, p in spec.primitives.items() if p.pattern is not None
        }
        self.segments = {
            name: [_Field(t, lo >= 1, hi) for t, lo, hi in fields]
            for name, fields in spec.segments.items()
        }

    def problems(self, message: str) -> list[str]:
        """Every structural problem of ``message`` (ER7, ``\\r`` between segments)."""
        if not message.startswith(f"MSH{FIELD}{ENCODING}{FIELD}"):
            return [f"a message starts with MSH{FIELD}{ENCODING}{FIELD}"]
        segments = message.split("\r")
        out: list[str] = []
        ids: list[str] = []
        for number, segment in enumerate(segments, start=1):
            name = segment[:3]
            ids.append(name)
            if name not in self.segments or (len(segment) > 3 and segment[3] != FIELD):
                out.append(f"segment {number}: unknown segment {segment[:8]!r}")
                continue
            out += self._segment(f"{name} (segment {number})", name, segment.split(FIELD))
        if not self.order.fullmatch("".join(ids)):
            out.append(f"segments out of ORU^R01 order: {' '.join(ids)}")
        msh = segments[0].split(FIELD)
        if len(msh) > 11 and msh[8] != self.message_type:
            out.append(f"MSH-9 is {msh[8]!r}, not {self.message_type}")
        if len(msh) > 11 and msh[11] != self.version:
            out.append(f"MSH-12 is {msh[11]!r}, not {self.version}")
        return out

    def check(self, message: str) -> None:
        """Raise :class:`RenderError` naming the problems when ``message`` has any."""
        problems = self.problems(message)
        if problems:
            shown = "; ".join(problems[:3]) + (
                f" (+{len(problems) - 3} more)" * (len(problems) > 3)
            )
            raise RenderError(f"HL7 ORU^R01 failed structural validation: {shown}")

    def _segment(self, where: str, name: str, parts: list[str]) -> list[str]:
        fields = self.segments[name]
        # MSH-1 is the field separator itself and MSH-2 the encoding characters: the
        # values after "MSH" start at MSH-2, so MSH field n is parts[n - 1].
        values = ["", FIELD, *parts[1:]] if name == "MSH" else parts
        out: list[str] = []
        if len(values) - 1 > len(fields):
            out.append(f"{where}: {len(values) - 1} fields, v2.5.1 defines {len(fields)}")
        values += [""] * (len(fields) + 1 - len(values))
        obx_type = values[2] if name == "OBX" else ""
        for index, spec in enumerate(fields, start=1):
            value = values[index]
            label = f"{where} {name}-{index}"
            if not value:
                if spec.required:
                    out.append(f"{label}: required field is empty")
                continue
            if name == "MSH" and index <= 2:
                continue  # the delimiters, checked at the start
            repeats = value.split(REPETITION)
            if spec.max_repeats != -1 and len(repeats) > spec.max_repeats:
                out.append(f"{label}: {len(repeats)} repetitions, at most {spec.max_repeats}")
            kind = spec.type
            if kind == VARIES:
                kind = (
                    obx_type if obx_type in self.composites or obx_type in self.max_length else "ST"
                )
            for repeat in repeats:
                if kind == "ED":
                    out += self._ed(label, repeat)
                else:
                    out += self._value(label, kind, repeat, COMPONENT)
        return out

    def _value(self, label: str, kind: str, value: str, separator: str) -> list[str]:
        if kind not in self.composites:
            return self._primitive(label, kind, value)
        if separator == "":
            # A composite below the subcomponent level can only carry its first part.
            return self._value(label, self.composites[kind][0], value, "")
        parts = value.split(separator)
        components = self.composites[kind]
        if len(parts) > len(components):
            return [f"{label}: {len(parts)} parts, {kind} has {len(components)}"]
        deeper = SUBCOMPONENT if separator == COMPONENT else ""
        out: list[str] = []
        for number, (part, part_kind) in enumerate(zip(parts, components, strict=False), start=1):
            if part:
                out += self._value(f"{label}.{number}", part_kind, part, deeper)
        return out

    def _primitive(self, label: str, kind: str, value: str) -> list[str]:
        limit = self.max_length.get(kind)
        if limit is not None and len(value) > limit:
            return [f"{label}: {kind} longer than {limit} characters ({len(value)})"]
        pattern = self.patterns.get(kind)
        if pattern is not None and not pattern.fullmatch(value):
            return [f"{label}: {value[:40]!r} is not a valid {kind}"]
        return []

    def _ed(self, label: str, value: str) -> list[str]:
        """ED (encapsulated data): the header components by type, the data as base64."""
        parts = value.split(COMPONENT)
        components = self.composites["ED"]
        if len(parts) > len(components):
            return [f"{label}: {len(parts)} parts, ED has {len(components)}"]
        out: list[str] = []
        for number, (part, kind) in enumerate(zip(parts[:-1], components, strict=False), start=1):
            if part:
                out += self._value(f"{label}.{number}", kind, part, SUBCOMPONENT)
        if len(parts) == len(components) and not is_base64(parts[-1]):
            out.append(f"{label}.{len(components)}: ED data is not base64")
        return out


def is_base64(text: str) -> bool:
    """True when ``text`` is strict base64 (the ED payload of the PDF)."""
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


@functools.cache
def oru_structure() -> Structure:
    """The bundled ORU^R01 structure (validated on first use; a broken file fails loudly)."""
    path = package_data("render", "hl7_v251_oru.yaml")
    try:
        spec = _Spec.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError, re.error) as exc:
        raise ConfigurationError(f"HL7 structure {path} is invalid: {exc}") from None
    return Structure(spec)
