"""``python -m molq.cli``: the same as the ``molq`` script."""

from molq.cli import main

raise SystemExit(main())
