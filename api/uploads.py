"""Uploaded files, written to a temporary path that GDAL can read."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import UploadFile


@contextmanager
def uploaded_file(file: UploadFile, default_name: str = "upload.geojson") -> Iterator[Path]:
    """The upload saved under its own suffix (GDAL picks the driver from it); removed after."""
    suffix = Path(file.filename or default_name).suffix or Path(default_name).suffix
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        with path.open("wb") as out:
            shutil.copyfileobj(file.file, out)
        yield path
