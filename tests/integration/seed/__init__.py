"""The upstream integration suite (seed 000), ported to the live server harness."""
