"""``python -m binsum`` runs the ``binsum`` command."""

from binsum.cli import main

raise SystemExit(main())
