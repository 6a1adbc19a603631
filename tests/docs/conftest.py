"""The tests of the built documentation site run only where a site was built: `.ci/run` builds it
(``mkdocs build --strict``, with the docs extra) and then runs ``pytest tests/docs`` with
``GSPOLICY_SITE`` naming the site folder.  Without that variable these tests are not collected at
all (never skipped): the main suite builds no site and its CPU budget does not pay for one.

To run them by hand::

    pip install -e ".[docs]" && mkdocs build --strict && GSPOLICY_SITE=site python -m pytest tests/docs
"""

from __future__ import annotations

import os

collect_ignore_glob = [] if os.environ.get("GSPOLICY_SITE") else ["test_*.py"]
