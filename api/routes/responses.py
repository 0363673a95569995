"""The error responses routes document in OpenAPI (bodies are :class:`ErrorPublic`)."""

from typing import Any

from api.schemas import ErrorPublic

Responses = dict[int | str, dict[str, Any]]

NOT_FOUND: Responses = {404: {"model": ErrorPublic}}
INVALID: Responses = {**NOT_FOUND, 422: {"model": ErrorPublic}}
CONFLICT: Responses = {**INVALID, 409: {"model": ErrorPublic}}
UNAVAILABLE: Responses = {503: {"model": ErrorPublic}}
TOO_LARGE: Responses = {413: {"model": ErrorPublic}}
#: A route whose policy leaves out the direction (a commune account's own settings).
FORBIDDEN: Responses = {403: {"model": ErrorPublic}}
