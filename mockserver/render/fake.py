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


def fake_arguments(schema: Mapping[str, Any] | None, seed: str) -> dict[str, Any]:
    """Arguments that satisfy `schema` (an object schema): every property given."""
    fake = faker(seed)
    value = _value(schema or {"type": "object"}, "", fake, depth=0)
    return value if isinstance(value, dict) else {}


def _value(schema: Mapping[str, Any], name: str, fake: Faker, depth: int) -> Any:
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return fake.random_element(schema["enum"])
    for union in ("anyOf", "oneOf", "allOf"):
        options = schema.get(union)
        if isinstance(options, list) and options and isinstance(options[0], Mapping):
            return _value(options[0], name, fake, depth)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        if depth > 5:
            return {}
        properties = schema.get("properties")
        if not isinstance(properties, Mapping):
            return {}
        return {
            key: _value(sub if isinstance(sub, Mapping) else {}, key, fake, depth + 1)
            for key, sub in properties.items()
        }
    if kind == "array":
        items = schema.get("items")
        low = int(schema.get("minItems", 1))
        high = max(low, min(int(schema.get("maxItems", 3)), low + 2))
        count = fake.random_int(low, high)
        sub = items if isinstance(items, Mapping) else {}
        return [_value(sub, name, fake, depth + 1) for _ in range(count)] if depth <= 5 else []
    if kind == "integer":
        first = int(schema.get("minimum", 0))
        return fake.random_int(first, int(schema.get("maximum", max(first, 0) + 100)))
    if kind == "number":
        least = float(schema.get("minimum", 0))
        most = float(schema.get("maximum", least + 100))
        return round(fake.pyfloat(min_value=least, max_value=most) if most > least else least, 2)
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
    return text[: int(max_length)] if isinstance(max_length, int) else text
