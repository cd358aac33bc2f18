"""``python -m cnnviz``: see :mod:`cnnviz.cli`."""

from cnnviz.cli import main

raise SystemExit(main())
