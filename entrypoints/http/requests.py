"""Small helpers views use to read a request through a schema."""

from __future__ import annotations

from flask import request
from marshmallow import Schema, ValidationError
from werkzeug.datastructures import FileStorage

from domain.errors import InvalidInput, Unprocessable


def load_json(schema: Schema) -> dict:
    """The JSON body loaded by ``schema``; 400 for a body that is not JSON, 422 for fields."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput("The request body must be a JSON object.")
    return _load(schema, body)


def load_args(schema: Schema) -> dict:
    """The query string loaded by ``schema``; 400 for a value out of range or malformed
    (``?page=`` past 64 bits, a NUL in ``search``): the URL itself is wrong."""
    try:
        return schema.load(request.args.to_dict())
    except ValidationError as error:
        raise InvalidInput(_sentence(error.messages)) from None


def load_form(schema: Schema) -> dict:
    return _load(schema, request.form.to_dict())


def single_file(field: str) -> FileStorage | None:
    """The one file part named ``field``, or None. Two are ambiguous (storing either would
    be a guess about what the client meant), so they are refused and neither is kept:
    the unclaimed staging objects are aborted at teardown."""
    parts = request.files.getlist(field)
    if len(parts) > 1:
        raise InvalidInput(
            f"The upload has {len(parts)} '{field}' parts; send exactly one. Nothing was stored."
        )
    return parts[0] if parts else None


def _load(schema: Schema, data: dict) -> dict:
    try:
        return schema.load(data)
    except ValidationError as error:
        raise Unprocessable(_sentence(error.messages)) from None


def _sentence(messages: dict | list) -> str:
    if isinstance(messages, dict):
        parts = [
            f"{key}: {' '.join(map(str, value)) if isinstance(value, list) else value}"
            for key, value in messages.items()
        ]
        return "Invalid request: " + "; ".join(parts)
    return "Invalid request: " + " ".join(map(str, messages))
