"""``python -m binsum`` runs the ``binsum`` command."""

from _binsum_command import main

raise SystemExit(main())
