"""``python -m generator`` runs the fitatlas command line."""

from generator.cli import main

raise SystemExit(main())
