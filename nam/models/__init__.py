"""Energy models (public names are re-exported from `nam`)."""
