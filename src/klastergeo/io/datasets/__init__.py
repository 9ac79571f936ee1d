"""Seeded synthetic datasets: :mod:`klastergeo.io.datasets.demo`, the demo registry over
Jawa Tengah's villages with its planted truth (``klastergeo demo`` runs the pipeline on
it)."""
