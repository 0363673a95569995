"""What the requests' edge refuses for every route, said in the OpenAPI document too.

:func:`api.deps.refuse_control_characters` refuses any text holding a control character
(NUL…, but tab and line breaks) before a route sees it. :func:`text_rules` puts that rule
in the document as a ``pattern`` on every string a request sends (its parameters and the
strings of its body, followed through ``$ref``), unless the string already has a pattern,
a format, an enum or a constant, which say more. So a request valid by the document is
never refused for it (schemathesis's ``positive_data_acceptance``). :func:`forbid_extra_form_fields`
says that a multipart form holds only its declared fields (``additionalProperties: false``),
the rule :func:`api.uploads.refuse_unknown_form_fields` applies."""

from __future__ import annotations

from typing import Any

#: Any text without control characters but tab, line feed and carriage return: the
#: complement of ``api.deps._CONTROL``.
NO_CONTROL_CHARACTERS = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

_SAYS_MORE = ("pattern", "format", "enum", "const", "contentMediaType")


def _constrain(node: Any, components: dict[str, Any], seen: set[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _constrain(item, components, seen)
        return
    if not isinstance(node, dict):
        return
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        name = ref.rsplit("/", 1)[-1]
        if name not in seen and name in components:
            seen.add(name)
            _constrain(components[name], components, seen)
    if node.get("type") == "string" and not any(key in node for key in _SAYS_MORE):
        node["pattern"] = NO_CONTROL_CHARACTERS
    if node.get("type") == "object" and node.get("additionalProperties") is not False:
        # The names of a mapping's keys, or of a form's fields the route ignores.
        node.setdefault("propertyNames", {"pattern": NO_CONTROL_CHARACTERS})
    for key, child in node.items():
        if key not in ("examples", "example", "default", "const", "enum"):
            _constrain(child, components, seen)


def text_rules(schema: dict[str, Any]) -> None:
    """Add :data:`NO_CONTROL_CHARACTERS` to the strings the requests of ``schema`` (an
    OpenAPI document, changed in place) send."""
    components = schema.get("components", {}).get("schemas", {})
    seen: set[str] = set()
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                _constrain(parameter.get("schema"), components, seen)
            _constrain(operation.get("requestBody"), components, seen)


#: The media type of a form with files.
MULTIPART = "multipart/form-data"


def forbid_extra_form_fields(schema: dict[str, Any]) -> None:
    """Say :func:`api.uploads.refuse_unknown_form_fields`'s rule in an OpenAPI document (changed in
    place): ``additionalProperties: false`` on the schema of every multipart body."""
    components = schema.get("components", {}).get("schemas", {})
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            content = (operation.get("requestBody") or {}).get("content", {})
            body = content.get(MULTIPART, {}).get("schema", {})
            ref = body.get("$ref", "")
            target = components.get(ref.rsplit("/", 1)[-1]) if ref else body
            if isinstance(target, dict) and target.get("type", "object") == "object":
                target["additionalProperties"] = False
