"""Synthetic worlds the tests run on: seeded generators of firms over real or made-up
villages, each with its planted truth.

==================  ========================================================================
module              what it makes
==================  ========================================================================
``places``          the real villages of an area and their queen contiguity (shared by all)
``lattice``         square lattices of villages, firms placed in them, custom study folders
``agency``          agency-shaped registries of one regency (Tulungagung, Gianyar)
``sentra``          Jawa Timur with sentra of many shapes and two decoys
``dynamics``        Bali over three surveys, with planted sentra trends
``value_chain``     Lombok Timur with suppliers, buyers and related industries
``disclosure``      a fictional province whose cells break every disclosure rule
``demo_truth``      the demo's planted truth against what a run found (``make demo``)
``records``         random registries with repeated rows and ids
``tiled_firms``     registries where a co-location tile's halo could miss a neighbour
``stores``          kept firms as a validation leaves them (Parquet parts or one frame)
``cluster``         a two-worker ``distributed.LocalCluster`` on 127.0.0.1
``browser``         the headless Chromium the browser tests drive
==================  ========================================================================

Tests take worlds through the fixtures of ``tests/conftest.py`` or import these modules;
a test file never imports another test file.
"""
