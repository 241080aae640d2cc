"""Input and output files of SPEC.md."""
