"""What the typed request bodies share: the keys a body gave, for services that take a mapping.

Bodies are msgspec Structs that Litestar checks before the handler runs (a wrong type or an
unknown key is a 400 naming its field, server/errors.py), so the OpenAPI document shows
each one. A PATCH body's fields default to `UNSET`, as "not sent" differs from null (null
clears a field), and the services still check the values, with every problem at once.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.openapi.spec import OpenAPIType, Reference, Schema


def given(body: msgspec.Struct) -> dict[str, Any]:
    """The fields the client sent, by name: UNSET ones are left out, nulls kept."""
    return {
        name: value
        for name in body.__struct_fields__
        if (value := getattr(body, name)) is not msgspec.UNSET
    }


# The free-form documents (a plan, a day plan) are checked by their own parsers, which name
# every problem with its field; their OpenAPI schema is written out here instead.
STRING = Schema(type=OpenAPIType.STRING)
INTEGER = Schema(type=OpenAPIType.INTEGER)
NUMBER = Schema(type=OpenAPIType.NUMBER)
NAMES = Schema(type=OpenAPIType.ARRAY, items=STRING)


def document(title: str, properties: dict[str, Schema | Reference], required: list[str]) -> Schema:
    return Schema(type=OpenAPIType.OBJECT, title=title, properties=properties, required=required)


def text_form(what: str) -> Schema:
    """The other way to send a document: a file's text, as the CLI reads it."""
    return document(
        f"{what} file text",
        {"text": Schema(type=OpenAPIType.STRING, description="TOML or JSON"),
         "source": Schema(type=OpenAPIType.STRING, description="the file's name, for errors")},
        ["text"],
    )  # fmt: skip
