"""Seeded fake content: Faker text for `fake:` steps, and tool-call arguments
made from a tool's JSON schema. Same seed, same result."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faker import Faker

_faker: Faker | None = None


def faker(seed: str) -> Faker:
    """The shared Faker, reseeded. Faker is imported on first use: it costs ~250 ms."""
    global _faker
    if _faker is None:
        from faker import Faker

        _faker = Faker("en_US")
    _faker.seed_instance(seed)
    return _faker


def fake_text(kind: str, count: int | None, seed: str) -> str:
    fake = faker(seed)
    if kind in ("words",):
        return " ".join(fake.words(count or 5))
    if kind == "sentences":
        return " ".join(fake.sentences(count or 3))
    if kind == "paragraphs":
        return "\n\n".join(fake.paragraphs(count or 2))
    if kind == "paragraph":
        return str(fake.paragraph(nb_sentences=count or 3))
    if kind == "sentence":
        return str(fake.sentence(nb_words=count or 6))
    if kind == "text":
        return str(fake.text(max_nb_chars=max(count or 200, 5)))
    if kind == "date":
        return str(fake.date())
    return str(getattr(fake, kind)())


# Property names that deserve a fitting value rather than a random word.
_BY_NAME: dict[str, str] = {
    "location": "city",
    "city": "city",
    "town": "city",
    "place": "city",
    "country": "country",
    "address": "address",
    "email": "email",
    "name": "name",
    "first_name": "first_name",
    "last_name": "last_name",
    "company": "company",
    "url": "url",
    "website": "url",
    "phone": "phone_number",
    "date": "date",
    "query": "sentence",
    "q": "sentence",
    "title": "sentence",
    "description": "sentence",
    "text": "sentence",
    "message": "sentence",
    "id": "uuid4",
}
_BY_FORMAT: dict[str, str] = {
    "date": "date",
    "date-time": "iso8601",
    "email": "email",
    "uri": "url",
    "url": "url",
    "uuid": "uuid4",
    "time": "time",
}


# Tool schemas come from requests, so from anyone: what they ask for is capped.
MAX_VALUES = 500  # values in one set of arguments; past it, arrays and objects stay short
MAX_ITEMS = 20  # items in one array, whatever its minItems
MAX_DEPTH = 6  # nesting of objects and arrays
_SAFE_INT = 2**53  # integer bounds are clamped to what JSON readers hold exactly


def fake_arguments(schema: Mapping[str, Any] | None, seed: str) -> dict[str, Any]:
    """Arguments that satisfy `schema` (an object schema) where the caps allow:
    every property given. Never fails on a malformed schema: it falls back."""
    fake = faker(seed)
    value = _value(schema or {"type": "object"}, "", fake, 0, [MAX_VALUES])
    return value if isinstance(value, dict) else {}


def _number(schema: Mapping[str, Any], key: str, default: float) -> float:
    """A finite numeric schema keyword, or `default` (for "x", 1e999, true...)."""
    value = schema.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return default
    if value in (float("inf"), float("-inf")):
        return default
    return float(value)


def _value(schema: Mapping[str, Any], name: str, fake: Faker, depth: int, budget: list[int]) -> Any:
    budget[0] -= 1
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return fake.random_element(schema["enum"])
    for union in ("anyOf", "oneOf", "allOf"):
        options = schema.get(union)
        if isinstance(options, list) and options and isinstance(options[0], Mapping):
            return _value(options[0], name, fake, depth + 1, budget) if depth < MAX_DEPTH else None
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        properties = schema.get("properties")
        if depth >= MAX_DEPTH or not isinstance(properties, Mapping):
            return {}
        out = {}
        for key, sub in properties.items():
            if budget[0] <= 0:
                break
            out[str(key)] = _value(sub if isinstance(sub, Mapping) else {}, str(key), fake, depth + 1, budget)
        return out
    if kind == "array":
        if depth >= MAX_DEPTH:
            return []
        low = int(min(max(_number(schema, "minItems", 1), 0), MAX_ITEMS))
        high = int(min(max(low, _number(schema, "maxItems", 3)), low + 2, MAX_ITEMS))
        count = min(fake.random_int(low, high), max(budget[0], 0))
        items = schema.get("items")
        sub = items if isinstance(items, Mapping) else {}
        return [_value(sub, name, fake, depth + 1, budget) for _ in range(count)]
    if kind == "integer":
        first = int(min(max(_number(schema, "minimum", 0), -_SAFE_INT), _SAFE_INT))
        last = int(min(max(_number(schema, "maximum", max(first, 0) + 100), -_SAFE_INT), _SAFE_INT))
        return fake.random_int(first, last) if last >= first else first
    if kind == "number":
        least = _number(schema, "minimum", 0)
        most = _number(schema, "maximum", least + 100)
        if not (abs(least) < 1e15 and abs(most) < 1e15) or most <= least:
            return least if abs(least) < 1e15 else 0.0
        return round(fake.pyfloat(min_value=least, max_value=most), 2)
    if kind == "boolean":
        return fake.boolean()
    if kind == "null":
        return None
    return _string(schema, name, fake)


def _string(schema: Mapping[str, Any], name: str, fake: Faker) -> str:
    provider = _BY_FORMAT.get(str(schema.get("format", ""))) or _BY_NAME.get(name.lower())
    if provider is None:
        lowered = name.lower()
        provider = next((p for key, p in _BY_NAME.items() if key in lowered and len(key) > 2), "word")
    text = str(getattr(fake, provider)())
    max_length = schema.get("maxLength")
    return (
        text[: max(max_length, 0)]
        if isinstance(max_length, int) and not isinstance(max_length, bool)
        else text
    )
