"""The composition root of PSQ Secteurs: the web app (:mod:`psq.app`, the JSON API of
:mod:`api` and the pages of :mod:`web`) and the ``psq`` command line (:mod:`psq.cli`).
Nothing imports this package; it imports the others."""
