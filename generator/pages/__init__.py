"""Page-context builders: one module per page kind, each turning the fit matrix (and for indexes
the settings or guides) into the typed context of ``generator.contexts``. Pure: no I/O."""
