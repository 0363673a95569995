"""Domain exceptions of PSQ Secteurs.

An error is raised with a code of the message catalogue (:mod:`geo.messages`), the field
it is about and the values its sentence names::

    raise InvalidInputError("date_in_future", field="reported_on", day="16/06/2026")

Its French sentence is rendered once, from the catalogue; the error keeps ``code``,
``field``, ``values`` and ``message`` (the sentence without the field), and ``str(exc)``
is the sentence after the field's name in words (« Date du signalement : le … »). An
error raised with a sentence instead of a code (the internal ones, and those not yet in
the catalogue) keeps it as is; a leading ``field :`` names its field.
The API maps these classes to HTTP status codes once, in ``api/errors.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from geo.messages import MESSAGES, field_label, render


def _preview(values: Iterable[object], limit: int = 10) -> str:
    """Comma-separated list of the first ``limit`` values, with a count of the rest."""
    items = [str(v) for v in values]
    shown = ", ".join(items[:limit])
    if len(items) > limit:
        shown += f" … (+{len(items) - limit})"
    return shown


#: A sentence that starts with its field: ``due_on : …`` or ``due_on: …``.
_LEADING_FIELD = re.compile(r"^([a-z][a-z0-9_]*) ?: (.+)$", re.DOTALL)


class PsqError(Exception):
    """Base class of every error this project raises on purpose.

    ``PsqError(code, field=..., **values)`` with a code of :data:`geo.messages.MESSAGES`;
    ``PsqError(sentence)`` otherwise.
    """

    def __init__(self, code: str = "", /, *, field: str | None = None, **values: Any) -> None:
        if code in MESSAGES:
            self.code: str | None = code
            self.values: dict[str, object] = values
            self.message = render(code, **values)
        else:
            if values:
                raise TypeError(f"unknown message code {code!r}")
            self.code, self.values, self.message = None, {}, code
            if field is None and (leading := _LEADING_FIELD.match(code)):
                field, self.message = leading.group(1), leading.group(2)
        self.field = field
        if self.code is None:
            super().__init__(code)
        else:
            super().__init__(f"{field_label(field)} : {self.message}" if field else self.message)

    def with_values(self, **values: object) -> PsqError:
        """The same error (class, code, field) with some values changed: a service names
        what the domain only knew by code (a commune's name for its INSEE code)."""
        assert self.code is not None, "only an error of the catalogue has values"
        changed = type(self).__new__(type(self))
        PsqError.__init__(changed, self.code, field=self.field, **(self.values | values))
        return changed


class NotFoundError(PsqError):
    """A requested object does not exist."""


class ConflictError(PsqError):
    """The resource changed since the client read it (optimistic concurrency)."""


class StateConflictError(ConflictError):
    """A request valid in form that the resource's current state forbids (HTTP 409, RFC 9110
    §15.5.10): a transition not allowed from the current status, editing an adopted plan,
    acting on a closed problem or meeting, denouncing a convention already denounced."""


class PlanChangedError(ConflictError):
    """Another plan of the CSP was adopted since the adoption's preview was made."""


class UnavailableError(PsqError):
    """A tool the request needs is not installed here (e.g. Chromium to print a PDF)."""


class InvalidInputError(PsqError):
    """Input data or parameters that cannot be used as given."""


class InvalidValueError(InvalidInputError, ValueError):
    """A parameter or value outside its domain (a negative weight, a date in the future…).

    Also a :class:`ValueError`, so that callers used to NumPy's and the standard library's
    conventions catch it as one.
    """


class LayerError(InvalidInputError):
    """A vector file that cannot be imported: ``LayerError(source, code, **values)``, the
    sentence of ``code`` naming the file (``{source}``); the refused field is the upload's
    ``file``."""

    def __init__(self, source: str, code: str, **values: Any) -> None:
        self.source = source
        if code in MESSAGES:
            super().__init__(code, field="file", **(values | {"source": source}))
        else:  # a sentence not (yet) in the catalogue
            super().__init__(f"{source} : {code}")


class UnreadableLayerError(LayerError):
    """GDAL could not open or read the file."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(source, "layer_unreadable", reason=reason)


class EmptyLayerError(LayerError):
    """The file holds no feature."""

    def __init__(self, source: str, code: str = "layer_empty") -> None:
        super().__init__(source, code)


class MissingCRSError(LayerError):
    """The file declares no coordinate reference system."""

    def __init__(self, source: str) -> None:
        super().__init__(source, "layer_without_crs")


class MissingColumnsError(LayerError):
    """A required attribute column is absent."""

    def __init__(
        self, source: str, missing: Mapping[str, tuple[str, ...]], found: list[str]
    ) -> None:
        self.missing = missing
        self.found = found
        wanted = "; ".join(
            f"{role} : l'une de {', '.join(names)}" for role, names in missing.items()
        )
        super().__init__(
            source, "layer_missing_columns", wanted=wanted, found=_preview(found, 30) or "aucune"
        )


class InvalidValuesError(LayerError):
    """Attribute values that are missing, malformed or duplicated (``problem``: what is
    wrong with them, in French)."""

    def __init__(self, source: str, column: str, problem: str, values: Iterable[object]) -> None:
        self.column = column
        self.bad_values = list(values)
        super().__init__(
            source,
            "layer_bad_values",
            column=column,
            problem=problem,
            values=_preview(self.bad_values),
        )


class GeometryTypeError(LayerError):
    """Geometries of a type the layer does not accept (``expected``, in French)."""

    def __init__(self, source: str, expected: str, offenders: dict[str, str]) -> None:
        self.offenders = offenders
        listed = _preview(f"{code} ({kind})" for code, kind in offenders.items())
        super().__init__(source, "layer_geometry_type", expected=expected, offenders=listed)


class CoordinatesOutOfRangeError(LayerError):
    """Coordinates that cannot be longitudes/latitudes after reprojection."""

    def __init__(self, source: str, bounds: tuple[float, float, float, float], crs: str) -> None:
        super().__init__(
            source,
            "layer_coordinates_out_of_range",
            bounds=str(tuple(round(b, 3) for b in bounds)),
            crs=crs,
        )


class UnknownCommunesError(InvalidInputError):
    """Commune codes that are not in the territory."""

    def __init__(self, codes: Iterable[str]) -> None:
        self.codes = sorted(codes)
        super().__init__("unknown_communes", codes=_preview(self.codes))


class InfeasibleDesignError(InvalidInputError):
    """Sector-design constraints that no partition can satisfy (says which and why)."""


class DuplicateRequestError(ConflictError):
    """An open safety-study request already exists for the same site."""

    def __init__(self, existing_id: int, *, status: str, since: str) -> None:
        self.existing_id = existing_id
        super().__init__(
            "study_request_duplicate",
            field="site",
            existing_id=existing_id,
            status=status,
            since=since,
        )

    @property
    def payload(self) -> dict[str, object]:
        return {"existing_id": self.existing_id}


class TooLargeError(PsqError):
    """An uploaded file or a request body over the size allowed for its kind (HTTP 413)."""

    def __init__(self, field: str, limit_bytes: int, kind: str) -> None:
        self.field = field
        self.limit_bytes = limit_bytes
        self.kind = kind
        mb = limit_bytes / (1024 * 1024)
        shown = f"{mb:.0f}" if mb == int(mb) else f"{mb:.2f}".replace(".", ",")
        code = "body_too_large" if field == "body" else "file_too_large"
        super().__init__(code, field=field, megabytes=shown, kind=kind)

    @property
    def payload(self) -> dict[str, object]:
        return {"field": self.field, "limit_bytes": self.limit_bytes, "kind": self.kind}


class InvalidCredentialsError(PsqError):
    """A sign-in refused: the same answer for an unknown e-mail, a wrong password and a
    disabled account, so that it tells nobody which accounts exist."""

    def __init__(self, message: str = "Adresse électronique ou mot de passe incorrect.") -> None:
        super().__init__(message)


class TooManyAttemptsError(InvalidCredentialsError):
    """Sign-ins refused for a while after too many failures for an account or from an
    address (the password is not even checked)."""

    def __init__(self, minutes: int) -> None:
        self.minutes = minutes
        super().__init__(
            "Trop de tentatives de connexion échouées : réessayez dans "
            f"{minutes} minute{'s' if minutes > 1 else ''}."
        )


class AuthenticationRequiredError(PsqError):
    """The request needs a signed-in caller (a session or a bearer token) and has none
    valid: no credentials, an expired or revoked session, an unknown token."""

    def __init__(self, message: str = "Connexion requise : identifiez-vous.") -> None:
        super().__init__(message)


class ForbiddenError(PsqError):
    """The caller is known but may not do this."""


class CsrfRejectedError(ForbiddenError):
    """A write authenticated by the session cookie without the proof that it comes from
    one of the app's own pages (the ``X-CSRF-Token`` header, a same-origin ``Origin``)."""
